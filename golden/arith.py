"""Integer primitives shared by every block: saturation, shifts with stated rounding.

All values are Python/NumPy integers (int64 in arrays).  These few functions are the only
places where a rounding or saturation rule is written; every block of the model calls them.
"""

import numpy as np

__all__ = ["smin", "smax", "saturate", "saturate_unsigned", "decay", "round_shift", "floor_shift"]


def smin(bits):
    """Smallest two's-complement value of ``bits`` bits."""
    return -(1 << (bits - 1))


def smax(bits):
    """Largest two's-complement value of ``bits`` bits."""
    return (1 << (bits - 1)) - 1


def saturate(x, bits):
    """Clamp to the signed ``bits``-bit range (never wraps)."""
    # np.minimum/np.maximum: same result as np.clip at a fraction of its call overhead
    return np.minimum(np.maximum(x, -(1 << (bits - 1))), (1 << (bits - 1)) - 1)


def saturate_unsigned(x, bits):
    """Clamp to ``[0, 2**bits - 1]``."""
    return np.minimum(np.maximum(x, 0), (1 << bits) - 1)


def floor_shift(x, r):
    """Arithmetic right shift: ``floor(x / 2**r)``."""
    return np.right_shift(x, r)


def round_shift(x, r):
    """``x / 2**r`` rounded to nearest, ties upward: ``(x + 2**(r-1)) >> r`` (``r = 0``: ``x``)."""
    if r == 0:
        return x
    return np.right_shift(x + (1 << (r - 1)), r)


def decay(x, k):
    """Leak by ``lambda = 1 - 2**-k``, rounded down: ``floor(lambda * x) = x - ceil(x / 2**k)``.

    Computed as ``x - ((x + 2**k - 1) >> k)``.  Rounding down makes a positive trace reach
    exactly zero (``decay(1, k) == 0``), so an old spike stops costing update cycles.
    """
    return x - np.right_shift(x + ((1 << k) - 1), k)
