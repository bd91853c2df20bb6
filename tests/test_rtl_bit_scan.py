"""The bit scan's combinational step against Python, and a whole scan against the set bits."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from rtl.bit_scan import BitScan, lowest_set


def _lowest(v):
    return (v & -v).bit_length() - 1 if v else 0


@pytest.mark.parametrize("width", [1, 2, 5, 64, 100, 128])
def test_lowest_set_every_value_class(width):
    v = Signal(width)
    idx, any_, rest = lowest_set(v)
    m = Module()
    probe = [Signal(len(idx)), Signal(), Signal(width)]
    m.d.comb += [probe[0].eq(idx), probe[1].eq(any_), probe[2].eq(rest)]
    rng = np.random.default_rng(width)
    values = [0, 1, (1 << width) - 1, 1 << (width - 1)]
    values += [int.from_bytes(rng.bytes(16), "little") & ((1 << width) - 1) for _ in range(40)]
    values += [1 << int(b) for b in rng.integers(0, width, 10)]

    async def tb(ctx):
        for x in values:
            ctx.set(v, x)
            assert ctx.get(probe[0]) == _lowest(x), hex(x)
            assert ctx.get(probe[1]) == (x != 0)
            assert ctx.get(probe[2]) == x & (x - 1) if x else ctx.get(probe[2]) == 0

    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()


def test_registered_scan_visits_each_set_bit_once_in_order():
    """load, then visit: the candidate register yields the set bits one per cycle."""
    width = 96
    mask = Signal(width)
    load = Signal()
    cand, cand_v, pending = Signal(range(width)), Signal(), Signal(width)
    m = Module()
    fi, fa, fr = lowest_set(mask)
    ni, na, nr = lowest_set(pending)
    with m.If(load):
        m.d.sync += [cand.eq(fi), cand_v.eq(fa), pending.eq(fr)]
    with m.Elif(cand_v):
        m.d.sync += [cand.eq(ni), cand_v.eq(na), pending.eq(nr)]
    rng = np.random.default_rng(1)
    masks = [int.from_bytes(rng.bytes(12), "little") >> int(rng.integers(0, 96)) for _ in range(6)] + [0]

    async def tb(ctx):
        for x in masks:
            ctx.set(mask, x)
            ctx.set(load, 1)
            await ctx.tick()
            ctx.set(load, 0)
            seen = []
            while ctx.get(cand_v):
                seen.append(ctx.get(cand))
                await ctx.tick()
            assert seen == [i for i in range(width) if (x >> i) & 1]

    _run_clocked(m, tb)


def _run_clocked(m, tb):
    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()


def _scan_bench(widths, chunk):
    m = Module()
    masks = [Signal(w, name=f"mask{k}") for k, w in enumerate(widths)]
    scan = BitScan(m, "scan", masks, chunk=chunk)
    return m, masks, scan


@pytest.mark.parametrize("widths,chunk", [([96], 8), ([64, 128], 8), ([5, 10], 4), ([40], 16), ([3], 2)])
def test_bitscan_yields_every_set_bit_once_under_random_takes(widths, chunk):
    """The queue against Python's list of set bits, for random masks, both mask choices and
    a consumer that takes on random cycles; loading again restarts the same scan."""
    m, masks, scan = _scan_bench(widths, chunk)
    rng = np.random.default_rng(sum(widths) + chunk)

    def rand_mask(w):
        kind = rng.integers(0, 4)
        if kind == 0:
            return 0
        if kind == 1:
            return 1 << int(rng.integers(0, w))
        x = int.from_bytes(rng.bytes(w // 8 + 1), "little") & ((1 << w) - 1)
        return x if kind == 2 else x & int.from_bytes(rng.bytes(w // 8 + 1), "little")

    async def tb(ctx):
        for trial in range(30):
            values = [rand_mask(w) for w in widths]
            for sig, x in zip(masks, values):
                ctx.set(sig, x)
            await ctx.tick()                  # the write; the next cycle must not load
            k = int(rng.integers(0, len(widths)))
            ctx.set(scan.select, k)
            waited = 0
            while not ctx.get(scan.primed):
                await ctx.tick()
                waited += 1
            assert waited <= BitScan.PRIME_CYCLES
            for again in range(2):
                ctx.set(scan.load, 1)
                await ctx.tick()
                ctx.set(scan.load, 0)
                want = [i for i in range(widths[k]) if (values[k] >> i) & 1]
                seen = []
                for _ in range(4 * len(want) + 4):
                    if not ctx.get(scan.cand_v):
                        break
                    take = bool(rng.integers(0, 3))
                    if take:
                        seen.append(ctx.get(scan.cand))
                    ctx.set(scan.take, take)
                    await ctx.tick()
                    ctx.set(scan.take, 0)
                assert not ctx.get(scan.cand_v)
                assert seen == want, (trial, again, hex(values[k]))

    _run_clocked(m, tb)


def test_bitscan_go_low_loads_an_empty_scan():
    m, masks, scan = _scan_bench([32], 8)

    async def tb(ctx):
        ctx.set(masks[0], 0b1011_0000_0000_0001)
        for _ in range(6):
            await ctx.tick()
        assert ctx.get(scan.primed)
        ctx.set(scan.load, 1)
        ctx.set(scan.go, 0)
        await ctx.tick()
        assert not ctx.get(scan.cand_v)
        ctx.set(scan.go, 1)
        await ctx.tick()
        assert ctx.get(scan.cand_v) and ctx.get(scan.cand) == 0

    _run_clocked(m, tb)


def test_bitscan_primed_falls_when_the_mask_changes():
    m, masks, scan = _scan_bench([16], 4)

    async def tb(ctx):
        for _ in range(6):
            await ctx.tick()
        assert ctx.get(scan.primed)
        ctx.set(masks[0], 0x8000)             # as if written at the last edge:
        assert ctx.get(scan.primed)           # not seen yet (do not load now) ...
        await ctx.tick()
        low = 0
        while not ctx.get(scan.primed):
            low += 1
            await ctx.tick()
        assert low == BitScan.PRIME_CYCLES - 1  # ... then low until the snapshot is the mask's
        ctx.set(scan.load, 1)
        await ctx.tick()
        assert ctx.get(scan.cand_v) and ctx.get(scan.cand) == 15

    _run_clocked(m, tb)


def test_bitscan_wrong_chunk():
    m = Module()
    with pytest.raises(ValueError, match="chunk must be a power of two"):
        BitScan(m, "scan", [Signal(8)], chunk=6)
