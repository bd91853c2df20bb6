"""The LIF neuron: leak, soft reset, input current, noise, threshold and surrogate.

Per hidden layer and time step (integers, ``V_th = 1 << frac_bits``)::

    u   = sat_mem( decay(u_prev - V_th * s_prev, leak_shift) + sum_{i: x_i = 1} W[:, i] )
    s   = (u + sigma * z >= V_th)                  # z = +/-1 in training, 0 in inference
    psi = max(0, V_th - |u - V_th|) >> (frac_bits - surrogate_frac_bits)

The input current is summed exactly (a wide accumulator) and the membrane saturates once.
``u + sigma * z`` and ``|u - V_th|`` are formed one bit wider than the membrane, so
neither wraps.  The surrogate is a triangle of half-width V_th peaking at the threshold,
in ``[0, 1 << surrogate_frac_bits]``.
"""

import numpy as np

from .arith import decay, saturate

__all__ = ["lif_step", "surrogate"]


def lif_step(cfg, u_prev, s_prev, current, z):
    """One LIF update; returns ``(u, s)`` (``s`` int64 0/1).  ``z`` may be None (no noise)."""
    vth = cfg.threshold
    u = saturate(decay(u_prev - vth * s_prev, cfg.leak_shift) + current, cfg.membrane_bits)
    noisy = u if z is None else u + cfg.sigma * z
    return u, (noisy >= vth).astype(np.int64)


def surrogate(cfg, u):
    """Triangle surrogate derivative ``psi(u)`` as an unsigned integer."""
    vth = cfg.threshold
    return np.right_shift(np.maximum(0, vth - np.abs(u - vth)),
                          cfg.frac_bits - cfg.surrogate_frac_bits)
