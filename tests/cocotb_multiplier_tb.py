"""cocotb test module: :func:`rtl.multiplier.registered_product` both ways, side by side.

Run by ``tests/test_rtl_multiplier.py`` through :func:`sim.runner.run_cocotb`, with the
primitive's model ``sim/primitives/MULT18X18D.v``.  The DUT (``MultiplierPairs`` there)
has, for each operand shape the core uses, an inferred product register and a
``MULT18X18D`` one on the same operands.  Every cycle new operands are driven (the extremes
of each shape first, then random values); one cycle later both registers must hold the
exact product.

Environment: ``SHAPES`` (JSON list of ``[a_bits, a_signed, b_bits, b_signed]``), ``N`` (number
of random operand pairs), ``SEED``.
"""

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

from golden.arith import smax, smin


def _range(bits, signed):
    return (smin(bits), smax(bits)) if signed else (0, (1 << bits) - 1)


def _as_int(handle, bits, signed):
    v = int(handle.value)
    return v - (1 << bits) if signed and v >> (bits - 1) else v


@cocotb.test()
async def products_match(dut):
    shapes = json.loads(os.environ["SHAPES"])
    n = int(os.environ.get("N", "300"))
    rng = random.Random(int(os.environ.get("SEED", "0")))
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 0
    stimuli = []
    for a_bits, a_signed, b_bits, b_signed in shapes:
        (alo, ahi), (blo, bhi) = _range(a_bits, a_signed), _range(b_bits, b_signed)
        edges = [(x, y) for x in (alo, ahi, 0, -1 if a_signed else 1)
                 for y in (blo, bhi, 0, -1 if b_signed else 1)]
        stimuli.append(edges + [(rng.randint(alo, ahi), rng.randint(blo, bhi)) for _ in range(n)])
    cycles = max(len(s) for s in stimuli)
    checked = 0
    previous = None
    for t in range(cycles + 1):
        await FallingEdge(dut.clk)
        if previous is not None:                 # the pair driven one edge ago
            for k, (a_bits, a_signed, b_bits, b_signed) in enumerate(shapes):
                x, y = previous[k]
                width = a_bits + b_bits + (a_signed != b_signed)
                for kind in ("inferred", "ecp5"):
                    got = _as_int(getattr(dut, f"{kind}_{k}"), width, a_signed or b_signed)
                    assert got == x * y, f"shape {k} {kind}: {x} * {y} = {x * y}, register holds {got}"
                    checked += 1
        if t == cycles:
            break
        current = []
        for k, (a_bits, a_signed, b_bits, b_signed) in enumerate(shapes):
            x, y = stimuli[k][t % len(stimuli[k])]
            getattr(dut, f"a_{k}").value = x & ((1 << a_bits) - 1)
            getattr(dut, f"b_{k}").value = y & ((1 << b_bits) - 1)
            current.append((x, y))
        previous = current
        await RisingEdge(dut.clk)
    assert checked == 2 * len(shapes) * cycles
    dut._log.info(f"{checked} products checked")
