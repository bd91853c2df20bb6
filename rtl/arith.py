"""Amaranth twins of :mod:`golden.arith`: saturation and shifts as expressions.

Each function takes and returns Amaranth values; widths grow exactly (no wrap) until a
``saturate`` narrows a value to its storage width, as ``docs/fixed_point.md`` specifies.
"""

from amaranth.hdl import Cat, Const, Mux, unsigned

from golden.arith import smax, smin

__all__ = ["fits_signed", "saturate", "saturate_unsigned", "decay", "round_shift", "round_half", "round_shift_var",
           "one_hot_pick", "widen", "in_small_range"]


def fits_signed(x, bits):
    """Whether signed ``x`` lies in the signed ``bits``-bit range, from its top bits: they
    are all zeros or all ones from bit ``bits - 1`` up.  (A compare with a constant would
    become a carry chain as wide as ``x``: yosys maps it before the LUT mapper sees it.)"""
    if len(x) <= bits:
        return Const(1, 1)
    top = x[bits - 1:]
    return ~top.any() | top.all()


def saturate(x, bits):
    """Clamp signed ``x`` to ``bits`` bits; result is ``signed(bits)``."""
    if not x.shape().signed:
        x = Cat(x, Const(0, 1)).as_signed()      # zero-extend, then treat as signed
    if len(x) <= bits:                           # always fits: sign-extend
        return Cat(x, x[-1].replicate(bits - len(x))).as_signed()
    return Mux(fits_signed(x, bits), x[:bits], Mux(x[-1], smin(bits), smax(bits)))[:bits].as_signed()


def saturate_unsigned(x, bits):
    """Clamp ``x`` (signed or unsigned) to ``[0, 2**bits - 1]``; result is ``unsigned(bits)``."""
    top = (1 << bits) - 1
    negative = x[-1] if x.shape().signed else Const(0, 1)
    mag = x[:-1] if x.shape().signed else x              # the bits of a nonnegative x
    over = mag[bits:].any() if len(mag) > bits else Const(0, 1)
    return Mux(negative, 0, Mux(over, top, mag))[:bits]


def decay(x, k):
    """``x - ((x + 2**k - 1) >> k)``: leak by ``1 - 2**-k``, rounded down."""
    return x - ((x + ((1 << k) - 1)) >> k)


def round_shift(x, r):
    """``(x + 2**(r-1)) >> r`` for a constant ``r >= 0`` (negative ``r`` shifts left)."""
    if r == 0:
        return x
    if r < 0:
        return x << -r
    return (x + (1 << (r - 1))) >> r


def round_half(x, r, max_shift=31):
    """``x + (2**r >> 1)``: the rounding half of :func:`round_shift_var` (its first stage)."""
    return x + ((Const(1, unsigned(max_shift + 1)) << r) >> 1)


def round_shift_var(x, r, max_shift=31):
    """``(x + (2**r >> 1)) >> r`` for a run-time shift amount ``r`` (a Value, 0..max_shift)."""
    return round_half(x, r, max_shift) >> r


def one_hot_pick(pairs):
    """The word whose select is high, of ``(select, word)`` pairs with at most one select
    high (0 when none is): an AND-OR, with no priority chain and no select decode behind it."""
    picked = 0
    for select, word in pairs:
        picked = picked | Mux(select, word, 0)
    return picked


def widen(v, bits):
    """``v`` extended to ``bits`` bits by its shape (sign-extended if signed), as an
    unsigned value: a wire, no logic."""
    pad = bits - len(v)
    return Cat(v, v[-1].replicate(pad) if v.shape().signed else Const(0, pad))


def in_small_range(v, lo, hi):
    """``lo <= v <= hi`` for constants ``0 <= lo``: a zero test of ``v``'s high bits and
    compares of the few low ones, instead of two compares as wide as ``v``."""
    if hi < lo:
        return Const(0, 1)
    k = max(1, hi.bit_length())
    low = v.as_unsigned()[:k]
    return (v.as_unsigned()[k:] == 0) & (low >= lo) & (low <= hi)
