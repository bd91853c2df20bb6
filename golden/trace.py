"""Fixed-point presynaptic eligibility traces: ``a = decay(a, leak_shift) + (s << trace_frac_bits)``.

Unsigned, ``trace_bits`` wide, saturating.  With ``lambda = 1/2`` and six fraction bits a
neuron that spikes every step settles at 128 (= 2.0).  The input layer's trace ``a_0`` is
updated from the input spikes in the same way, before any layer runs.
"""

from .arith import decay, saturate_unsigned

__all__ = ["trace_step"]


def trace_step(cfg, a, s):
    """New trace from the old one and this step's spikes (0/1)."""
    return saturate_unsigned(decay(a, cfg.leak_shift) + (s << cfg.trace_frac_bits), cfg.trace_bits)
