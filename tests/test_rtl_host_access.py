"""Host access (rtl/host_access.py) in Amaranth's simulator against the command model: the
component on its own (its parameters; READs and WRITEs of every memory kind, answered as
:class:`golden.command_model.CoreModel` answers them) and inside the core.

The PARAM entries' range has one home, :func:`golden.protocol.lr_shift_range`; these tests
write every 5-bit value to both entries and check that the RTL and the command model
(:class:`golden.command_model.CoreModel`) give the same answer, word for word.
"""

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.command_model import CoreModel
from golden.config import preset
from golden.protocol import Mem, Op, Status, command_words, lr_shift_range, parse_response
from rtl.core import Core
from rtl.host_access import HostAccess
from rtl.learning_rates import LearningRates
from rtl.memories import CoreMemories
from rtl.noise import LfsrBank
from sim.pysim import run_commands
from sim.scenario import Scoreboard

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")

SMALL = dict(n_inputs=5, hidden=(4,), n_outputs=2, lanes=2, timesteps=2)
CONFIGS = {
    # the total shift (lr + 13, lr + 11) reaches 31 before lr reaches 24
    "total_shift_bound": dict(SMALL, trace_frac_bits=16, trace_bits=17),
    # a negative base: the hidden rate must be at least 7
    "negative_base": dict(SMALL, signal_frac_bits=0, hidden_lr_shift=8),
    "digits_widths": dict(SMALL),
}


def _param_commands():
    cmds = []
    for row in (0, 1):
        for value in range(32):
            cmds += [command_words(Op.WRITE, mem=Mem.PARAM, row=row, col=0, value=value),
                     command_words(Op.READ, mem=Mem.PARAM, row=row, col=0)]
    return cmds


def test_lr_shift_range_by_hand():
    cfg = preset("digits", **CONFIGS["total_shift_bound"])
    assert lr_shift_range(cfg, 0) == (0, 31 - 13) and lr_shift_range(cfg, 1) == (0, 31 - 11)
    cfg = preset("digits", **CONFIGS["negative_base"])
    assert lr_shift_range(cfg, 0) == (7, 24)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_command_model_answers_every_param_write(name):
    """Every value 0..31 is answered (no exception), OK exactly inside the range."""
    cfg = preset("digits", **CONFIGS[name])
    model = CoreModel(cfg)
    for row in (0, 1):
        lo, hi = lr_shift_range(cfg, row)
        for value in range(32):
            words = [w for cmd_word in command_words(Op.WRITE, mem=Mem.PARAM, row=row, col=0, value=value)
                     for w in model.feed(cmd_word)]
            _, status, _ = parse_response(words[0])
            assert status == (Status.OK if lo <= value <= hi else Status.ERR_VALUE), (row, value)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_param_write_of_every_value_matches_the_command_model(name):
    cfg = preset("digits", **CONFIGS[name])
    board = Scoreboard(cfg)
    run_commands(Core(cfg), _param_commands(), board, seed=1, idle=0.2, backpressure=0.2)
    assert not board.mismatches, board.report()
    assert board.checked == len(board.expected) == 2 * 32 * 3
    writes = [status for k, (_, status, _) in enumerate(board.headers) if k % 2 == 0]
    assert Status.OK in writes and Status.ERR_VALUE in writes


# --- the component on its own -----------------------------------------------------------------

TWO_LAYERS = dict(n_inputs=5, hidden=(4, 3), n_outputs=3, lanes=2, timesteps=2)


def test_init():
    cfg = preset("digits", **TWO_LAYERS)
    unit = HostAccess(cfg=cfg)
    assert unit.read_names == ("weights_0", "weights_1", "feedback_0", "feedback_1", "readout",
                               "membrane_0", "membrane_1", "trace_0", "trace_1", "trace_2")
    assert unit.write_names == ("weights_0", "weights_1", "feedback_0", "feedback_1", "readout")
    assert len(unit.spikes) == 4 + 4 and len(unit.baseline) == 3 and len(unit.lfsr_sel) == 2
    assert len(unit.reads.weights_0.addr) == 1 + 3 and len(unit.reads.weights_0.data) == 2 * cfg.weight_bits
    assert len(unit.writes.feedback_1.en) == 2 and len(unit.reads.trace_0.addr) == 2
    Fragment.get(unit, None)                                           # elaborates


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        HostAccess(cfg="digits")


