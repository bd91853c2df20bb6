"""The three-factor weight update and the readout update.

Hidden layer ``l`` (after the top-down signal ``g_l``)::

    d_l = sat_sig( round_shift(g_l * psi_l, surrogate_frac_bits) )          # per neuron
    W_l = sat_w( W_l - round_shift(d_l a_{l-1}^T, hidden_shift) )           # per synapse

Readout::

    W_out = sat_w( W_out - round_shift(e a_L^T, readout_shift) )

``hidden_shift = hidden_lr_shift + signal_frac_bits + trace_frac_bits - frac_bits`` and
``readout_shift = readout_lr_shift + error_frac_bits + trace_frac_bits - frac_bits``
turn the products into weight units and apply the learning rates ``2^-lr_shift``.
A synapse with ``d_j = 0`` or ``a_i = 0`` has a zero step: the RTL skips it.
"""

import numpy as np

from .arith import round_shift, saturate

__all__ = ["neuron_factor", "hidden_update", "readout_update"]


def neuron_factor(cfg, g, psi):
    """``d = g * psi`` in signal units."""
    return saturate(round_shift(g * psi, cfg.surrogate_frac_bits), cfg.signal_bits)


def hidden_update(cfg, W, d, a_pre):
    """Three-factor update of one hidden weight matrix (``n_l x n_{l-1}``), in place.

    Event-driven like the RTL: only rows with ``d != 0`` and columns with ``a != 0`` are
    touched (every other step is exactly zero).  Returns ``W``.  (The touched block is
    gathered by columns with ``take`` and written back with one column scatter: the same
    integers as updating ``W[np.ix_(rows, cols)]``, at about half the cost.)
    """
    rows = np.flatnonzero(d)
    cols = np.flatnonzero(a_pre)
    if rows.size and cols.size:
        step = round_shift(np.multiply.outer(d[rows], a_pre[cols]), cfg.hidden_shift)
        block = np.take(W, cols, axis=1)
        if rows.size == len(W):
            block = saturate(block - step, cfg.weight_bits)
        else:
            block[rows] = saturate(np.take(block, rows, axis=0) - step, cfg.weight_bits)
        W[:, cols] = block
    return W


def readout_update(cfg, W, e, a_last):
    """Exact local gradient step of the readout (``m x n_L``)."""
    return saturate(W - round_shift(np.outer(e, a_last), cfg.readout_shift), cfg.weight_bits)
