"""rtl.multiplier: the product registers, inferred and as ECP5 MULT18X18D instances."""

import json
from pathlib import Path

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from golden.config import preset
from rtl.core import Core
from rtl.multiplier import DSP_WIDTH, fits_dsp, registered_product
from sim.runner import run_cocotb, write_verilog

PRIMITIVE_MODEL = Path(__file__).resolve().parent.parent / "sim" / "primitives" / "MULT18X18D.v"

# the operand shapes of the core (feedback: M or g x e or psi; engines: factor x trace),
# the widest signed and unsigned ones one DSP takes, and one past it (inferred either way)
SHAPES = [(18, True, 10, True), (18, True, 7, False), (18, True, 18, True), (17, False, 17, False),
          (19, True, 8, True)]


class MultiplierPairs(wiring.Component):
    """For each shape: operands ``a_k``, ``b_k`` and the two product registers on them."""

    def __init__(self, shapes):
        self.shapes = shapes
        members = {}
        for k, (ab, asg, bb, bsg) in enumerate(shapes):
            members[f"a_{k}"] = In(signed(ab) if asg else unsigned(ab))
            members[f"b_{k}"] = In(signed(bb) if bsg else unsigned(bb))
            width = ab + bb + (asg != bsg)
            for kind in ("inferred", "ecp5"):
                members[f"{kind}_{k}"] = Out(signed(width) if asg or bsg else unsigned(width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for k in range(len(self.shapes)):
            a, b = getattr(self, f"a_{k}"), getattr(self, f"b_{k}")
            for kind in ("inferred", "ecp5"):
                m.d.comb += getattr(self, f"{kind}_{k}").eq(
                    registered_product(m, a, b, name=f"{kind}_prod_{k}", kind=kind))
        return m


def test_init_wrong_kind():
    m = Module()
    with pytest.raises(ValueError, match="multiplier kind must be one of"):
        registered_product(m, Signal(4), Signal(4), name="p", kind="lut")


def test_core_init_wrong_multipliers():
    with pytest.raises(ValueError, match="multipliers must be None or one of"):
        Core(preset("digits"), multipliers="dsp")


def test_fits_dsp():
    assert fits_dsp(Signal(signed(DSP_WIDTH)), Signal(signed(DSP_WIDTH)))
    assert fits_dsp(Signal(unsigned(DSP_WIDTH - 1)), Signal(signed(3)))
    assert not fits_dsp(Signal(unsigned(DSP_WIDTH)), Signal(signed(3)))   # needs a 19th (sign) bit
    assert not fits_dsp(Signal(signed(3)), Signal(signed(DSP_WIDTH + 1)))


class _Platform:
    family = "ecp5"


def test_core_instantiates_one_dsp_per_product_on_ecp5():
    """An ECP5 elaboration makes all 3 P products MULT18X18D instances with the output
    register; a platform-less one (the simulations) none."""
    cfg = preset("digits")
    ecp5 = rtlil.convert(Core(cfg), platform=_Platform())
    assert ecp5.count("cell \\MULT18X18D ") == 3 * cfg.lanes
    assert ecp5.count('parameter \\REG_OUTPUT_CLK "CLK0"') == 3 * cfg.lanes
    assert "MULT18X18D" not in rtlil.convert(Core(cfg))


def test_wide_operands_fall_back_to_inference():
    m = Module()
    a, b = Signal(signed(DSP_WIDTH + 1)), Signal(signed(8))
    r = registered_product(m, a, b, name="wide", kind="ecp5")
    assert "MULT18X18D" not in rtlil.convert(m, ports=[a, b, r])


def test_inferred_products_in_amaranth_sim():
    """The inferred register: exact signed/unsigned products, one cycle after the operands."""
    m = Module()
    a, b = Signal(signed(18)), Signal(unsigned(7))
    r = registered_product(m, a, b, name="r")
    sim = Simulator(m)
    sim.add_clock(1e-8)
    pairs = [(-(1 << 17), 127), ((1 << 17) - 1, 127), (-1, 1), (0, 0), (12345, 99), (-777, 64)]

    async def bench(ctx):
        for x, y in pairs:
            ctx.set(a, x)
            ctx.set(b, y)
            await ctx.tick()
            assert ctx.get(r) == x * y
    sim.add_testbench(bench)
    sim.run()


def test_ecp5_products_match_inferred_in_verilator(tmp_path):
    """The MULT18X18D instances (with the primitive's model) and the inferred registers hold
    the exact product of every shape's extremes and of random operands, every cycle."""
    top = write_verilog(MultiplierPairs(SHAPES), tmp_path)
    run_cocotb([top, PRIMITIVE_MODEL], Path(__file__).resolve().parent / "cocotb_multiplier_tb.py",
               build_dir=tmp_path, extra_env={"SHAPES": json.dumps(SHAPES), "N": 300, "SEED": 3})
