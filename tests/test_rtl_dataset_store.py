"""The resident data set store (rtl/dataset_store.py): host writes, feeder reads, sizes."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from rtl.dataset_store import DatasetStore, ebr_estimate, store_geometry


def test_refuses_bad_parameters():
    with pytest.raises(ValueError, match="n_train"):
        DatasetStore(64, 0, 10)
    with pytest.raises(ValueError, match="n_inputs"):
        DatasetStore(5000, 10, 10)
    with pytest.raises(ValueError, match="n_test"):
        DatasetStore(64, 10, -1)


def test_capacity_figures():
    # digits: 1,437 + 360 samples of 64 bytes (115 KB): 58 pixel blocks + 1 label block
    assert ebr_estimate(64, 1437, 360) == 59
    assert store_geometry(64, 1437, 360) == (32, 2, 2, 1797)


@pytest.mark.parametrize("n_inputs", [8, 40, 64])
def test_written_bytes_read_back(n_inputs):
    rng = np.random.default_rng(n_inputs)
    n_train, n_test = 5, 3
    dut = DatasetStore(n_inputs, n_train, n_test)
    lanes, words = dut.lanes, dut.words
    pix = rng.integers(0, 256, (n_train + n_test, n_inputs))
    lab = rng.integers(0, 10, n_train + n_test)

    async def tb(ctx):
        for r in range(n_train + n_test):
            for c in rng.permutation(n_inputs + 1):      # any order: byte enables
                ctx.set(dut.we, 1)
                ctx.set(dut.sample, r)
                ctx.set(dut.col, int(c))
                ctx.set(dut.wdata, int(lab[r] if c == n_inputs else pix[r, c]))
                await ctx.tick()
        ctx.set(dut.we, 0)
        for split, n in ((0, n_train), (1, n_test)):
            for k in range(n):
                row = k + split * n_train
                for w in range(words):
                    ctx.set(dut.read.split, split)
                    ctx.set(dut.read.index, k)
                    ctx.set(dut.read.word, w)
                    await ctx.tick()
                    got = ctx.get(dut.read.pixels)
                    for lane in range(lanes):
                        i = w * 32 + lane
                        want = int(pix[row, i]) if i < n_inputs else 0
                        assert (got >> (8 * lane)) & 0xFF == want, (split, k, w, lane)
                    assert ctx.get(dut.read.label) == lab[row]

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
