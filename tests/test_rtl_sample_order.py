"""The order memory and shuffle engine (rtl/sample_order.py) against golden/sample_order.py,
and the feeder reading its training rows through it."""

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.config import preset
from golden.sample_order import SampleOrder as GoldenOrder
from rtl.dataset_store import DatasetStore
from rtl.feeder import Feeder
from rtl.sample_order import SampleOrder
from tests.test_rtl_feeder import expected_words, write_store
from tests.feeder_driver import shuffle, feeder_run


def test_init():
    o = SampleOrder(10, 3)
    assert o.n_train == 10 and o.seed == 3
    assert o.signature.members["n"].shape.stop == 11


@pytest.mark.parametrize("n_train", [0, 65537, 2.5, True])
def test_init_wrong_n_train(n_train):
    with pytest.raises(ValueError, match="n_train must be an integer"):
        SampleOrder(n_train, 0)


def test_shuffles_equal_golden():
    """Full, partial, trivial and restarted shuffles: the memory after each equals golden's."""
    n_train, seed = 37, 9
    dut = SampleOrder(n_train, seed)
    ref = GoldenOrder(n_train, seed)
    plan = [(False, 37), (False, 37), (False, 5), (False, 1), (True, 0), (True, 37), (False, 20)]
    results = []

    async def tb(ctx):
        for restart, n in plan:
            ctx.set(dut.shuffle, 1)
            ctx.set(dut.restart, restart)
            ctx.set(dut.n, n)
            await ctx.tick()
            ctx.set(dut.shuffle, 0)
            cycles = 0
            while True:
                await ctx.tick()
                cycles += 1
                if not ctx.get(dut.busy):
                    break
            got = []
            for k in range(n_train):
                ctx.set(dut.read.pos, k)
                await ctx.tick()
                got.append(ctx.get(dut.read.row))
            results.append((got, cycles))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    for (restart, n), (got, cycles) in zip(plan, results):
        if restart:
            ref.restart()
        ref.shuffle(n)
        assert got == ref.order.tolist(), (restart, n)
        assert cycles <= 4 * max(n - 1, 0) + (n_train if restart else 0) + 1
    assert results[0][0] != list(range(n_train))


def shuffled_run_scenario():
    """A 6 + 2 row store of random pixels and the golden words of a shuffled training run of
    5 samples (rows ``order[0..4]``) and of a test run: ``(cfg, q, y, rows, want_train,
    want_test)``; the stores' feeder tests share it."""
    n_inputs, T, n_train, n_test = 40, 2, 6, 2
    cfg = preset("digits", n_inputs=n_inputs, timesteps=T, seed=4)
    rng = np.random.default_rng(3)
    q = rng.integers(0, 256, (n_train + n_test, n_inputs)).astype(np.uint8)
    y = rng.integers(0, 10, n_train + n_test)
    ref = GoldenOrder(n_train, cfg.seed)
    rows = ref.shuffle(n_train)[:5].tolist()
    assert rows != list(range(5))
    want_train = expected_words(cfg, q[rows], y[rows], True, 0)
    want_test = expected_words(cfg, q[n_train:], y[n_train:], False, 0)
    return cfg, q, y, rows, want_train, want_test


def test_feeder_reads_training_rows_in_order():
    """A shuffled training run sends the rows order[0..count-1] with the train bank's draws
    in feed order; a test run stays in store order."""
    cfg, q, y, rows, want_train, want_test = shuffled_run_scenario()
    n_inputs, n_train, n_test = cfg.n_inputs, 6, 2

    m = Module()
    m.submodules.store = store = DatasetStore(n_inputs, n_train, n_test)
    m.submodules.order = order = SampleOrder(n_train, cfg.seed)
    m.submodules.feeder = feeder = Feeder(cfg, n_train, n_test, ordered=True)
    wiring.connect(m, feeder.store, store.read)
    wiring.connect(m, feeder.order, order.read)
    got = []

    async def tb(ctx):
        await write_store(ctx, store, q, y)
        await shuffle(ctx, order, n_train)
        stall = np.random.default_rng(2)
        for train, count in ((1, 5), (0, 2)):
            words, _ = await feeder_run(ctx, feeder, train, count, stall)
            got.append(words)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert got[0] == want_train
    assert got[1] == want_test
