"""The momentum feedback matrices ``M_l`` (one ``n_l x m`` matrix per hidden layer).

Per training time step, for each hidden layer (``z_l`` = this step's noise, ``oc = o - b``)::

    g_l = sat_sig( round_shift(M_l e, feedback_scale_bits + error_frac_bits - signal_frac_bits) )
    M_l = sat_fb( decay(M_l, feedback_decay_shift) + z_l (oc >> feedback_input_shift)^T )

``g_l`` uses ``M_l`` as it stood *before* this step's update (one read of each entry serves
both).  ``M_l`` thus tracks ``(1 - lambda_M) sum z o^T``: the momentum estimate of the
hidden-to-output Jacobian (transposed), in units of ``2**-feedback_scale_bits``.
The baseline ``b`` is a running mean of ``o``: ``b += (o - b) >> baseline_shift`` (after
``oc`` is taken).
"""

import numpy as np

from .arith import decay, round_shift, saturate

__all__ = ["init_feedback", "top_down_signal", "feedback_update", "baseline_update"]


def init_feedback(cfg, rng):
    """Initial ``M_l``: zeros, or (``feedback_init='random'``) small seeded values."""
    m = cfg.n_outputs
    if cfg.feedback_init == "zero":
        return [np.zeros((n, m), dtype=np.int64) for n in cfg.hidden]
    # std 1/16 in real units; below one LSB when feedback_scale_bits < 4 (a float, so that a
    # legal configuration with a small scale does not ask for a negative shift)
    scale = 2.0 ** (cfg.feedback_scale_bits - 4)
    return [saturate(np.rint(rng.normal(0.0, scale, (n, m))).astype(np.int64), cfg.feedback_bits)
            for n in cfg.hidden]


def top_down_signal(cfg, M, e):
    """``g = M e`` as a ``signal_bits`` integer."""
    shift = cfg.feedback_scale_bits + cfg.error_frac_bits - cfg.signal_frac_bits
    return saturate(round_shift(M @ e, shift) if shift >= 0 else (M @ e) << -shift,
                    cfg.signal_bits)


def feedback_update(cfg, M, z, oc):
    """Momentum update of one feedback matrix with this step's noise and centred output."""
    step = np.right_shift(oc, cfg.feedback_input_shift)
    return saturate(decay(M, cfg.feedback_decay_shift) + np.outer(z, step), cfg.feedback_bits)


def baseline_update(cfg, b, oc):
    """Running mean of the readout: ``b + ((o - b) >> baseline_shift)``."""
    return b + np.right_shift(oc, cfg.baseline_shift)
