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
                  baseline_decay=base.baseline_decay, error=base.error, init_gain=cfg.init_gain,
                  feedback_init=cfg.feedback_init)

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


# --- the learning-signal check behind tests/test_learning_signal.py ------------------------

def _cos_or_zero(a, b):
    c = _cos(np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64))
    return 0.0 if np.isnan(c) else c


def learning_alignment(net, spikes, labels, warmup, leak=0.5):
    """How well the hidden updates of a single-hidden-layer network follow the BP gradient.

    ``net`` is a :class:`golden.core.FixedCore` (the chip) or a
    :class:`golden.float_reference.FloatNetwork`, both with one hidden layer.  It is trained
    online on ``spikes`` / ``labels`` (``N x T x n_in``); the first ``warmup`` samples only
    train, on the rest every step is measured from outside the learning rule:

    * ``feedback``: mean over steps of the cosine between ``M e`` and the BP signal
      ``W_out^T e`` (``W_out`` before the step's update);
    * ``update``: cosine between the summed actual hidden weight change and the summed
      BP step ``-(W_out^T e * psi) a_0^T`` (``psi = max(0, 1 - |u - V_th| / V_th)``,
      ``a_0`` the input trace recomputed from the spikes with ``leak``).

    A network whose hidden layer learns by a sign-correct estimate of the gradient has
    both clearly positive; one that does not train its hidden layer has ``update = 0``.
    """
    from .core import FixedCore

    fixed = isinstance(net, FixedCore)
    if (net.cfg.n_hidden_layers if fixed else net.n_hidden) != 1:
        raise ValueError("learning_alignment needs a network with one hidden layer")
    rec = {"feedback": [], "dw": 0.0, "bp": 0.0}
    state = {"measure": False, "trace": None, "t": 0, "x": None}

    def before(e, w_out, M):
        if state["measure"]:
            g_bp = w_out.T.astype(np.float64) @ e
            rec["feedback"].append(_cos_or_zero(M.astype(np.float64) @ e, g_bp))
        return w_out.T.astype(np.float64) @ e

    if fixed:
        vth = float(net.cfg.threshold)
        original = net._step

        def step(x, label, train, noise=None):
            w0 = net.weights[0].copy()
            w_out = net.weights[1].copy()
            M = net.feedback[0].copy()
            original(x, label, train, noise)
            if not (train and state["measure"]):
                return
            e = net._e.astype(np.float64)
            g_bp = before(e, w_out, M)
            psi = np.maximum(0.0, 1.0 - np.abs(net.membranes[0] - vth) / vth)
            a0 = net.traces[0].astype(np.float64)
            rec["dw"] = rec["dw"] + (net.weights[0] - w0)
            rec["bp"] = rec["bp"] - np.outer(g_bp * psi, a0)

        net._step = step
    else:
        vth = net.threshold
        original = net._hidden_signals

        def hidden_signals(e, oc, z, psi_list):
            if state["measure"]:
                if state["pending"] is not None:       # the previous step's change
                    rec["dw"] = rec["dw"] + (net.weights[0] - state["pending"])
                x = state["x"][state["t"]].astype(np.float64)
                state["trace"] = leak * state["trace"] + x
                g_bp = before(e, net.weights[1], net.feedback[0])
                psi = psi_list[0]
                rec["bp"] = rec["bp"] - np.outer(g_bp * psi, state["trace"])
                state["pending"] = net.weights[0].copy()
                state["t"] += 1
            return original(e, oc, z, psi_list)

        net._hidden_signals = hidden_signals
    state["pending"] = None
    for k, (x, y) in enumerate(zip(spikes, labels)):
        state["measure"] = k >= warmup
        state["trace"] = np.zeros(x.shape[1])
        state["t"] = 0
        state["x"] = x
        net.run_sample(x, int(y), train=True)
    if not fixed and state["pending"] is not None:
        rec["dw"] = rec["dw"] + (net.weights[0] - state["pending"])
    return {"feedback": float(np.mean(rec["feedback"])) if rec["feedback"] else 0.0,
            "update": _cos_or_zero(rec["dw"], rec["bp"])}
