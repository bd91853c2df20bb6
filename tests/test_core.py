"""The fixed-point core: one whole time step worked by hand, saturation, bad input."""

import numpy as np
import pytest

from golden.arith import smax, smin
from golden.config import CoreConfig, preset
from golden.core import FixedCore
from golden.neuron import lif_step, surrogate
from golden.trace import trace_step

TINY = dict(name="tiny", n_inputs=3, hidden=(2,), n_outputs=2, timesteps=1, lanes=2,
            weight_bits=8, frac_bits=4, membrane_bits=10, output_bits=10, trace_bits=4,
            trace_frac_bits=2, surrogate_frac_bits=2, error_frac_bits=2, feedback_bits=8,
            signal_bits=8, signal_frac_bits=2, leak_shift=1, noise_shift=2,
            feedback_decay_shift=2, feedback_input_shift=1, baseline_shift=1,
            hidden_lr_shift=1, readout_lr_shift=1)


def _tiny_core():
    core = FixedCore(CoreConfig(**TINY))
    core.weights = [np.array([[10, 7, -3], [4, 20, 5]]), np.array([[6, -2], [-5, 9]])]
    core.feedback = [np.array([[40, -24], [20, 30]])]
    core.baseline = np.array([1, -2])
    core.membranes = [np.array([5, 12])]
    core.spikes = [np.array([1, 0])]
    core.traces = [np.array([4, 0, 1]), np.array([3, 4])]
    core.lfsr.states = np.array([2, 3], dtype=np.uint64)   # lane 0 emits 0 (z=-1), lane 1 emits 1
    return core


def test_one_training_step_by_hand():
    """Every number below was computed by hand from docs/fixed_point.md (V_th = 16, sigma = 4)."""
    core = _tiny_core()
    o = core.step([1, 0, 1], label=1, train=True)
    # input trace: floor(a/2) + 4x -> [2+4, 0, 0+4]
    assert core.traces[0].tolist() == [6, 0, 4]
    # u = floor((u - 16 s) / 2) + W x = [floor(-11/2) + 7, 6 + 9] = [1, 15]
    assert core.membranes[0].tolist() == [1, 15]
    # u + 4 z = [1 - 4, 15 + 4] -> only neuron 1 crosses 16
    assert core.spikes[0].tolist() == [0, 1]
    assert core.traces[1].tolist() == [1, 6]            # floor(3/2)+0, floor(4/2)+4
    assert o.tolist() == [-2, 9] and core.total.tolist() == [-2, 9]
    # e = clip(2 + (o >> 4), 0, 4) - 4 y = [1, 2 - 4]; oc = o - b = [-3, 11]; b += oc >> 1
    assert core._e.tolist() == [1, -2]
    assert core.baseline.tolist() == [-1, 3]
    # g = round((M e) / 2^5) = round([88, -40] / 32) = [3, -1] (old M);
    # M = floor(3/4 M) + z (oc >> 1)^T = [[30, -18], [15, 22]] + [[2, -5], [-2, 5]]
    assert core.feedback[0].tolist() == [[32, -23], [13, 27]]
    # psi = [0, 15 >> 2 = 3]; d = round(g psi / 4) = [0, round(-3/4) = -1]
    # W1 -= round(d a0^T / 2): row 1 -= [round(-6/2), 0, round(-4/2)] = [-3, 0, -2]
    assert core.weights[0].tolist() == [[10, 7, -3], [7, 20, 7]]
    # W_out -= round(e a1^T / 2) = round([[1, 6], [-2, -12]] / 2) = [[1, 3], [-1, -6]]
    assert core.weights[1].tolist() == [[5, -5], [-4, 15]]
    assert core.lfsr.states.tolist() == [1 | 1 << 31, 1]


def test_inference_step_changes_no_learning_state():
    core = _tiny_core()
    before = core.state()
    core.step([1, 0, 1])
    after = core.state()
    for key in ("weights", "feedback"):
        for a, b in zip(before[key], after[key]):
            assert np.array_equal(a, b)
    assert np.array_equal(before["baseline"], after["baseline"])
    assert np.array_equal(before["lfsr"], after["lfsr"])       # no noise drawn
    assert core.membranes[0].tolist() == [1, 15] and core.spikes[0].tolist() == [0, 0]