def test_init_positional():
    with pytest.raises(TypeError):
        HostAccess(preset("digits"))


def _bench(cfg):
    """The unit with the memories, the LFSR bank, the PARAM registers and baseline registers
    on its ports, as rtl/core.py wires them."""
    m = Module()
    memories = CoreMemories(m, cfg)
    m.submodules.host = host = HostAccess(cfg=cfg)
    m.submodules.lfsr = lfsr = LfsrBank(cfg)
    m.submodules.rates = rates = LearningRates(cfg=cfg)
    baseline = [Signal(signed(cfg.output_bits), name=f"b_{k}") for k in range(cfg.n_outputs)]
    m.d.comb += [lfsr.sel.eq(host.lfsr_sel), lfsr.we.eq(host.lfsr_we), lfsr.wdata.eq(host.lfsr_wdata),
                 host.lfsr_rdata.eq(lfsr.rdata), rates.hidden_we.eq(host.hidden_we),
                 rates.readout_we.eq(host.readout_we), rates.wdata.eq(host.rate_data),
                 host.hidden_rate.eq(rates.hidden_rate), host.readout_rate.eq(rates.readout_rate)]
    for k, b in enumerate(baseline):
        m.d.comb += host.baseline[k].eq(b)
        with m.If(host.base_we[k]):
            m.d.sync += b.eq(host.base_data)
    for name in host.read_names:
        wiring.connect(m, getattr(host.reads, name), memories.by_name[name].reader("host"))
    for name in host.write_names:
        wiring.connect(m, getattr(host.writes, name), memories.by_name[name].writer("host"))
    return m, host


def _commands(cfg, rng, n):
    """READs and WRITEs of every memory kind: mostly valid entries, some rows, columns and
    values out of range, a memory that does not exist."""
    kinds = [Mem.W1, Mem.W1 + 1, Mem.M1, Mem.M1 + 1, Mem.W_OUT, Mem.BASELINE, Mem.LFSR, Mem.PARAM,
             Mem.MEMBRANE, Mem.SPIKE, Mem.TRACE, 15]
    cmds = []
    for _ in range(n):
        kind = int(rng.choice(kinds))
        row, col = int(rng.integers(0, 6)), int(rng.integers(0, 4) if rng.random() < 0.7 else 0)
        if rng.random() < 0.5:
            cmds.append(command_words(Op.READ, mem=kind, row=row, col=col))
        else:
            value = int(rng.choice([rng.integers(-40, 40), rng.integers(0, 1 << 20), 0, 1]))
            cmds.append(command_words(Op.WRITE, mem=kind, row=row, col=col, value=value))
    return cmds


@pytest.mark.parametrize("overrides", [TWO_LAYERS, dict(TWO_LAYERS, membrane_bits=40)],
                         ids=["two_layers", "membrane_40_bits"])
def test_matches_the_command_model(overrides):
    """Every answer word as the command model's; a 40-bit membrane (wider than the answer
    word: its low 32 bits are answered) must elaborate too (soak seed 19001 found it did not)."""
    cfg = preset("digits", **overrides)
    m, host = _bench(cfg)
    model = CoreModel(cfg)
    commands = _commands(cfg, np.random.default_rng(15), 300)
    answered = []

    async def bench(ctx):
        for words in commands:
            want = model.execute(words)
            ctx.set(host.head, words[0])
            ctx.set(host.word, words[1])
            ctx.set(host.load_addr, 1)
            if len(words) == 3:                    # a WRITE: the value word follows
                await ctx.tick()
                ctx.set(host.load_addr, 0)
                ctx.set(host.word, words[2])
                ctx.set(host.load_data, 1)
            ctx.set(host.start, 1)                 # what the sequencer's RX states do
            await ctx.tick()
            for s in (host.load_addr, host.load_data, host.start):
                ctx.set(s, 0)
            cycles = 0
            while not ctx.get(host.done):
                await ctx.tick()
                cycles += 1
                assert cycles < 10
            got = [int(ctx.get(host.status)), ctx.get(host.count)]
            await ctx.tick()                       # RESPOND: the value is there
            _, status, count = parse_response(want[0])
            assert got == [status, count], (words, want)
            if count:
                assert ctx.get(host.value) == want[1], (words, want)
            answered.append(status)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(answered) == len(commands)
    assert {Status.OK, Status.ERR_ADDR, Status.ERR_VALUE} <= set(answered)
