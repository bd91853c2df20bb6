"""Output error lane (twin of :mod:`golden.error`): hard-sigmoid cross-entropy gradient.

``clip(2^(E-1) + q, 0, 2^E) - (is_label << E)`` with ``q = o >> (frac_bits + 2 - E)``, made
without a carry chain: for ``q`` in the signed ``E``-bit range, ``2^(E-1) + q`` is ``q``'s
low ``E`` bits with the top one inverted (``0 .. 2^E - 1``); outside it the clamp gives 0
(``q`` negative) or ``2^E``.  Subtracting ``2^E`` then only changes the two bits above.
(The compares and additions with constants had been carry chains on the class unit's
critical path: 10.5 ns in a 95.3 MHz build.)
"""

from amaranth.hdl import Cat, Mux

from .arith import fits_signed

__all__ = ["output_error"]


def output_error(cfg, o, is_label):
    """``clip(2^(E-1) + (o >> (frac_bits + 2 - E)), 0, 2^E) - (is_label << E)``, signed E + 2 bits."""
    E = cfg.error_frac_bits
    q = (o >> (cfg.frac_bits + 2 - E)).as_signed()
    if len(q) < E:                                     # sign-extend to the E-bit window
        q = Cat(q, q[-1].replicate(E - len(q))).as_signed()
    inside = fits_signed(q, E)
    flipped = Cat(q[:E - 1], ~q[E - 1])                 # 2^(E-1) + q, for q inside
    low = Mux(inside, flipped, 0)                       # p's low E bits (0 when clamped)
    full = ~inside & ~q[-1]                             # p = 2^E: clamped above
    # p - (is_label << E): bit E is p's bit E minus the label, bit E + 1 the sign
    return Cat(low, full ^ is_label, is_label & ~full).as_signed()