def test_membrane_saturates_at_extremes():
    cfg = CoreConfig(**TINY)
    top, bottom = smax(cfg.membrane_bits), smin(cfg.membrane_bits)
    u, s = lif_step(cfg, np.array([top, bottom]), np.array([0, 0]),
                    np.array([10 * top, 10 * bottom]), None)
    assert u.tolist() == [top, bottom] and s.tolist() == [1, 0]
    assert surrogate(cfg, u).tolist() == [0, 0]


def test_trace_steady_state_fits_narrowest_width():
    # a = floor(a / 2) + 4 climbs 4, 6, 7, 7, ...: the steady state is 2^(A + k) - 1, so the
    # narrowest width the configuration accepts (A + k bits) never saturates.
    cfg = CoreConfig(**dict(TINY, trace_bits=3))
    a, seen = np.array([0]), []
    for _ in range(6):
        a = trace_step(cfg, a, np.array([1]))
        seen.append(int(a[0]))
    assert seen == [4, 6, 7, 7, 7, 7]
    assert trace_step(cfg, np.array([7]), np.array([0])).tolist() == [3]   # and decays to 0
    a = np.array([7])
    for _ in range(3):
        a = trace_step(cfg, a, np.array([0]))
    assert a.tolist() == [0]


def test_weights_and_feedback_saturate_instead_of_wrapping():
    core = _tiny_core()
    wmax, wmin = smax(8), smin(8)
    core.weights[1] = np.array([[wmin, wmin], [wmax, wmax]])  # e = [+, -] pushes outward
    core.feedback = [np.array([[smax(8), smin(8)], [smin(8), smax(8)]])]
    core.step([1, 0, 1], label=1, train=True)
    assert core.weights[1].tolist() == [[wmin, wmin], [wmax, wmax]]
    assert core.feedback[0].min() >= smin(8) and core.feedback[0].max() <= smax(8)


def test_sample_resets_neuron_state_only():
    core = FixedCore(preset("digits"))
    rng = np.random.default_rng(0)
    x = rng.random((8, 64)) < 0.3
    core.run_sample(x, 3, train=True)
    w = [w.copy() for w in core.weights]
    core.reset_sample()
    assert all(not u.any() for u in core.membranes) and not core.total.any()
    assert all(np.array_equal(a, b) for a, b in zip(w, core.weights))


def test_deterministic():
    rng = np.random.default_rng(1)
    xs = rng.random((5, 8, 64)) < 0.3
    states = []
    for _ in range(2):
        core = FixedCore(preset("digits"))
        for k, x in enumerate(xs):
            core.run_sample(x, k, train=True)
        states.append(core.state())
    for a, b in zip(states[0]["weights"] + states[0]["feedback"],
                    states[1]["weights"] + states[1]["feedback"]):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("label", [-1, 10, 2.5, True, None])
def test_label_out_of_range_refused(label):
    core = FixedCore(preset("digits"))
    with pytest.raises(ValueError, match=r"label must be an integer class in \[0, 9\]"):
        core.run_sample(np.zeros((8, 64), dtype=bool), label, train=True)


@pytest.mark.parametrize("shape", [(8, 63), (64,), (2, 8, 64)])
def test_wrong_input_shape_refused(shape):
    core = FixedCore(preset("digits"))
    with pytest.raises(ValueError, match="spikes must have shape"):
        core.run_sample(np.zeros(shape, dtype=bool), 1, train=True)


def test_non_binary_input_refused():
    core = FixedCore(preset("digits"))
    with pytest.raises(ValueError, match="binary"):
        core.step(np.full(64, 2))


def test_fixed_method_refused():
    with pytest.raises(ValueError, match="method must be one of"):
        FixedCore(preset("digits"), "bp")


def test_step_api_equals_whole_sample_run():
    # run_sample draws a whole sample's noise at once; step() draws per step: same bits
    cfg = preset("yinyang", hidden=(13, 7), lanes=4)
    rng = np.random.default_rng(5)
    xs = rng.random((3, cfg.timesteps, cfg.n_inputs)) < 0.4
    a, b = FixedCore(cfg), FixedCore(cfg)
    for k, x in enumerate(xs):
        a.run_sample(x, k % 3, train=True)
        b.reset_sample()
        for xt in x:
            b.step(xt, k % 3, train=True)
    sa, sb = a.state(), b.state()
    for key in sa:
        for u, v in zip(sa[key] if isinstance(sa[key], list) else [sa[key]],
                        sb[key] if isinstance(sb[key], list) else [sb[key]]):
            assert np.array_equal(u, v), key
