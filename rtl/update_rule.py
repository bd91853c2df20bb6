"""Three-factor and readout weight-update lanes (twin of :mod:`golden.update_rule`).

The weight update ``W = sat_w(W - round_shift(prod, shift))`` is split in two functions so
that the core can register between them: ``update_step`` (the rounding shift by a run-time
amount, a barrel shifter) and ``apply_step`` (subtract and saturate).
"""

from .arith import round_shift, round_shift_var, saturate

__all__ = ["neuron_factor", "factor_from_product", "update_step", "apply_step"]


def neuron_factor(cfg, g, psi):
    """``d = sat_sig(round_shift(g * psi, surrogate_frac_bits))``."""
    return factor_from_product(cfg, g * psi.as_unsigned())


def factor_from_product(cfg, product):
    """``d`` from the product ``g * psi`` (the core multiplies in a registered stage)."""
    return saturate(round_shift(product, cfg.surrogate_frac_bits), cfg.signal_bits)


def update_step(product, shift):
    """``round_shift(product, shift)`` with a run-time ``shift``."""
    return round_shift_var(product, shift)


def apply_step(cfg, w, step):
    """``sat_w(w - step)``."""
    return saturate(w - step, cfg.weight_bits)
