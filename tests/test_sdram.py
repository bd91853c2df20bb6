"""SDRAM controller (boards/ulx3s/sdram.py) and SDRAM model (sim/sdram_model.py).

* configuration: cycle counts and the refusal of invalid values;
* the model alone, driven by hand-written pin sequences: a legal sequence with 8-word
  bursts and DQM gives the right data and no violation; each broken rule is reported as
  exactly that violation;
* the controller's Verilog under cocotb against the model: seeded random bursts with
  refresh and back-pressure (0 data errors, 0 violations, refresh count matching the time);
  controllers built with one timing deliberately short are caught by the model.

The simulations use ``t_powerup=2000`` ns instead of the datasheet's 200 us: the wait is
one counter, exercised the same way whatever its length, and 20,000 idle cycles per test
would cost more than the test itself.
"""

import json
from pathlib import Path

import pytest

from boards.ulx3s.sdram import SdramConfig, SdramController
from sim.sdram_model import SdramModel
from sim.sdram_timing import SdramViolationError

TB = Path(__file__).parent / "cocotb_sdram_tb.py"


# --- configuration ---------------------------------------------------------------------

def test_init_cycle_counts_at_50_and_100_mhz():
    c100 = SdramConfig(clk_freq=100e6).cycles()
    assert c100 == {"t_rcd": 3, "t_rp": 3, "t_ras": 5, "t_rc": 7, "t_rfc": 7, "t_wr": 2,
                    "t_mrd": 2, "t_refi": 781, "t_powerup": 20000, "cas_latency": 3,
                    "refresh_period": 751}
    c50 = SdramConfig(clk_freq=50e6, cas_latency=2).cycles()
    assert c50 == {"t_rcd": 2, "t_rp": 2, "t_ras": 3, "t_rc": 4, "t_rfc": 4, "t_wr": 1,
                   "t_mrd": 2, "t_refi": 390, "t_powerup": 10000, "cas_latency": 2,
                   "refresh_period": 370}
    # exact multiples are not rounded up by float error; tREFI rounds down
    assert SdramConfig(clk_freq=50e6, t_rcd=20.0).cycles_of("t_rcd") == 1
    assert SdramConfig(clk_freq=50e6, t_refi=7819.0).cycles_of("t_refi") == 390
    c = SdramConfig(clk_freq=100e6, col_bits=10)
    assert c.addr_bits == 25 and c.mode_register == 0x30


@pytest.mark.parametrize("kwargs, name", [
    (dict(clk_freq=0), "clk_freq"),
    (dict(clk_freq=200e6), "clk_freq"),
    (dict(clk_freq="100e6"), "clk_freq"),
    (dict(clk_freq=100e6, cas_latency=1), "cas_latency"),
    (dict(clk_freq=100e6, cas_latency=2.0), "cas_latency"),
    (dict(clk_freq=100e6, t_rcd=0), "t_rcd"),
    (dict(clk_freq=100e6, t_rp=-1), "t_rp"),
    (dict(clk_freq=100e6, t_ras=float("nan")), "t_ras"),
    (dict(clk_freq=100e6, t_rc=30.0), "t_rc"),
    (dict(clk_freq=100e6, t_rfc=True), "t_rfc"),
    (dict(clk_freq=100e6, t_wr=None), "t_wr"),
    (dict(clk_freq=100e6, t_mrd=-2), "t_mrd"),
    (dict(clk_freq=100e6, t_refi=200.0), "t_refi"),
    (dict(clk_freq=100e6, t_powerup=-1), "t_powerup"),
    (dict(clk_freq=100e6, init_refreshes=1), "init_refreshes"),
    (dict(clk_freq=100e6, col_bits=11), "col_bits"),
])
def test_init_wrong_values_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        SdramConfig(**kwargs)


def test_init_wrong_is_keyword_only():
    with pytest.raises(TypeError):
        SdramConfig(100e6)


def test_init_wrong_controller_arguments():
    cfg = SdramConfig(clk_freq=100e6)
    with pytest.raises(TypeError, match="SdramConfig"):
        SdramController({"clk_freq": 100e6})
    with pytest.raises(ValueError, match="length_bits"):
        SdramController(cfg, length_bits=0)
    with pytest.raises(ValueError, match="read_buffer"):
        SdramController(cfg, read_buffer=2)
    with pytest.raises(ValueError, match="t_rdc"):
        SdramController(cfg, _cycle_overrides={"t_rdc": 1})
    with pytest.raises(ValueError, match="t_rcd"):
        SdramController(cfg, _cycle_overrides={"t_rcd": 0})


