"""The order of the training samples on a resident board: an on-chip Fisher-Yates shuffle.

This is the reference the resident system's order memory (``rtl/sample_order.py``)
reproduces bit for bit; docs/fixed_point.md, section "Sample order", gives the definition
with its reasons.

Order
    An array ``order`` of ``n_train`` sample rows, the identity after reset and after a
    restart.  A training run of ``count`` samples feeds rows ``order[0], ..., order[count-1]``;
    test runs always read their split in store order.
Shuffle
    ``shuffle(n)`` permutes ``order[0:n]`` in place, Fisher-Yates from the top:
    for ``i = n - 1`` down to ``1``: draw ``r`` (16 bits), ``j = (r * (i + 1)) >> 16``
    (``0 <= j <= i``; a multiply instead of a modulo, bias below ``n / 2^16``), swap
    ``order[i]`` and ``order[j]``.  Each shuffle permutes the previous order, so epoch ``e``'s
    order is the composition of ``e`` shuffles of the identity.
Draws
    One 32-bit Fibonacci LFSR (taps of :data:`golden.config.LFSR_TAPS` ``[32]``, the noise
    bank's recurrence); a draw is its next 16 output bits (output ``k`` at bit ``k``, that is
    ``S & 0xFFFF``), after which it has stepped 16 times.  Seed
    ``SeedSequence([seed, 5]).generate_state(1)`` (0 replaced by 1); a restart reloads it.
"""

import numpy as np

from .config import LFSR_TAPS
from .noise import LfsrBank

__all__ = ["ORDER_BITS", "DRAW_BITS", "shuffle_seed", "SampleOrder"]

ORDER_BITS = 32        # LFSR width
DRAW_BITS = 16         # bits per draw; j = (r * (i + 1)) >> DRAW_BITS
MAX_ROWS = 1 << DRAW_BITS


def shuffle_seed(seed):
    """The order LFSR's initial state for configuration seed ``seed``."""
    s = int(np.random.SeedSequence([seed, 5]).generate_state(1, dtype=np.uint64)[0]) & 0xFFFF_FFFF
    return s or 1


class SampleOrder:
    """The order array and its LFSR.

    Parameters
    ----------
    n_train : int
        Rows the order holds (1 .. 65536).
    seed : int
        The configuration seed.
    """

    def __init__(self, n_train, seed):
        if not isinstance(n_train, (int, np.integer)) or not 1 <= n_train <= MAX_ROWS:
            raise ValueError(f"n_train must be an integer in [1, {MAX_ROWS}], got {n_train!r}")
        self.n_train, self.seed = int(n_train), seed
        self.restart()

    def restart(self):
        """Identity order, LFSR back to its seed."""
        self.order = np.arange(self.n_train, dtype=np.int64)
        self.lfsr = LfsrBank(ORDER_BITS, [shuffle_seed(self.seed)])
        assert self.lfsr.taps == LFSR_TAPS[ORDER_BITS]

    def draw(self):
        bits = self.lfsr.draw(DRAW_BITS)[0].astype(np.int64)
        return int((bits << np.arange(DRAW_BITS)).sum())

    def shuffle(self, n):
        """Fisher-Yates over ``order[0:n]`` (``0 <= n <= n_train``; ``n < 2`` draws nothing)."""
        if not 0 <= n <= self.n_train:
            raise ValueError(f"n must be in [0, {self.n_train}], got {n}")
        o = self.order
        for i in range(n - 1, 0, -1):
            j = (self.draw() * (i + 1)) >> DRAW_BITS
            o[i], o[j] = o[j], o[i]
        return o
