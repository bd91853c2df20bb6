"""On-chip spike encoding ``lfsr_rate``: 8-bit pixels against 8-bit LFSR draws.

This is the reference the resident feeder (``rtl/feeder.py``) reproduces bit for bit; the
definition, with the reasons, is in docs/fixed_point.md, section "On-chip input encoding".

Pixels
    A feature ``x`` in ``[0, 1]`` becomes the byte ``q = floor(255 * x + 0.5)`` (0..255,
    round half up).  Digits' ``v / 16`` (``v`` = 0..16) gives ``q = floor(255 v / 16 + 1/2)``,
    exact in float64.
Lanes
    ``E = min(32, n_inputs)`` Fibonacci LFSRs of 32 bits (taps of :data:`LFSR_TAPS` ``[32]``,
    the same recurrence as the noise bank, :mod:`golden.noise`).  Input ``i`` belongs to lane
    ``i % 32`` of spike word ``i // 32``.
Draws
    For every spike word the feeder sends (sample by sample, time step by time step, word by
    word), every lane takes one 8-bit draw ``u = S & 0xFF`` (its next eight output bits,
    output ``j`` at bit ``j``) and then steps eight times in one cycle,
    ``S = (S >> 8) | ((XOR_t (S >> t)) & 0xFF) << 24``.  Input ``i`` of that word spikes iff
    ``u < q[i]`` (``q = 0`` never spikes, ``q = 255`` spikes with probability 255/256).
    Lanes past ``n_inputs`` in the last word still draw (their bits are unused).
Seeds and epochs
    Each split has its own bank.  Lane ``k`` of split ``s`` (0 train, 1 test, 2 validation) starts at
    ``SeedSequence([seed, 4, s]).generate_state(E)[k]`` (32 bits, 0 replaced by 1).  The test
    bank restarts from its seeds at every evaluation (every evaluation sees the same
    spikes, as with ``rate``); the train bank never restarts, so epoch ``e`` of a training
    split of ``N`` samples starts after ``e * N * T * ceil(n_inputs / 32)`` draws.  The
    hardware needs no arithmetic on the epoch number: it just keeps stepping.
"""

import numpy as np

from .config import LFSR_TAPS
from .noise import LfsrBank

__all__ = ["ENCODER_BITS", "MAX_ENCODER_LANES", "quantise_pixels", "encoder_lanes",
           "encoder_seeds", "draw_bytes", "spikes_from_states", "encode_lfsr_rate"]

ENCODER_BITS = 32          # LFSR width of an encoder lane
DRAW_BITS = 8              # bits per draw (a pixel is 8 bits)
MAX_ENCODER_LANES = 32     # one lane per bit of a spike word
TRAIN, TEST, VAL = 0, 1, 2          # the split codes of golden.encoding

# Eight steps in one cycle need every tap of the eight new bits inside the register:
# 32 - max(tap) = 10 >= 8 (the same condition as LfsrBank.chunk).
assert ENCODER_BITS - max(LFSR_TAPS[ENCODER_BITS]) >= DRAW_BITS


def quantise_pixels(x):
    """Features in ``[0, 1]`` (any shape) -> bytes ``floor(255 x + 1/2)`` as uint8."""
    x = np.asarray(x, dtype=np.float64)
    if x.size and (np.isnan(x).any() or x.min() < 0.0 or x.max() > 1.0):
        raise ValueError("features must lie in [0, 1]")
    return np.floor(255.0 * x + 0.5).astype(np.uint8)


def encoder_lanes(n_inputs):
    """Number of encoder LFSR lanes for ``n_inputs`` inputs: ``min(32, n_inputs)``."""
    if not isinstance(n_inputs, (int, np.integer)) or n_inputs < 1:
        raise ValueError(f"n_inputs must be a positive integer, got {n_inputs!r}")
    return min(MAX_ENCODER_LANES, int(n_inputs))


def encoder_seeds(seed, split, lanes):
    """Initial 32-bit state of every encoder lane of ``split`` (0 train, 1 test, 2 validation)."""
    if split not in (TRAIN, TEST, VAL):
        raise ValueError(f"split must be 0 (train), 1 (test) or 2 (validation), got {split!r}")
    words = np.random.SeedSequence([seed, 4, split]).generate_state(lanes, dtype=np.uint64)
    states = [int(w) & 0xFFFF_FFFF for w in words]
    return [s if s else 1 for s in states]


def draw_bytes(bank, n):
    """``n`` 8-bit draws from every lane of ``bank`` (a 32-bit :class:`LfsrBank`): ``E x n``
    uint16 values, draw ``d`` of lane ``k`` built from output bits ``8d .. 8d + 7``."""
    bits = bank.draw(DRAW_BITS * n).reshape(len(bank.states), n, DRAW_BITS).astype(np.uint16)
    return (bits << np.arange(DRAW_BITS, dtype=np.uint16)).sum(axis=2, dtype=np.uint16)


def _skip(bank, draws):
    """Advance ``bank`` by ``draws`` 8-bit draws without keeping them (bounded memory)."""
    while draws:
        n = min(draws, 1 << 16)
        bank.draw(DRAW_BITS * n)
        draws -= n


def spikes_from_states(q, timesteps, states):
    """The code from explicit lane states: ``q`` (``N x F`` bytes) -> ``(N, T, F)`` bool.

    Returns the spikes and the lane states afterwards (what the hardware's bank holds).
    """
    q = np.asarray(q)
    if q.ndim != 2:
        raise ValueError(f"pixels must be a 2-D array (samples x inputs), got shape {q.shape}")
    n, f = q.shape
    lanes = encoder_lanes(f)
    if len(states) != lanes:
        raise ValueError(f"need {lanes} lane states for {f} inputs, got {len(states)}")
    words = -(-f // MAX_ENCODER_LANES)
    bank = LfsrBank(ENCODER_BITS, states)
    u = draw_bytes(bank, n * timesteps * words).reshape(lanes, n, timesteps, words)
    # input i = 32 w + k uses lane k's draw for word w
    u = u.transpose(1, 2, 3, 0).reshape(n, timesteps, words * lanes)[:, :, :f]
    return u < q[:, None, :].astype(np.uint16), bank.states.copy()


def encode_lfsr_rate(x, timesteps, seed, split=TRAIN, epoch=0, *, pixels=False):
    """The ``lfsr_rate`` code of a whole split, ``(N, T, F)`` bool; see the module docstring.

    Parameters
    ----------
    x : array_like
        ``N x F`` features in ``[0, 1]``, or bytes when ``pixels`` is True.
    timesteps : int
    seed : int
        The configuration seed.
    split : {0, 1, 2}
        0 train, 1 test.  The test split ignores ``epoch`` (its bank restarts every time).
    epoch : int
        Training epoch (0-based); the train bank has drawn ``epoch * N * T * words`` bytes
        before it.
    pixels : bool
        ``x`` already holds the quantised bytes.
    """
    q = np.asarray(x, dtype=np.uint8) if pixels else quantise_pixels(x)
    if q.ndim != 2:
        raise ValueError(f"features must be a 2-D array (samples x features), got shape {q.shape}")
    if not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
    n, f = q.shape
    lanes = encoder_lanes(f)
    states = encoder_seeds(seed, split, lanes)
    if split == TRAIN and epoch:
        bank = LfsrBank(ENCODER_BITS, states)
        _skip(bank, int(epoch) * n * timesteps * -(-f // MAX_ENCODER_LANES))
        states = [int(s) for s in bank.states]
    return spikes_from_states(q, timesteps, states)[0]