# --- the model alone, hand-driven --------------------------------------------------------

P = 10.0          # ns: 100 MHz
NOP = dict(cs=1, ras=0, cas=0, we=0)
CMD = {"ACTIVE": dict(cs=1, ras=1, cas=0, we=0), "READ": dict(cs=1, ras=0, cas=1, we=0),
       "WRITE": dict(cs=1, ras=0, cas=1, we=1), "PRECHARGE": dict(cs=1, ras=1, cas=0, we=1),
       "REFRESH": dict(cs=1, ras=1, cas=1, we=0), "MODE": dict(cs=1, ras=1, cas=1, we=1),
       "BST": dict(cs=1, ras=0, cas=0, we=1)}


class Pins:
    """Drive a model edge by edge: ``nop(n)``, ``cmd(name, ...)``; collects what it drives."""

    def __init__(self, **model_kwargs):
        kwargs = dict(period_ns=P, powerup_ns=1000.0)
        kwargs.update(model_kwargs)
        self.model = SdramModel(**kwargs)
        self.out = {}            # edge -> (value, mask) the SDRAM drove

    def _edge(self, pins, ba=0, a=0, dqm=0, dq=None):
        nxt = self.model.edge(**pins, ba=ba, a=a, dqm=dqm, dq_o=dq or 0, dq_oe=int(dq is not None))
        if nxt is not None:
            self.out[self.model.edge_index + 1] = nxt

    def nop(self, n=1, dq=None, dqm=0):
        for _ in range(n):
            self._edge(NOP, dq=dq, dqm=dqm)

    def cmd(self, name, ba=0, a=0, dqm=0, dq=None, gap=0):
        self._edge(CMD[name], ba=ba, a=a, dqm=dqm, dq=dq)
        self.nop(gap)
        return self.model.edge_index

    def init(self, mode=0x30):
        """Legal initialisation at 100 MHz: 1 us NOP, PRECHARGE ALL, 2 REFRESH, MODE."""
        self.nop(100)
        self.cmd("PRECHARGE", a=1 << 10, gap=2)
        self.cmd("REFRESH", gap=6)
        self.cmd("REFRESH", gap=6)
        self.cmd("MODE", a=mode, gap=1)
        assert self.model.initialised and not self.model.violations
        return self


def test_model_legal_bursts_dqm_and_cas_latency():
    """BL 8 sequential, CL 2: a wrapped write burst, a byte masked by DQM, a read burst
    interrupted by another READ, read DQM (latency 2); data and timing as the datasheet."""
    p = Pins().init(mode=0x23)                     # CL 2, BL 8
    p.cmd("ACTIVE", ba=1, a=77, gap=2)             # tRCD 21 ns -> 3 edges
    data = [0x1000 + i for i in range(8)]
    p.cmd("WRITE", ba=1, a=5, dq=data[0])          # columns 5,6,7,0,1,2,3,4 (wrap in 8)
    for i, d in enumerate(data[1:], 1):
        p.nop(dq=d, dqm=0b10 if i == 3 else 0)     # beat 3 (column 0): upper byte masked
    mem = p.model.mem
    assert [mem[(1, 77, c)] for c in (5, 6, 7, 1, 2, 3, 4)] == [data[i] for i in (0, 1, 2, 4, 5, 6, 7)]
    assert mem[(1, 77, 0)] == 0x1003 & 0x00FF      # written over 0: upper byte kept
    p.nop(2)
    r = p.cmd("READ", ba=1, a=0)
    p.nop(3)
    r2 = p.cmd("READ", ba=1, a=2)                  # interrupts the first burst after 4 beats
    p.nop(1, dqm=0b01)                             # masks the low byte 2 edges later
    p.nop(12)
    got = [p.out[r + 2 + i][0] for i in range(4)]
    assert got == [mem[(1, 77, c)] for c in (0, 1, 2, 3)]
    assert p.out[r2 + 2][0] == mem[(1, 77, 2)]
    assert p.out[r2 + 3] == (mem[(1, 77, 3)] & 0xFF00, 0xFF00)     # DQM at r2+1 masks r2+3
    assert r + 2 + 4 == r2 + 2 and len([e for e in p.out if e > r2 + 2 + 7]) == 0
    p.cmd("PRECHARGE", a=1 << 10, gap=2)
    p.model.finish()


