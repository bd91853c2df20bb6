"""rtl.arith against golden.arith, exhaustively over small widths (Amaranth simulator).

The saturations detect overflow from the top bits instead of comparing with constants;
these tests pin that every value of every input width clamps as the golden model does."""


import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from golden import arith as golden
from rtl import arith


def _comb_table(shape, make):
    """Outputs of ``make(x)`` for every value of a ``shape`` input."""
    x = Signal(shape)
    y = Signal(make(x).shape())
    m = Module()
    m.d.comb += y.eq(make(x))
    lo, hi = (-(1 << (shape.width - 1)), 1 << (shape.width - 1)) if shape.signed else (0, 1 << shape.width)
    got = []

    async def bench(ctx):
        for v in range(lo, hi):
            ctx.set(x, v)
            got.append(ctx.get(y))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return np.arange(lo, hi), np.array(got)


@pytest.mark.parametrize("width, bits", [(7, 4), (5, 5), (4, 6), (9, 2)])
@pytest.mark.parametrize("sign", [True, False])
def test_saturate_matches_golden(width, bits, sign):
    shape = signed(width) if sign else unsigned(width)
    xs, got = _comb_table(shape, lambda x: arith.saturate(x, bits))
    assert arith.saturate(Signal(shape), bits).shape() == signed(bits)
    np.testing.assert_array_equal(got, golden.saturate(xs, bits))


@pytest.mark.parametrize("width, bits", [(7, 4), (5, 5), (4, 6), (9, 1)])
@pytest.mark.parametrize("sign", [True, False])
def test_saturate_unsigned_matches_golden(width, bits, sign):
    shape = signed(width) if sign else unsigned(width)
    xs, got = _comb_table(shape, lambda x: arith.saturate_unsigned(x, bits))
    np.testing.assert_array_equal(got, golden.saturate_unsigned(xs, bits))


@pytest.mark.parametrize("width, bits", [(8, 3), (6, 6), (3, 5), (7, 1)])
def test_fits_signed(width, bits):
    xs, got = _comb_table(signed(width), lambda x: arith.fits_signed(x, bits))
    want = (xs >= -(1 << (bits - 1))) & (xs < (1 << (bits - 1)))
    np.testing.assert_array_equal(got.astype(bool), want)
