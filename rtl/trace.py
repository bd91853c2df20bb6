"""Fixed-point trace register update (twin of :mod:`golden.trace`)."""

from amaranth.hdl import Mux

from .arith import decay, saturate_unsigned

__all__ = ["trace_step"]


def trace_step(cfg, a, s):
    """``sat_u(decay(a, leak_shift) + (s << trace_frac_bits))`` for one lane."""
    return saturate_unsigned(decay(a, cfg.leak_shift)
                             + Mux(s, 1 << cfg.trace_frac_bits, 0), cfg.trace_bits)