def test_model_full_page_burst_terminate_interleaved_and_precharge_truncation():
    """Full-page bursts wrap within the row and stop at BURST TERMINATE (write: the BST
    edge's data is not written; read: CL - 1 words after it); an interleaved BL 4 burst
    runs 1, 0, 3, 2; a PRECHARGE cuts a read burst after CL - 1 more words."""
    p = Pins().init(mode=0x37)                     # CL 3, full page, sequential
    p.cmd("ACTIVE", ba=2, a=9, gap=2)
    p.cmd("WRITE", ba=2, a=510, dq=0xA0)           # columns 510, 511, 0, ...
    p.nop(dq=0xA1)
    p.nop(dq=0xA2)
    p.cmd("BST", dq=0xA3)
    p.nop(3, dq=0xA4)
    mem = p.model.mem
    assert [mem[(2, 9, c)] for c in (510, 511, 0)] == [0xA0, 0xA1, 0xA2]
    assert (2, 9, 1) not in mem
    r = p.cmd("READ", ba=2, a=510)
    p.nop()
    p.cmd("BST")                                   # at r + 2: words at r + 3, r + 4 only
    p.nop(8)
    assert sorted(e for e in p.out if e > r) == [r + 3, r + 4]
    assert [p.out[r + 3][0], p.out[r + 4][0]] == [0xA0, 0xA1]
    p.cmd("PRECHARGE", a=1 << 10, gap=2)
    p.cmd("MODE", a=0x2A, gap=1)                   # CL 2, interleaved, BL 4
    p.cmd("ACTIVE", ba=2, a=9, gap=4)
    r = p.cmd("READ", ba=2, a=1)                   # columns 1, 0, 3, 2
    p.nop()
    p.cmd("PRECHARGE", ba=2)                       # at r + 2: words at r + 2, r + 3 only
    p.nop(8)
    assert sorted(e for e in p.out if e > r) == [r + 2, r + 3]
    assert p.out[r + 2][0] == p.model.initial_word(2, 9, 1) and p.out[r + 3][0] == 0xA2
    p.model.finish()


def _violation(build, **model_kwargs):
    p = Pins(**model_kwargs).init()
    build(p)
    return p.model.kinds()


@pytest.mark.parametrize("kind, build, model_kwargs", [
    ("tRCD", lambda p: (p.cmd("ACTIVE", gap=1), p.cmd("READ")), {}),
    ("tRAS", lambda p: (p.cmd("ACTIVE", gap=2), p.cmd("PRECHARGE")), {}),
    ("tRP", lambda p: (p.cmd("ACTIVE", gap=7), p.cmd("PRECHARGE", gap=1), p.cmd("ACTIVE")), {}),
    # with the default times tRC = tRAS + tRP, so a model with a longer tRC shows it alone
    ("tRC", lambda p: (p.cmd("ACTIVE", gap=4), p.cmd("PRECHARGE", gap=2), p.cmd("ACTIVE")),
     dict(t_rc=90.0)),
    ("tRRD", lambda p: (p.cmd("ACTIVE", ba=0), p.cmd("ACTIVE", ba=1)), {}),
    ("tRFC", lambda p: (p.cmd("REFRESH", gap=3), p.cmd("ACTIVE")), {}),
    ("tWR", lambda p: (p.cmd("ACTIVE", gap=5), p.cmd("WRITE", dq=1), p.cmd("PRECHARGE")), {}),
    ("tMRD", lambda p: (p.cmd("MODE", a=0x30), p.cmd("ACTIVE")), {}),
    ("tREFI", lambda p: p.nop(800), {}),
    ("tRASmax", lambda p: (p.cmd("ACTIVE"), p.nop(60)), dict(t_ras_max=500.0)),
    ("no_open_row", lambda p: p.cmd("READ", ba=2), {}),
    ("bank_open", lambda p: (p.cmd("ACTIVE", gap=7), p.cmd("ACTIVE")), {}),
    ("refresh_open", lambda p: (p.cmd("ACTIVE", gap=7), p.cmd("REFRESH")), {}),
    ("dq_contention", lambda p: (p.cmd("ACTIVE", gap=3), p.cmd("READ", gap=2), p.nop(dq=5)), {}),
    ("unsupported", lambda p: (p.cmd("ACTIVE", gap=3), p.cmd("READ", a=1 << 10)), {}),
])
def test_model_catches_exactly_the_violation(kind, build, model_kwargs):
    assert set(_violation(build, **model_kwargs)) == {kind}


