"""The registered products of the core: ``r = a * b``, loaded every clock cycle.

Every multiplier of the core (the feedback pass's ``M e`` and ``g psi``, both update engines'
``factor * a``) is an operand register, a multiplication and a product register.  Inferred,
yosys maps the multiplication to an ECP5 ``MULT18X18D`` without its internal registers, so
the path from the operand registers to the product register runs through fabric wire into
the DSP, through the multiplier array, and through wire out again (10.5 ns in the 85F
builds: the design's slowest path).  yosys does not pack registers into ECP5 DSPs, so for an
ECP5 the product register is made the DSP's own output register by instantiating the
primitive: the path then ends at the DSP (``MULT18X18D_REGS_OUTPUT`` in nextpnr's timing
database).  The register's timing, value and latency (one cycle) are the same as the
inferred register's; the operand registers stay in the fabric.

The instance cannot run in Amaranth's simulator, and the toolchain ships only a black box
for it.  ``sim/primitives/MULT18X18D.v`` models the one configuration used here (signed
18 x 18 operands, output register on ``CLK0``/``CE0``/``RST0``, everything else bypassed;
Lattice TN1267, "ECP5 and ECP5-5G sysDSP Usage Guide") and refuses any other, so that the
cocotb tests run the generated Verilog of the instantiating core too
(``sim.compare(..., multipliers="ecp5")``).
"""

from amaranth.hdl import ClockSignal, Const, Instance, Signal, signed

__all__ = ["MULTIPLIER_KINDS", "DSP_WIDTH", "fits_dsp", "registered_product"]

MULTIPLIER_KINDS = ("inferred", "ecp5")
"""``"inferred"``: ``r.eq(a * b)`` in the sync domain, for any target (and simulation);
``"ecp5"``: the ECP5 ``MULT18X18D`` with its output register, where the operands fit."""

DSP_WIDTH = 18
"""Operand width of one ``MULT18X18D`` (signed)."""


def _signed_width(v):
    """Bits of ``v`` as a signed operand (an unsigned value needs a zero sign bit)."""
    return len(v) if v.shape().signed else len(v) + 1


def fits_dsp(a, b):
    """Whether ``a * b`` fits one signed 18 x 18 ``MULT18X18D``."""
    return _signed_width(a) <= DSP_WIDTH and _signed_width(b) <= DSP_WIDTH


def registered_product(m, a, b, *, name, kind="inferred"):
    """A register loaded with ``a * b`` on every clock edge of the ``sync`` domain.

    Parameters
    ----------
    m : amaranth.hdl.Module
        The module the multiplier goes into.
    a, b : amaranth.hdl.Value
        The operands, signed or unsigned (the product has Amaranth's exact width and sign).
    name : str
        Name of the product register (and of the DSP instance).
    kind : {"inferred", "ecp5"}
        See :data:`MULTIPLIER_KINDS`.  ``"ecp5"`` falls back to the inferred register when
        an operand is wider than :data:`DSP_WIDTH` signed bits (yosys then splits the
        multiplication over several DSPs, as before).

    Returns
    -------
    amaranth.hdl.Signal
        The product register (no reset: it is a data register, loaded every cycle).
    """
    if kind not in MULTIPLIER_KINDS:
        raise ValueError(f"multiplier kind must be one of {MULTIPLIER_KINDS}, got {kind!r}")
    product = a * b
    r = Signal(product.shape(), name=name, reset_less=True)
    if kind == "inferred" or not fits_dsp(a, b):
        m.d.sync += r.eq(product)
        return r
    # both operands as signed 18-bit values (an unsigned one gets a zero sign bit), the
    # 36-bit signed product truncated or sign-extended to the exact product's width
    sa, sb = (Signal(signed(DSP_WIDTH), name=f"{name}_{x}") for x in "ab")
    m.d.comb += [sa.eq(a), sb.eq(b)]
    p = Signal(signed(2 * DSP_WIDTH), name=f"{name}_p")
    m.d.comb += r.eq(p)
    ports = {f"i_A{i}": sa[i] for i in range(DSP_WIDTH)}
    ports |= {f"i_B{i}": sb[i] for i in range(DSP_WIDTH)}
    ports |= {f"i_C{i}": Const(0, 1) for i in range(DSP_WIDTH)}
    ports |= {f"o_P{i}": p[i] for i in range(2 * DSP_WIDTH)}
    # SRIA/SRIB (the cascade inputs) stay unconnected: nextpnr cannot route a constant to
    # them (YosysHQ/nextpnr#208)
    m.submodules[f"{name}_dsp"] = Instance(
        "MULT18X18D",
        p_REG_INPUTA_CLK="NONE", p_REG_INPUTB_CLK="NONE", p_REG_INPUTC_CLK="NONE",
        p_REG_PIPELINE_CLK="NONE",
        p_REG_OUTPUT_CLK="CLK0", p_REG_OUTPUT_CE="CE0", p_REG_OUTPUT_RST="RST0",
        p_GSR="DISABLED", p_RESETMODE="SYNC", p_SOURCEB_MODE="B_SHIFT", p_MULT_BYPASS="DISABLED",
        p_CAS_MATCH_REG="FALSE", p_HIGHSPEED_CLK="NONE", p_CLK0_DIV="ENABLED",
        i_SIGNEDA=Const(1, 1), i_SIGNEDB=Const(1, 1), i_SOURCEA=Const(0, 1), i_SOURCEB=Const(0, 1),
        i_CLK0=ClockSignal("sync"), i_CE0=Const(1, 1), i_RST0=Const(0, 1),
        **ports)
    return r
