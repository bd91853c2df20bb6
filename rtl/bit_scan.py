"""The bit scan: the set bits of a mask, lowest first, one per cycle.

Passes over inputs visit only the inputs whose spike (forward) or trace (weight update) is
nonzero.  A scan keeps its *candidate* (the next index to visit) in a register, so that the
memory address of a visit comes straight from registers, and refills it from the rest of
the mask, register to register, while the visit's address is out:

====== ===========================================================================
cycle  work
====== ===========================================================================
load   ``cand = lowest(mask)``, ``rest = mask without it``   (from any mask register)
visit  address from ``cand``; ``cand = lowest(rest)``, ``rest = rest without it``
====== ===========================================================================

:func:`lowest_set` is the combinational step: one subtract (a carry chain) isolates the
lowest set bit, an OR per index bit encodes it, so its depth hardly grows with the width.
"""

from amaranth.hdl import Cat, Const

__all__ = ["lowest_set"]


def lowest_set(v):
    """``(index, any, rest)`` of ``v``: the index of its lowest set bit (0 when ``v == 0``),
    whether any bit is set, and ``v`` with that bit cleared."""
    n = len(v)
    below = (v - 1)[:n]                      # the lowest set bit and all under it flip
    rest = v & below
    onehot = v & ~below
    ib = max(1, (n - 1).bit_length())
    index = Cat(*(Cat(*(onehot[i] for i in range(n) if (i >> b) & 1)).any() if n > (1 << b)
                  else Const(0, 1) for b in range(ib)))
    return index, v.any(), rest
