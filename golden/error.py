"""Output error ``e = dL/do`` in fixed point.

``hardsigmoid`` (the default and only hardware form): the gradient of a per-class sigmoid
cross-entropy with the sigmoid made piecewise linear, ``e_k = clip(1/2 + o_k / 4, 0, 1) - y_k``::

    e_k = clip((1 << (E-1)) + (o_k >> (frac_bits + 2 - E)), 0, 1 << E) - (y_k << E)

with ``E = error_frac_bits``.  It is bounded (|e| <= 1), needs one shift, one add and a clamp
per class, and no normalisation across classes; docs/fixed_point.md gives the measurements
that chose it over MSE and softmax.
"""

import numpy as np

__all__ = ["output_error"]


def output_error(cfg, o, label):
    """Error vector (int64, ``n_outputs``) for readout ``o`` and class ``label``."""
    E = cfg.error_frac_bits
    p = np.minimum(np.maximum((1 << (E - 1)) + np.right_shift(o, cfg.frac_bits + 2 - E), 0), 1 << E)
    p[label] -= 1 << E
    return p