def test_model_catches_commands_before_initialisation():
    p = Pins()
    p.nop(10)
    p.cmd("PRECHARGE", a=1 << 10)                  # before the 1000 ns power-up wait
    assert set(p.model.kinds()) == {"init"}
    p = Pins()
    p.nop(100)
    p.cmd("PRECHARGE", a=1 << 10, gap=2)
    p.cmd("REFRESH", gap=6)
    p.cmd("MODE", a=0x30, gap=1)                   # only one REFRESH so far
    p.cmd("ACTIVE")
    assert set(p.model.kinds()) == {"init"} and not p.model.initialised
    with pytest.raises(SdramViolationError, match="init"):
        p.model.finish()


def test_model_refresh_window():
    """Scaled down: 4 rows in a 2 us window, tREFI 1 us: a refresh every 900 ns keeps it,
    and with 3 rows in that window a refresh every 950 ns does not (only 2 per window)."""
    p = Pins(t_refi=1000.0, refresh_window=2000.0, rows=2).init()
    for _ in range(8):
        p.nop(89)
        p.cmd("REFRESH")
    assert not p.model.violations
    p = Pins(t_refi=1000.0, refresh_window=2000.0, rows=3).init()
    for _ in range(8):
        p.nop(94)
        p.cmd("REFRESH")
    assert set(p.model.kinds()) == {"refresh_window"}


# --- the controller under cocotb ----------------------------------------------------------

SIM_100 = dict(clk_freq=100e6, cas_latency=3, t_powerup=2000.0)
SIM_50 = dict(clk_freq=50e6, cas_latency=2, t_powerup=2000.0)


def _run(tmp_path, name, config, *, overrides=None, n_requests=100, max_len=48, seed=0,
         expect=(), testcase="stress"):
    from sim.runner import run_cocotb

    dut = SdramController(SdramConfig(**config), _cycle_overrides=overrides)
    return run_cocotb(dut, TB, build_dir=tmp_path / name, toplevel="top", testcase=testcase,
                      extra_env={"SDRAM_CONFIG": json.dumps(config),
                                 "OVERRIDES": json.dumps(overrides or {}),
                                 "N_REQUESTS": str(n_requests), "MAX_LEN": str(max_len),
                                 "SEED": str(seed), "EXPECT": json.dumps(sorted(expect))})


def test_cocotb_stress_100mhz(tmp_path):
    """100 MHz, CL 3: seeded random bursts over three regions (row and bank crossings),
    refresh running, back-pressure; 0 data errors, 0 violations, refresh count ~ time.
    Then sequential throughput, and refresh while a request is stalled on either stream."""
    _run(tmp_path, "stress100", SIM_100, n_requests=120, seed=1,
         testcase=["stress", "throughput", "refresh_under_stall"])


def test_cocotb_stress_50mhz_cl2(tmp_path):
    _run(tmp_path, "stress50", SIM_50, n_requests=60, seed=2,
         testcase=["stress", "throughput", "refresh_under_stall"])


# At 100 MHz tRCD and tRP are 3 cycles (21 ns); 2 cycles are 20 ns.  A refresh period of
# 800 cycles is longer than tREFI (7812.5 ns = 781 cycles).  (tRAS and tWR cannot be shown
# this way: the controller's own pipeline already spaces ACTIVE -> PRECHARGE by 5 cycles and
# WRITE -> PRECHARGE by 2, whatever the counter says.)
BROKEN = [({"t_rcd": 2}, "tRCD"), ({"refresh_period": 800}, "tREFI"),
          pytest.param({"t_rp": 2}, "tRP", marks=pytest.mark.slow)]


@pytest.mark.parametrize("override, kind", BROKEN)
def test_cocotb_model_catches_a_broken_controller(tmp_path, override, kind):
    """A controller built with one timing short: the model reports exactly that kind."""
    _run(tmp_path, kind, SIM_100, overrides=override, n_requests=40, seed=3, expect={kind})


@pytest.mark.slow
def test_cocotb_stress_long(tmp_path):
    for seed in (10, 11):
        _run(tmp_path / str(seed), "stress100", SIM_100, n_requests=3000, max_len=96, seed=seed)
    _run(tmp_path, "stress50", SIM_50, n_requests=2000, max_len=96, seed=12)


@pytest.mark.slow
def test_cocotb_stress_64mb_part(tmp_path):
    """The 64 MB part's geometry (10 column bits): rows of 1024 words, 25-bit addresses."""
    _run(tmp_path, "stress64mb", dict(SIM_100, col_bits=10), n_requests=300, max_len=64, seed=4,
         testcase=["stress", "refresh_under_stall"])
