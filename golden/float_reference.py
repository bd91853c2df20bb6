"""Float reference: the online SNN trained with OPZO and its baselines.

Same network, encoding and schedule as the fixed-point core (:mod:`golden.core`), but in
float64 and with the textbook forms of each method.  Per time step ``t`` of a sample:

1. input trace     ``a0 = lam * a0 + x[t]``
2. hidden LIF      ``u_l = lam * (u_l - V_th * s_l) + W_l s_{l-1}``;
                   ``s_l = H(u_l + sigma * z_l - V_th)``, ``z_l`` Rademacher (+/-1)
                   (noise only for the perturbation methods ``opzo`` and ``zo``);
                   ``antithetic``: step ``2k + 1`` of a sample uses ``-z_l`` of step ``2k``
                   ``a_l = lam * a_l + s_l``
3. readout         ``o = W_out s_L``; error ``e = dL/do`` (the configuration's ``error_form``: hard-sigmoid by default, as the chip; softmax cross-entropy or MSE)
4. hidden signal   ``g_l`` by method (below), surrogate ``psi_l = max(0, 1 - |u_l - V_th|)``
5. updates         ``W_l -= eta_h * (g_l * psi_l) a_{l-1}^T``; ``W_out -= eta_o * e a_L^T``

Hidden learning signals ``g_l``:

``bp``      online spatial backprop (OTTT): ``g_L = W_out^T e``,
            ``g_l = W_{l+1}^T (g_{l+1} * psi_{l+1})``.
``dfa``     direct feedback alignment: ``g_l = B_l e`` with a fixed random ``B_l``.
``opzo``    momentum feedback: ``g_l = M_l e`` (``M_l`` before this step's update), then
            ``M_l <- lam_M M_l + (1 - lam_M) z_l (o - b)^T`` with ``b`` a running mean of ``o``.
``zo``      single-point zeroth order (node perturbation): ``g_l = z_l ((o - b) . e)``,
            i.e. OPZO without momentum.
``readout`` hidden layers frozen: ``g_l = 0``.
"""

import numpy as np

__all__ = ["METHODS", "ERRORS", "FloatNetwork"]

METHODS = ("opzo", "bp", "dfa", "zo", "readout")
ERRORS = ("softmax", "hardsigmoid", "mse")


def output_error(kind, o, label):
    """``dL/do`` for one time step."""
    y = np.zeros_like(o)
    y[label] = 1.0
    if kind == "softmax":
        p = np.exp(o - o.max())
        return p / p.sum() - y
    if kind == "hardsigmoid":  # per-class sigmoid cross-entropy, sigmoid made piecewise linear
        return np.clip(0.5 + o / 4.0, 0.0, 1.0) - y
    if kind == "mse":
        return o - y
    raise ValueError(f"error must be one of {ERRORS}, got {kind!r}")


