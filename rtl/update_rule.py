"""Three-factor and readout weight-update lanes (twin of :mod:`golden.update_rule`).

The weight update ``W = sat_w(W - round_shift(prod, shift))`` is split into four steps so
that the update engine can register between each: ``step_round`` (add the rounding half
for the run-time shift), ``step_shift`` (the barrel shifter), ``subtract_step`` (exact)
and ``saturate_weight``.  Their composition is ``round_shift_var`` and ``saturate`` of
:mod:`rtl.arith`, which :mod:`golden.update_rule` specifies.
"""

from .arith import fits_signed, round_half, round_shift, saturate

__all__ = ["neuron_factor", "factor_from_product", "factor_round", "factor_saturate", "factor_is_zero", "step_round", "step_shift", "subtract_step",
           "saturate_weight"]


def neuron_factor(cfg, g, psi):
    """``d = sat_sig(round_shift(g * psi, surrogate_frac_bits))``."""
    return factor_from_product(cfg, g * psi.as_unsigned())


def factor_from_product(cfg, product):
    """``d`` from the product ``g * psi`` (the core multiplies in a registered stage)."""
    return factor_saturate(cfg, factor_round(cfg, product))


def factor_round(cfg, product):
    """``round_shift(g * psi, surrogate_frac_bits)``: :func:`factor_from_product`'s first half
    (the feedback pass registers it)."""
    return round_shift(product, cfg.surrogate_frac_bits)


def factor_saturate(cfg, rounded):
    """``sat_sig`` of :func:`factor_round`'s value: :func:`factor_from_product`'s second half."""
    return saturate(rounded, cfg.signal_bits)


def factor_is_zero(cfg, product):
    """Whether :func:`factor_from_product` of ``product`` is 0, without a carry chain:
    saturation keeps 0 and nothing else at 0, and ``round_shift(x, r) == 0`` exactly when
    ``-2**(r-1) <= x < 2**(r-1)``, which :func:`rtl.arith.fits_signed` reads off the top bits."""
    return fits_signed(product, cfg.surrogate_frac_bits)


def step_round(product, shift):
    """``product + (2**shift >> 1)``."""
    return round_half(product, shift)


def step_shift(rounded, shift):
    """``rounded >> shift``: with :func:`step_round`, ``round_shift(product, shift)``."""
    return rounded >> shift


def subtract_step(w, step):
    """``w - step``, exact."""
    return w - step


def saturate_weight(cfg, diff):
    """``sat_w(diff)``."""
    return saturate(diff, cfg.weight_bits)
