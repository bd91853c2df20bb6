"""The LFSR noise bank: one Fibonacci LFSR per lane, Rademacher noise for the neurons.

Lane ``p`` (``0 <= p < P``) owns a ``W``-bit register ``S`` (``W = cfg.lfsr_bits``).  Bit ``i``
of ``S`` is the sequence bit ``b[n + i]``; one step outputs ``b[n] = S & 1`` and shifts in
``b[n + W] = XOR_t b[n + t]`` over the taps ``t`` of :data:`golden.config.LFSR_TAPS`::

    out = S & 1
    fb  = parity(S & TAPMASK)
    S   = (S >> 1) | (fb << (W - 1))

Drawing order (the same in the RTL): in a training time step, layer by layer
(``l = 1 .. L``), word by word (``c = 0 .. ceil(n_l / P) - 1``), every lane steps once; neuron
``j = c * P + p`` gets ``z_j = +1`` if lane ``p`` output 1, else ``-1``.  Lanes whose
neuron index is past the layer's end still step (their bit is unused).  No step is taken
in inference mode.

Antithetic noise (``cfg.antithetic``): a sample's time steps pair up as ``(2k, 2k + 1)``.
Step ``2k`` draws as above; step ``2k + 1`` injects ``-z`` of step ``2k`` for every neuron
and takes no LFSR step at all (the bank holds), so a sample of ``T`` steps consumes the
bits of ``T / 2`` steps.  ``z`` is ``+/-1``, so ``-z`` is exact: the other sign bit.

Seeds: lane ``p`` starts at ``numpy.random.SeedSequence([seed, 2]).generate_state(P)[p]``
masked to ``W`` bits, with 0 replaced by 1 (the all-zero state is the LFSR's fixed point).
"""

import numpy as np

from .config import LFSR_TAPS

__all__ = ["lane_seeds", "LfsrBank", "sample_noise"]

_SMALL_DRAW = 4096     # bits per lane up to which draw() steps Python integers


def lane_seeds(cfg):
    """Initial LFSR state of every lane for ``cfg``."""
    words = np.random.SeedSequence([cfg.seed, 2]).generate_state(cfg.lanes, dtype=np.uint64)
    mask = (1 << cfg.lfsr_bits) - 1
    seeds = [int(w) & mask for w in words]
    return [s if s else 1 for s in seeds]


class LfsrBank:
    """``P`` Fibonacci LFSRs stepped together.

    :meth:`step` is the bit-level reference (what the RTL does per cycle); :meth:`draw`
    gives the same bits many steps at a time for speed.  Tests check the two agree.
    """

    def __init__(self, width, states):
        if width not in LFSR_TAPS:
            raise ValueError(f"lfsr_bits must be one of {sorted(LFSR_TAPS)}, got {width}")
        self.width = width
        self.taps = LFSR_TAPS[width]
        self.tapmask = sum(1 << t for t in self.taps)
        self.mask = (1 << width) - 1
        states = np.asarray(states, dtype=np.uint64)
        if np.any(states == 0) or np.any(states > self.mask):
            raise ValueError(f"LFSR states must be nonzero {width}-bit values")
        self.states = states.copy()
        # bits that can be produced at once: every tap of every new bit must already be
        # inside the register, i.e. chunk <= width - max(taps)
        self.chunk = width - max(self.taps)

    @classmethod
    def from_config(cls, cfg):
        return cls(cfg.lfsr_bits, lane_seeds(cfg))

    def step(self):
        """Step every lane once; returns the ``P`` output bits (uint8)."""
        s = self.states
        out = (s & np.uint64(1)).astype(np.uint8)
        fb = np.zeros_like(s)
        for t in self.taps:
            fb ^= (s >> np.uint64(t)) & np.uint64(1)
        self.states = (s >> np.uint64(1)) | (fb << np.uint64(self.width - 1))
        return out

    def draw(self, k):
        """Step every lane ``k`` times; returns ``P x k`` output bits (uint8), step order."""
        if k <= _SMALL_DRAW:
            return self._draw_small(k)
        out = np.empty((len(self.states), k), dtype=np.uint8)
        done = 0
        shifts = np.arange(self.chunk, dtype=np.uint64)
        while done < k:
            n = min(self.chunk, k - done)
            s = self.states
            out[:, done:done + n] = ((s[:, None] >> shifts[None, :n]) & np.uint64(1))
            f = np.zeros_like(s)
            for t in self.taps:
                f ^= s >> np.uint64(t)
            f &= np.uint64((1 << n) - 1)
            self.states = (s >> np.uint64(n)) | (f << np.uint64(self.width - n))
            done += n
        return out

    def _draw_small(self, k):
        """:meth:`draw` for a few bits (a sample's noise): the same recurrence on Python
        integers, lane by lane, which beats NumPy calls on ``P``-element arrays."""
        width, chunk, taps = self.width, self.chunk, self.taps
        nbytes = -(-k // 8)
        packed, states = bytearray(), []
        for s in self.states.tolist():
            acc, done = 0, 0
            while done < k:
                n = min(chunk, k - done)
                keep = (1 << n) - 1
                acc |= (s & keep) << done
                f = 0
                for t in taps:
                    f ^= s >> t
                s = (s >> n) | ((f & keep) << (width - n))
                done += n
            packed += acc.to_bytes(nbytes, "little")
            states.append(s)
        self.states = np.array(states, dtype=np.uint64)
        bits = np.frombuffer(bytes(packed), dtype=np.uint8).reshape(len(states), nbytes)
        return np.unpackbits(bits, axis=1, count=k, bitorder="little")

    def rademacher(self, n):
        """Noise for one layer of ``n`` neurons: ``+1/-1`` int64, neuron order."""
        groups = -(-n // len(self.states))
        bits = self.draw(groups)             # lane p, word c -> neuron c * P + p
        return (bits.T.reshape(-1)[:n].astype(np.int64) * 2) - 1


def sample_noise(cfg, bank, timesteps):
    """A training sample's noise, drawn from ``bank`` at once (the same bits as step by step).

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Layer sizes, lanes and ``antithetic``.
    bank : LfsrBank
        Stepped in place: ``timesteps`` steps' words, or ``ceil(timesteps / 2)`` with
        ``antithetic``.
    timesteps : int
        Steps of the sample.

    Returns
    -------
    list of list of numpy.ndarray
        ``out[t][l]``: the ``+/-1`` noise of layer ``l`` on step ``t``.
    """
    groups = [cfg.groups(n) for n in cfg.hidden]
    per_step = sum(groups)
    drawn = -(-timesteps // 2) if cfg.antithetic else timesteps
    z = bank.draw(drawn * per_step).astype(np.int64) * 2 - 1     # lane x (step, layer, word)
    out = []
    for t in range(timesteps):
        if cfg.antithetic and t % 2:
            out.append([-zl for zl in out[-1]])      # the pair's second step: the bank holds
            continue
        layers, pos = [], (t // 2 if cfg.antithetic else t) * per_step
        for n, g in zip(cfg.hidden, groups):
            layers.append(z[:, pos:pos + g].T.reshape(-1)[:n])
            pos += g
        out.append(layers)
    return out
