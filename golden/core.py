"""The bit-exact fixed-point model of the OPZO core: state and the order of one time step.

This is the executable specification the RTL is checked against.  One training time step,
in this order (docs/fixed_point.md explains each choice):

1. ``a_0 = trace_step(a_0, x)``                                   input trace
2. for ``l = 1 .. L``: ``z_l`` from the LFSR bank (training only);
   ``u_l, s_l = lif_step(u_l, s_l, W_l x_{l-1}, z_l)``; ``psi_l = surrogate(u_l)``;
   ``a_l = trace_step(a_l, s_l)``                                  forward pass
3. ``o = sat_out(W_out s_L)``; ``total += o``                     readout
4. training only:
   ``e = output_error(o, y)``; ``oc = o - b``; ``b = baseline_update(b, oc)``;
   for each ``l``: ``g_l = top_down_signal(M_l, e)`` then ``M_l = feedback_update(M_l, z_l, oc)``;
   for each ``l``: ``d_l = neuron_factor(g_l, psi_l)``; ``W_l = hidden_update(W_l, d_l, a_{l-1})``;
   ``W_out = readout_update(W_out, e, a_L)``                      learning

With ``antithetic``, step ``2k + 1`` of a sample injects ``z_l = -z_l`` of step ``2k`` and
the LFSRs hold; ``M`` and the hidden updates use the noise injected on that step.

A sample starts with ``u = s = a = 0`` and ``total = 0``; weights, ``M``, ``b`` and the LFSR
states persist.  The prediction is the index of the largest ``total`` (lowest index wins
ties).  Inference runs steps 1-3 without noise and without stepping the LFSRs.
"""

import numpy as np

from .arith import saturate
from .error import output_error
from .feedback import baseline_update, feedback_update, init_feedback, top_down_signal
from .neuron import lif_step, surrogate
from .noise import LfsrBank, sample_noise
from .trace import trace_step
from .update_rule import hidden_update, neuron_factor, readout_update

__all__ = ["FixedCore", "FIXED_METHODS", "init_weights"]

FIXED_METHODS = ("opzo", "readout", "m_random_frozen", "m_zero_frozen")
# Ablations of OPZO (noise injected, hidden layers trained through M e, but M never updated):
# ``m_random_frozen`` starts M at the seeded random values of ``feedback_init = random``
# (a DFA-like network); ``m_zero_frozen`` keeps M at zero, so no hidden weight moves.
_FROZEN_M = ("m_random_frozen", "m_zero_frozen")


def init_weights(cfg, rng):
    """Seeded initial weights: ``N(0, (gain / sqrt(fan_in))^2)`` quantised to nearest, saturated."""
    out = []
    for fan_in, fan_out in zip(cfg.sizes[:-1], cfg.sizes[1:]):
        std = cfg.init_gain / np.sqrt(fan_in) * cfg.threshold
        w = np.rint(rng.normal(0.0, std, (fan_out, fan_in))).astype(np.int64)
        out.append(saturate(w, cfg.weight_bits))
    return out


def _spike_current(W, s):
    """``W @ s`` for binary spikes ``s`` (exact integers).  A wide matrix sums only the
    columns of active inputs (the same value: silent inputs add zero; MNIST's 784 inputs
    have about 110 active per step); a narrow one uses the dense product, cheaper there."""
    if W.shape[1] < _SPARSE_FAN_IN:
        return W @ s
    return W[:, np.flatnonzero(s)].sum(axis=1, dtype=np.int64)


_SPARSE_FAN_IN = 256   # below this fan-in a dense product beats gathering columns (digits: 64)


