"""The resident feeder (rtl/feeder.py) against the golden ``lfsr_rate`` code, word for word."""

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.config import preset
from golden.input_encoding import encode_lfsr_rate
from golden.protocol import Op, command_words
from rtl.dataset_store import DatasetStore
from rtl.feeder import Feeder
from tests.feeder_driver import feeder_run


def expected_words(cfg, q, labels, train, epoch):
    """The command words a host would send for these samples with the golden code."""
    spikes = encode_lfsr_rate(q, cfg.timesteps, cfg.seed, 0 if train else 1, epoch, pixels=True)
    words = []
    for x, y in zip(spikes, labels):
        words += command_words(Op.START, train=train, label=int(y))
        for t in range(cfg.timesteps):
            words += command_words(Op.STEP, bits=x[t].astype(int).tolist())
        words += command_words(Op.END)
    return words


async def write_store(ctx, store, q, y):
    """Every row's pixels ``q[r]`` and label ``y[r]`` through the store's byte port."""
    n_inputs = q.shape[1]
    for r in range(len(q)):
        for c in range(n_inputs + 1):
            ctx.set(store.we, 1)
            ctx.set(store.sample, r)
            ctx.set(store.col, c)
            ctx.set(store.wdata, int(y[r] if c == n_inputs else q[r, c]))
            await ctx.tick()
    ctx.set(store.we, 0)


def test_refuses_bad_parameters():
    with pytest.raises(ValueError, match="n_test"):
        Feeder(preset("digits"), 10, 0)
    with pytest.raises(ValueError, match="n_train"):
        Feeder(preset("digits"), 0, 10)


@pytest.mark.parametrize("n_inputs,timesteps", [(8, 3), (40, 2), (64, 2)])
def test_words_match_golden_over_runs(n_inputs, timesteps):
    cfg = preset("digits", n_inputs=n_inputs, timesteps=timesteps, seed=5, antithetic=False)
    n_train, n_test = 4, 3
    rng = np.random.default_rng(n_inputs)
    q = rng.integers(0, 256, (n_train + n_test, n_inputs)).astype(np.uint8)
    q[:, :3] = [0, 255, 128]              # the extremes: never / almost always / half
    y = rng.integers(0, 10, n_train + n_test)

    m = Module()
    m.submodules.store = store = DatasetStore(n_inputs, n_train, n_test)
    m.submodules.feeder = feeder = Feeder(cfg, n_train, n_test)
    wiring.connect(m, feeder.store, store.read)

    # train epoch 0 (3 of 4 samples), a test run, train epoch 0 again after a reseed
    # (all 4), a test run (must repeat), train continues (epoch 1 of a 4-sample split)
    runs = [(1, 3), (0, 3), ("reseed", 0), (1, 4), (0, 2), (1, 4)]
    want = []
    want.append(expected_words(cfg, q[:3], y[:3], True, 0))
    want.append(expected_words(cfg, q[n_train:], y[n_train:], False, 0))
    want.append(None)
    want.append(expected_words(cfg, q[:4], y[:4], True, 0))
    want.append(expected_words(cfg, q[n_train:n_train + 2], y[n_train:n_train + 2], False, 0))
    want.append(expected_words(cfg, q[:4], y[:4], True, 1))

    got_runs = []
    labels_seen = []

    async def tb(ctx):
        await write_store(ctx, store, q, y)
        stall = np.random.default_rng(1)
        for train, count in runs:
            if train == "reseed":
                ctx.set(feeder.reseed, 1)
                await ctx.tick()
                ctx.set(feeder.reseed, 0)
                got_runs.append(None)
                continue
            words, seen = await feeder_run(ctx, feeder, train, count, stall, label_ready=0.7)
            labels_seen.extend(seen)
            got_runs.append(words)
        # a refused start sends nothing
        ctx.set(feeder.train, 0)
        ctx.set(feeder.count, n_test + 1)
        ctx.set(feeder.start, 1)
        await ctx.tick()
        ctx.set(feeder.start, 0)
        await ctx.tick()
        assert ctx.get(feeder.refused) and not ctx.get(feeder.busy)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    for k, (g, w) in enumerate(zip(got_runs, want)):
        if w is None:
            continue
        assert len(g) == len(w), k
        bad = [i for i, (a, b) in enumerate(zip(g, w)) if a != b]
        assert not bad, (k, bad[:5], [hex(g[i]) for i in bad[:3]], [hex(w[i]) for i in bad[:3]])
    want_labels = [int(y[i]) | 256 for i in range(3)] + [int(y[n_train + i]) for i in range(3)] + \
        [int(y[i]) | 256 for i in range(4)] + [int(y[n_train + i]) for i in range(2)] + \
        [int(y[i]) | 256 for i in range(4)]
    assert labels_seen == want_labels
