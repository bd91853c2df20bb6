"""The bit scan's combinational step against Python, and a whole scan against the set bits."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from rtl.bit_scan import lowest_set


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

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
