"""Three-factor and readout weight-update lanes (twin of :mod:`golden.update_rule`)."""

from .arith import round_shift, round_shift_var, saturate

__all__ = ["neuron_factor", "weight_step"]


def neuron_factor(cfg, g, psi):
    """``d = sat_sig(round_shift(g * psi, surrogate_frac_bits))``."""
    return saturate(round_shift(g * psi.as_unsigned(), cfg.surrogate_frac_bits), cfg.signal_bits)


def weight_step(cfg, w, product, shift):
    """``sat_w(w - round_shift(product, shift))`` with a run-time ``shift``."""
    return saturate(w - round_shift_var(product, shift), cfg.weight_bits)
