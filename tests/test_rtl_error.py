"""rtl.error: the output error lane against golden.error, exhaustively over small widths."""

import numpy as np
import pytest
from amaranth.hdl import Const, Module, Signal, signed
from amaranth.sim import Simulator

from golden.config import preset
from golden.error import output_error as golden_error
from rtl.error import output_error


@pytest.mark.parametrize("output_bits, frac_bits, error_frac_bits", [
    (12, 6, 4),      # q (8 bits) wider than the E-bit window
    (9, 6, 6),       # q (7 bits) as wide as the window plus one
    (8, 6, 1),       # E = 1
    (6, 8, 8),       # q narrower than the window (sign-extended)
])
def test_output_error_matches_golden_for_every_output(output_bits, frac_bits, error_frac_bits):
    cfg = preset("digits", frac_bits=frac_bits, error_frac_bits=error_frac_bits)
    o = Signal(signed(output_bits))
    lab = Signal()
    e = Signal(signed(error_frac_bits + 2))
    m = Module()
    m.d.comb += e.eq(output_error(cfg, o, lab))
    values = range(-(1 << (output_bits - 1)), 1 << (output_bits - 1))
    expected = {v: golden_error(cfg, np.array([v, v], dtype=np.int64), 0) for v in values}
    sim = Simulator(m)

    async def bench(ctx):
        for v in values:
            ctx.set(o, v)
            for is_label in (0, 1):
                ctx.set(lab, is_label)
                # golden: class 0 is the label; class 1 is not
                want = int(expected[v][0 if is_label else 1])
                assert ctx.get(e) == want, f"o={v} label={is_label}: {ctx.get(e)} != {want}"
    sim.add_testbench(bench)
    sim.run()


def test_output_error_is_signed_e_plus_2_bits():
    cfg = preset("digits")
    v = output_error(cfg, Const(0, signed(cfg.output_bits)), Const(1, 1))
    assert v.shape() == signed(cfg.error_frac_bits + 2)
