"""The default suite's check that the learning rule really learns (about 20 s on two shared cores).

A loose accuracy floor passes for a network that trains only its readout, for one whose
feedback matrix M stays at zero or follows noise unrelated to the injected noise, and for a
sign error in the hidden update (the readout alone gets digits past 75 %).  These tests
measure the rule itself instead (golden/analysis.py: learning_alignment), from outside the
code under test, on the digits network (64 -> 128 -> 10), after 300 training samples:

* ``feedback``: mean cosine of ``M e`` with the BP signal ``W_out^T e``;
* ``update``: cosine of the summed hidden weight change with the summed BP step.

Measured (seeds 0, 1; fixed / float): feedback 0.45 / 0.46 and 0.37 / 0.47, update
0.50 / 0.56 and 0.51 / 0.53.  Bars: 0.2 for both.  ``python -m tools.mutate`` applies
each of the four broken rules to a scratch copy and shows which tests fail.
"""

import numpy as np
import pytest

from golden.analysis import learning_alignment
from golden.config import preset
from golden.core import FixedCore
from golden.data import load_dataset
from golden.encoding import encode
from golden.float_reference import FloatNetwork

WARMUP, MEASURE = 300, 100
BAR = 0.2


def _alignment(model, seed):
    ds = load_dataset("digits")
    n = WARMUP + MEASURE
    cfg = preset("digits", seed=seed)
    spikes = encode("rate", ds.x_train[:n], cfg.timesteps, seed=seed)
    net = FixedCore(cfg, "opzo") if model == "fixed" else FloatNetwork.from_config(cfg, "opzo")
    return learning_alignment(net, spikes, ds.y_train[:n], WARMUP)


@pytest.fixture(scope="module", params=[("fixed", 0), ("fixed", 1), ("float", 0), ("float", 1)],
                ids=lambda p: f"{p[0]}-seed{p[1]}")
def alignment(request):
    return _alignment(*request.param)


def test_feedback_matrix_aligns_with_bp_signal(alignment):
    # fails when M stays zero (cos 0) or averages noise unrelated to the injected noise
    assert alignment["feedback"] >= BAR, alignment


def test_hidden_update_follows_bp_gradient(alignment):
    # fails when the hidden layer is frozen (0), when M is useless (about 0) and when the
    # hidden update has the wrong sign (negative)
    assert alignment["update"] >= BAR, alignment


def test_readout_only_has_no_hidden_update():
    # the measurement itself: a network that never updates its hidden layer scores 0
    ds = load_dataset("digits")
    cfg = preset("digits")
    spikes = encode("rate", ds.x_train[:60], cfg.timesteps, seed=0)
    r = learning_alignment(FixedCore(cfg, "readout"), spikes, ds.y_train[:60], 40)
    assert r["update"] == 0.0 and r["feedback"] == 0.0


def test_alignment_refuses_two_hidden_layers():
    with pytest.raises(ValueError, match="one hidden layer"):
        learning_alignment(FixedCore(preset("yinyang")), np.zeros((1, 8, 64), bool), [0], 0)
