"""Fixed-point trace register update (twin of :mod:`golden.trace`).

``trace_step`` is split in two so that a pipeline can register between the halves:
``trace_decay`` (two carry chains) and ``trace_add_spike`` (one, and the saturation).
"""

from amaranth.hdl import Mux

from .arith import decay, saturate_unsigned

__all__ = ["trace_step", "trace_decay", "trace_add_spike"]


def trace_step(cfg, a, s):
    """``sat_u(decay(a, leak_shift) + (s << trace_frac_bits))`` for one lane."""
    return trace_add_spike(cfg, trace_decay(cfg, a), s)


def trace_decay(cfg, a):
    """``decay(a, leak_shift)``."""
    return decay(a, cfg.leak_shift)


def trace_add_spike(cfg, decayed, s):
    """``sat_u(decayed + (s << trace_frac_bits))``."""
    return saturate_unsigned(decayed + Mux(s, 1 << cfg.trace_frac_bits, 0), cfg.trace_bits)
