"""Inside the learning rule: how well OPZO's feedback matrices track the true gradient signal.

:class:`SignalProbe` is the float OPZO network with a probe on its hidden learning signal.
At every training step, for every hidden layer, it compares three signals with the exact
online-BP signal ``g_bp`` (``W_out^T e`` for the last layer, backpropagated with the
surrogate for earlier ones) computed from the same weights at the same step:

* OPZO's momentum estimate ``g = M e`` (the signal that trains the network);
* the single-point zeroth-order estimate ``z ((o - b) . e)`` at the same step (what plain
  ZO would use), from the same noise.

It records the cosine similarity of each with ``g_bp``.  High and steady for OPZO and low
and noisy for ZO is what distinguishes the method: the momentum average turns the
one-point estimate into a usable Jacobian estimate.
"""

import numpy as np

from .float_reference import FloatNetwork

__all__ = ["SignalProbe"]


def _cos(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else np.nan


class SignalProbe(FloatNetwork):
    """Float OPZO with per-step cosine similarities to the BP signal (see module docstring)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.records = []          # (step, layer, cos_opzo, cos_zo)
        self.step_count = 0

    @classmethod
    def from_config(cls, cfg, method="opzo", lr_hidden=None):
        base = FloatNetwork.from_config(cfg, "opzo", lr_hidden)
        return cls(base.sizes, "opzo", seed=cfg.seed, leak=base.leak, sigma=base.sigma,
                  lr_hidden=base.lr_hidden, lr_readout=base.lr_readout, momentum=base.momentum,
                  baseline_decay=base.baseline_decay, error=base.error, init_gain=cfg.init_gain)

    def _hidden_signals(self, e, oc, z, psi):
        L = self.n_hidden
        bp = [None] * L
        bp[L - 1] = self.weights[L].T @ e
        for l in range(L - 2, -1, -1):
            bp[l] = self.weights[l + 1].T @ (bp[l + 1] * psi[l + 1])
        for l in range(L):
            self.records.append((self.step_count, l, _cos(self.feedback[l] @ e, bp[l]),
                                 _cos(z[l] * (oc @ e), bp[l])))
        self.step_count += 1
        return super()._hidden_signals(e, oc, z, psi)

    def summary(self, window):
        """Per layer, mean cosine in consecutive windows of ``window`` steps:
        ``{layer: {"step": [...], "opzo": [...], "zo": [...]}}``."""
        rec = np.array(self.records, dtype=np.float64)
        out = {}
        for l in range(self.n_hidden):
            r = rec[rec[:, 1] == l]
            n = len(r) // window
            d = {"step": [], "opzo": [], "zo": []}
            for k in range(n):
                chunk = r[k * window:(k + 1) * window]
                d["step"].append(int(chunk[-1, 0]) + 1)
                for name, col in (("opzo", 2), ("zo", 3)):
                    d[name].append(float(np.nanmean(chunk[:, col])))
            out[l] = d
        return out

    def spread(self, last_fraction=0.5):
        """Per layer: mean and standard deviation of each cosine over the last part of training."""
        rec = np.array(self.records, dtype=np.float64)
        out = {}
        for l in range(self.n_hidden):
            r = rec[rec[:, 1] == l]
            r = r[int(len(r) * (1 - last_fraction)):]
            out[l] = {name: (float(np.nanmean(r[:, col])), float(np.nanstd(r[:, col])))
                      for name, col in (("opzo", 2), ("zo", 3))}
        return out