class FloatNetwork:
    """Online float SNN: ``sizes = (n_in, h_1, ..., h_L, n_out)``."""

    def __init__(self, sizes, method="opzo", *, seed=0, leak=0.5, threshold=1.0, sigma=0.25,
                 lr_hidden=0.05, lr_readout=0.01, momentum=0.999, baseline_decay=0.01,
                 error="softmax", init_gain=1.0, feedback_init="zero", antithetic=False):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if error not in ERRORS:
            raise ValueError(f"error must be one of {ERRORS}, got {error!r}")
        if len(sizes) < 3 or min(sizes) < 1:
            raise ValueError(f"sizes needs an input, >= 1 hidden layer and an output, all >= 1, got {sizes}")
        self.sizes = tuple(int(s) for s in sizes)
        self.method = method
        self.leak, self.threshold, self.error = leak, threshold, error
        self.sigma = sigma if method in ("opzo", "zo") else 0.0
        self.antithetic = bool(antithetic)
        self.lr_hidden, self.lr_readout = lr_hidden, lr_readout
        self.momentum, self.baseline_decay = momentum, baseline_decay
        self.rng = np.random.default_rng(seed)
        n_hidden = len(self.sizes) - 2
        self.weights = [self.rng.normal(0.0, init_gain / np.sqrt(fan_in), (fan_out, fan_in))
                        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:])]
        m = self.sizes[-1]
        self.feedback = [np.zeros((n, m)) for n in self.sizes[1:-1]]
        if feedback_init not in ("zero", "random"):
            raise ValueError(f"feedback_init must be 'zero' or 'random', got {feedback_init!r}")
        if method == "opzo" and feedback_init == "random":   # std 1/16, as on the chip
            self.feedback = [self.rng.normal(0.0, 1.0 / 16, (n, m)) for n in self.sizes[1:-1]]
        if method == "dfa":
            self.feedback = [self.rng.normal(0.0, 1.0 / np.sqrt(m), (n, m)) for n in self.sizes[1:-1]]
        self.baseline = np.zeros(m)
        self.n_hidden = n_hidden

    @classmethod
    def from_config(cls, cfg, method, lr_hidden=None):
        """The float twin of a :class:`golden.config.CoreConfig`: every shift becomes its power of two.

        ``lr_hidden`` defaults to ``2**-cfg.hidden_lr_shift``.  Each method's rates are its
        own: the training CLI applies the values tuned on validation (``tools/tuned.py``).
        """
        if lr_hidden is None:
            lr_hidden = 2.0 ** -cfg.hidden_lr_shift
        return cls(cfg.sizes, method, seed=cfg.seed, leak=1.0 - 2.0 ** -cfg.leak_shift,
                   sigma=2.0 ** -cfg.noise_shift, lr_hidden=lr_hidden,
                   lr_readout=2.0 ** -cfg.readout_lr_shift,
                   momentum=1.0 - 2.0 ** -cfg.feedback_decay_shift,
                   baseline_decay=2.0 ** -cfg.baseline_shift, error="hardsigmoid",
                   init_gain=cfg.init_gain, feedback_init=cfg.feedback_init,
                   antithetic=cfg.antithetic)

    def set_learning_rates(self, lr_hidden, lr_readout):
        self.lr_hidden, self.lr_readout = lr_hidden, lr_readout

    def run_sample(self, spikes, label=None, train=False):
        """Run one sample of ``T x n_in`` spikes; returns the predicted class.

        The summed readout is left in ``self.total``.
        """
        lam, vth = self.leak, self.threshold
        L = self.n_hidden
        u = [np.zeros(n) for n in self.sizes[1:-1]]
        s = [np.zeros(n) for n in self.sizes[1:-1]]
        a = [np.zeros(n) for n in self.sizes[:-1]]
        total = np.zeros(self.sizes[-1])
        sigma = self.sigma if train else 0.0
        z_prev = None
        for t, x in enumerate(spikes):
            x = x.astype(np.float64)
            a[0] = lam * a[0] + x
            prev = x
            z = []
            psi = []
            for l in range(L):
                u[l] = lam * (u[l] - vth * s[l]) + self.weights[l] @ prev
                if sigma and self.antithetic and t % 2:
                    zl = -z_prev[l]              # the pair's second step: no new draw
                else:
                    zl = self.rng.choice((-1.0, 1.0), size=u[l].shape) if sigma else None
                noisy = u[l] + sigma * zl if sigma else u[l]
                s[l] = (noisy >= vth).astype(np.float64)
                a[l + 1] = lam * a[l + 1] + s[l]
                psi.append(np.maximum(0.0, 1.0 - np.abs(u[l] - vth) / vth))
                z.append(zl)
                prev = s[l]
            z_prev = z
            o = self.weights[L] @ prev
            total += o
            if not train:
                continue
            e = output_error(self.error, o, label)
            oc = o - self.baseline
            self.baseline += self.baseline_decay * oc
            g = self._hidden_signals(e, oc, z, psi)
            for l in range(L):
                if g[l] is not None:
                    self.weights[l] -= self.lr_hidden * np.outer(g[l] * psi[l], a[l])
            self.weights[L] -= self.lr_readout * np.outer(e, a[L])
        self.total = total
        return int(np.argmax(total))

    def _hidden_signals(self, e, oc, z, psi):
        L = self.n_hidden
        if self.method == "readout":
            return [None] * L
        if self.method == "bp":
            g = [None] * L
            g[L - 1] = self.weights[L].T @ e
            for l in range(L - 2, -1, -1):
                g[l] = self.weights[l + 1].T @ (g[l + 1] * psi[l + 1])
            return g
        if self.method == "dfa":
            return [B @ e for B in self.feedback]
        if self.method == "zo":
            return [zl * (oc @ e) for zl in z]
        g = [M @ e for M in self.feedback]
        for l, M in enumerate(self.feedback):
            M *= self.momentum
            M += (1.0 - self.momentum) * np.outer(z[l], oc)
        return g

    def evaluate(self, spikes, labels):
        """Accuracy (fraction) and predictions for ``N x T x n_in`` spikes."""
        preds = np.array([self.run_sample(x) for x in spikes])
        return float(np.mean(preds == labels)), preds
