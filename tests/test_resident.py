"""The resident system (rtl/resident_core.py: store, order, feeder, core, counter and their
command interpreter) under cocotb, word for word and state for state equal to
golden/resident_model.py over whole resident epochs driven by commands; with the block RAM
store, and with the data set in SDRAM (boards/ulx3s/resident_sdram.py: the store on the real
controller, sim/sdram_model.py on its pins)."""

import json
from pathlib import Path

import pytest

from golden.config import preset
from rtl.resident_core import ResidentCore, Throttle
from sim.runner import run_cocotb

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# the resident build's clock (rtl.build --resident: 50 MHz), CL 2; a 2 us power-up wait
SDRAM_50MHZ = dict(clk_freq=50e6, cas_latency=2, t_powerup=2000.0)


def run_resident(tmp_path, cfg, *, n_train, n_test, epochs=1, stall=0.3, seed=0, data=None,
                 sdram=None):
    """Build and run the resident epoch testbench; returns its JSON result.  ``sdram``
    (``SdramConfig`` keyword arguments) puts the data set in SDRAM: the DUT is
    ``ResidentOnSdram`` with the SDRAM model on its pads."""
    result = tmp_path / "result.json"
    if sdram is None:
        dut = ResidentCore(cfg, n_train, n_test, stall_ports=stall > 0)
    else:
        from boards.ulx3s.resident_sdram import ResidentOnSdram
        from boards.ulx3s.sdram import SdramConfig
        dut = ResidentOnSdram(cfg, n_train, n_test, sdram=SdramConfig(**sdram),
                              stall_ports=stall > 0)
    scenario = {"n_train": n_train, "n_test": n_test, "epochs": epochs, "stall": stall,
                "seed": seed, **({"data": data} if data else {}),
                **({"sdram": sdram} if sdram else {})}
    run_cocotb(dut, Path(__file__).parent.parent / "sim" / "cocotb_resident.py",
               build_dir=tmp_path / "build",
               extra_env={"OPZO_CONFIG": json.dumps(cfg.to_dict()),
                          "RESIDENT": json.dumps(scenario), "OPZO_RESULT": result})
    return json.loads(result.read_text())


def test_throttle_passes_words_in_order_and_never_retracts_valid():
    import numpy as np
    from amaranth.sim import Simulator
    dut = Throttle(9)
    rng = np.random.default_rng(0)
    sent, got = list(range(300)), []

    async def tb(ctx):
        k, held = 0, None
        while len(got) < len(sent):
            ctx.set(dut.pause, int(rng.random() < 0.3))
            ctx.set(dut.o.ready, int(rng.random() < 0.7))
            ctx.set(dut.i.valid, int(k < len(sent)))
            ctx.set(dut.i.payload, sent[k] if k < len(sent) else 0)
            await ctx.delay(1e-10)
            if held is not None:          # a word offered and not taken is offered again
                assert ctx.get(dut.o.valid) and ctx.get(dut.o.payload) == held
            took_in = k < len(sent) and ctx.get(dut.i.ready)
            valid, ready = ctx.get(dut.o.valid), ctx.get(dut.o.ready)
            held = ctx.get(dut.o.payload) if valid and not ready else None
            if valid and ready:
                got.append(ctx.get(dut.o.payload))
            await ctx.tick()
            k += bool(took_in)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert got == sent


def test_resident_epoch_small(tmp_path):
    """50 training and 20 test digits, two shuffled epochs, random pauses on the host's and
    the run's streams: every response word (counters, confusion rows, checksum) and the
    whole core state equal the golden model's."""
    cfg = preset("digits", hidden=(16,), timesteps=4)
    r = run_resident(tmp_path, cfg, n_train=50, n_test=20, epochs=2, stall=0.3)
    print(json.dumps({k: v for k, v in r.items() if k != "examples"}, indent=1))
    assert r["mismatches"] == 0, r["examples"]
    assert r["predictions_checked"] == 140 and len(r["epochs"]) == 2
    assert r["epochs"][1]["counters"][0] == 50 and r["epochs"][1]["counters"][2] == 20


@pytest.mark.slow
def test_resident_digits_default(tmp_path):
    """Opt-in: the default digits network, 200 training and 100 test digits, no pauses
    (the cycle count of the feeder path)."""
    r = run_resident(tmp_path, preset("digits"), n_train=200, n_test=100, epochs=1, stall=0.0)
    print(json.dumps({k: v for k, v in r.items() if k != "examples"}, indent=1))
    assert r["mismatches"] == 0, r["examples"]


def _check_sdram(r):
    assert r["sdram_data_errors"] == 0, r["examples"]
    assert r["sdram_violation_count"] == 0, r["sdram_violations"]
    assert r["sdram_init_done"] and not r["refresh_overrun"]
    assert r["sdram_refreshes"] > 0


def test_resident_epoch_sdram(tmp_path):
    """The data set in SDRAM: ``ResidentOnSdram`` (``ResidentCore(store="sdram")`` on the real
    controller, the board's wiring) with the datasheet SDRAM model on its pads at 50 MHz CL 2;
    50 training and 20 test digits, two shuffled epochs, random pauses on the host's streams,
    the run's streams and the store's three streams to the controller: every answer word
    and the whole core state after each epoch equal the golden model's, the SDRAM cells hold
    every uploaded byte where the layout says, 0 timing violations, refreshes running."""
    cfg = preset("digits", hidden=(16,), timesteps=4)
    r = run_resident(tmp_path, cfg, n_train=50, n_test=20, epochs=2, stall=0.3,
                     sdram=SDRAM_50MHZ)
    print(json.dumps({k: v for k, v in r.items() if k != "examples"}, indent=1))
    assert r["mismatches"] == 0, r["examples"]
    assert r["predictions_checked"] == 140 and len(r["epochs"]) == 2
    assert r["epochs"][1]["counters"][0] == 50 and r["epochs"][1]["counters"][2] == 20
    _check_sdram(r)
    # every row read from the SDRAM at least once per epoch (33 words a digits row)
    assert r["sdram_words_read"] >= 2 * 70 * 33


@pytest.mark.slow
def test_resident_epoch_sdram_mnist(tmp_path):
    """Opt-in (long): as test_resident_epoch_sdram with MNIST rows (784 pixels, 393 words a
    row, one SDRAM row each) and a small MNIST network, one epoch."""
    cfg = preset("mnist", hidden=(32,), timesteps=4)
    r = run_resident(tmp_path, cfg, n_train=50, n_test=20, epochs=1, stall=0.3, data="mnist",
                     sdram=SDRAM_50MHZ)
    print(json.dumps({k: v for k, v in r.items() if k != "examples"}, indent=1))
    assert r["mismatches"] == 0, r["examples"]
    assert r["predictions_checked"] == 70
    _check_sdram(r)