class FixedCore:
    """State and time step of the core.

    ``method``: ``opzo`` (the chip), ``readout`` (hidden frozen) or one of the ablations
    ``m_random_frozen`` / ``m_zero_frozen`` (M never updated; see :data:`FIXED_METHODS`).
    """

    def __init__(self, cfg, method="opzo"):
        if method not in FIXED_METHODS:
            raise ValueError(f"method must be one of {FIXED_METHODS} for the fixed-point model, "
                             f"got {method!r}")
        self.cfg = cfg
        self.method = method
        rng = np.random.default_rng([cfg.seed, 1])
        self.weights = init_weights(cfg, rng)
        init = {"m_random_frozen": "random", "m_zero_frozen": "zero"}.get(method, cfg.feedback_init)
        self.feedback = init_feedback(cfg.with_(feedback_init=init), rng)
        self.baseline = np.zeros(cfg.n_outputs, dtype=np.int64)
        self.lfsr = LfsrBank.from_config(cfg)
        self.reset_sample()

    # --- state -----------------------------------------------------------------------
    def reset_sample(self):
        cfg = self.cfg
        self.membranes = [np.zeros(n, dtype=np.int64) for n in cfg.hidden]
        self.spikes = [np.zeros(n, dtype=np.int64) for n in cfg.hidden]
        self.traces = [np.zeros(n, dtype=np.int64) for n in cfg.sizes[:-1]]
        self.total = np.zeros(cfg.n_outputs, dtype=np.int64)
        self.step_index = 0      # time steps of this sample so far (the antithetic phase)
        self.noise = None        # the noise injected on the last step (None: none was)

    def state(self):
        """A deep copy of the complete state, as plain NumPy arrays (for comparisons)."""
        return {
            "weights": [w.copy() for w in self.weights],
            "feedback": [m.copy() for m in self.feedback],
            "membranes": [u.copy() for u in self.membranes],
            "spikes": [s.copy() for s in self.spikes],
            "traces": [a.copy() for a in self.traces],
            "baseline": self.baseline.copy(),
            "total": self.total.copy(),
            "lfsr": self.lfsr.states.copy(),
        }

    # --- checks --------------------------------------------------------------------------
    def _check_spikes(self, x, ndim):
        x = np.asarray(x)
        n_in = self.cfg.n_inputs
        if x.ndim != ndim or x.shape[-1] != n_in:
            want = "n_inputs" if ndim == 1 else "timesteps x n_inputs"
            raise ValueError(f"spikes must have shape ({want}) with n_inputs = {n_in}, got {x.shape}")
        if x.dtype != np.bool_ and x.size and not np.isin(x, (0, 1)).all():
            raise ValueError("spikes must be binary (0 or 1)")
        return x.astype(np.int64)

    def _check_label(self, label):
        m = self.cfg.n_outputs
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < m:
            raise ValueError(f"label must be an integer class in [0, {m - 1}], got {label!r}")
        return int(label)

    # --- one time step -----------------------------------------------------------------
    def step(self, x, label=None, train=False):
        """Advance one time step with input spikes ``x``; returns the readout ``o``."""
        cfg = self.cfg
        x = self._check_spikes(x, 1)
        if train:
            label = self._check_label(label)
        self._step(x, label, train)
        return self._o

    def _draw_noise(self):
        """This step's noise for every layer, in the bank's drawing order; with
        ``antithetic``, on an odd step of the sample, the last step's noise negated (the
        LFSRs do not step)."""
        if self.cfg.antithetic and self.step_index % 2:
            if self.noise is None:
                raise ValueError("an antithetic step needs a noisy training step before it "
                                 "in the same sample")
            return [-z for z in self.noise]
        return [self.lfsr.rademacher(n) for n in self.cfg.hidden]

    def _step(self, x, label, train, noise=None):
        cfg = self.cfg
        L = cfg.n_hidden_layers
        noisy = train and self.method != "readout"
        if noisy and noise is None:
            noise = self._draw_noise()
        self.traces[0] = trace_step(cfg, self.traces[0], x)
        prev = x
        z = noise if noisy else [None] * L
        self.noise = noise if noisy else None
        self.step_index += 1
        psi = [None] * L
        for l in range(L):
            current = _spike_current(self.weights[l], prev)
            self.membranes[l], self.spikes[l] = lif_step(
                cfg, self.membranes[l], self.spikes[l], current, z[l])
            psi[l] = surrogate(cfg, self.membranes[l])
            self.traces[l + 1] = trace_step(cfg, self.traces[l + 1], self.spikes[l])
            prev = self.spikes[l]
        o = saturate(_spike_current(self.weights[L], prev), cfg.output_bits)
        self.total += o
        self._o = o
        if not train:
            return
        e = output_error(cfg, o, label)
        if self.method != "readout":
            oc = o - self.baseline
            self.baseline = baseline_update(cfg, self.baseline, oc)
            g = [top_down_signal(cfg, M, e) for M in self.feedback]
            if self.method not in _FROZEN_M:
                self.feedback = [feedback_update(cfg, M, z[l], oc)
                                 for l, M in enumerate(self.feedback)]
            self.factors = [neuron_factor(cfg, g[l], psi[l]) for l in range(L)]
            for l in range(L):
                self.weights[l] = hidden_update(cfg, self.weights[l], self.factors[l], self.traces[l])
        self.weights[L] = readout_update(cfg, self.weights[L], e, self.traces[L])
        self._e = e

    # --- whole samples -----------------------------------------------------------------------
    def run_sample(self, spikes, label=None, train=False):
        """Run one sample (``T x n_inputs`` spikes); returns the predicted class."""
        spikes = self._check_spikes(spikes, 2)
        if train:
            label = self._check_label(label)
        self.reset_sample()
        if train and self.method != "readout":
            # The bank's bits are consumed strictly in order, so the whole sample's noise can
            # be drawn at once: the same bits as drawing step by step, at a fraction of the cost.
            for x, noise in zip(spikes, self._sample_noise(len(spikes))):
                self._step(x, label, train, noise)
        else:
            for x in spikes:
                self._step(x, label, train)
        return int(np.argmax(self.total))

    def _sample_noise(self, timesteps):
        return sample_noise(self.cfg, self.lfsr, timesteps)

    def evaluate(self, spikes, labels):
        """Accuracy (fraction) and predictions over ``N x T x n_inputs`` spikes."""
        preds = np.array([self.run_sample(x) for x in spikes], dtype=np.int64)
        return float(np.mean(preds == np.asarray(labels))), preds
