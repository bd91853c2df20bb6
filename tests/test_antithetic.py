"""Antithetic noise in the golden models: ``z`` on step ``2k``, ``-z`` on step ``2k + 1``."""

import numpy as np
import pytest

from golden.config import CoreConfig, gateware_fingerprint, parse_overrides, preset
from golden.core import FixedCore
from golden.float_reference import FloatNetwork
from golden.noise import LfsrBank

CFG = preset("digits", hidden=(7, 5), lanes=4, n_inputs=12, n_outputs=3, timesteps=6, antithetic=False)


def _spikes(cfg, seed=0):
    return (np.random.default_rng(seed).random((cfg.timesteps, cfg.n_inputs)) < 0.5).astype(np.int64)


def _recorded_noise(core, spikes, label):
    """Run a training sample step by step; returns the noise injected on each step."""
    core.reset_sample()
    seen = []
    for x in spikes:
        core.step(x, label, train=True)
        seen.append([z.copy() for z in core.noise])
    return seen


def test_sign_pattern_and_lfsr_hold():
    cfg = CFG.with_(antithetic=True)
    core = FixedCore(cfg)
    ref = LfsrBank.from_config(cfg)
    seen = _recorded_noise(core, _spikes(cfg), 1)
    for t in range(0, cfg.timesteps, 2):
        fresh = [ref.rademacher(n) for n in cfg.hidden]      # the bank steps on even steps only
        for l in range(cfg.n_hidden_layers):
            assert seen[t][l].tolist() == fresh[l].tolist()
            assert seen[t + 1][l].tolist() == (-fresh[l]).tolist()
    assert np.array_equal(core.lfsr.states, ref.states)


def test_off_draws_every_step():
    core = FixedCore(CFG)
    ref = LfsrBank.from_config(CFG)
    seen = _recorded_noise(core, _spikes(CFG), 1)
    for t in range(CFG.timesteps):
        assert [z.tolist() for z in seen[t]] == [ref.rademacher(n).tolist() for n in CFG.hidden]


def test_pairs_restart_with_each_sample():
    cfg = CFG.with_(antithetic=True)
    core = FixedCore(cfg)
    first = _recorded_noise(core, _spikes(cfg), 0)
    second = _recorded_noise(core, _spikes(cfg, 1), 2)
    assert not all(np.array_equal(a, b) for a, b in zip(first[-1], second[0]))
    assert all(np.array_equal(a, -b) for a, b in zip(second[0], second[1]))


@pytest.mark.parametrize("antithetic", [False, True])
def test_whole_sample_draw_equals_step_by_step(antithetic):
    cfg = CFG.with_(antithetic=antithetic)
    a, b = FixedCore(cfg), FixedCore(cfg)
    for k in range(3):
        spikes, label = _spikes(cfg, k), k % cfg.n_outputs
        a.run_sample(spikes, label, train=True)
        _recorded_noise(b, spikes, label)
        for key, va in a.state().items():
            vb = b.state()[key]
            assert all(np.array_equal(x, y) for x, y in zip(va, vb)) if isinstance(va, list) \
                else np.array_equal(va, vb), key


def test_feedback_update_sees_the_injected_noise(monkeypatch):
    import golden.core
    cfg = CFG.with_(antithetic=True)
    core = FixedCore(cfg)
    used = []
    update = golden.core.feedback_update

    def spy(cfg_, M, z, oc):
        used.append(z.copy())
        return update(cfg_, M, z, oc)
    monkeypatch.setattr(golden.core, "feedback_update", spy)
    seen = _recorded_noise(core, _spikes(cfg), 2)
    L = cfg.n_hidden_layers
    assert len(used) == cfg.timesteps * L
    for t in range(cfg.timesteps):
        for l in range(L):
            assert used[t * L + l].tolist() == seen[t][l].tolist()    # the noise injected
    assert used[L].tolist() == (-used[0]).tolist()


def test_float_reference_pairs():
    net = FloatNetwork((6, 5, 4, 3), "opzo", seed=3, antithetic=True)
    calls, zs = [], []
    rng = net.rng

    class Counting:                            # the generator's attributes are read-only
        def choice(self, *a, **k):
            calls.append(1)
            return rng.choice(*a, **k)
    net.rng = Counting()
    hidden = net._hidden_signals
    net._hidden_signals = lambda e, oc, z, psi: zs.append([v.copy() for v in z]) or hidden(e, oc, z, psi)
    spikes = (np.random.default_rng(0).random((4, 6)) < 0.5)
    net.run_sample(spikes, 1, train=True)
    assert len(calls) == 2 * 2                 # two pairs, two layers: draws on even steps only
    for t in (0, 2):
        assert all(np.array_equal(a, -b) for a, b in zip(zs[t], zs[t + 1]))
    assert FloatNetwork.from_config(CFG.with_(antithetic=True), "opzo").antithetic


def test_config_validation():
    with pytest.raises(ValueError, match="antithetic needs an even number of timesteps.*timesteps = 7"):
        CoreConfig(antithetic=True, timesteps=7)
    with pytest.raises(ValueError, match="antithetic must be True or False"):
        CoreConfig(antithetic=1)
    assert CoreConfig(antithetic=True, timesteps=8).antithetic
    assert CoreConfig(timesteps=7).timesteps == 7           # off: any T


@pytest.mark.parametrize("text, value", [("true", True), ("True", True), ("1", True), ("on", True),
                                         ("false", False), ("0", False), ("NO", False)])
def test_set_parses_booleans(text, value):
    assert parse_overrides([f"antithetic={text}"]) == {"antithetic": value}


def test_set_rejects_other_words():
    with pytest.raises(ValueError, match="antithetic= expects true or false"):
        parse_overrides(["antithetic=maybe"])


def test_fingerprint_keeps_old_builds():
    # the digits gateware before its constants moved to the full-length search's choice
    cfg = preset("digits").with_(noise_shift=2, feedback_decay_shift=10, antithetic=False)
    assert gateware_fingerprint(cfg) == 0xD77D9EBC      # main's value before the field existed
    assert gateware_fingerprint(preset("digits")) != 0xD77D9EBC
    # the Yin-Yang gateware before antithetic noise, the 64-level code and its second
    # search (0x3EF314B0); today's preset differs, and the fingerprint says so
    yinyang = preset("yinyang")
    old = yinyang.with_(n_inputs=64, encoding_levels=16, noise_shift=1, feedback_decay_shift=10,
                        antithetic=False)
    assert gateware_fingerprint(old) == 0x3EF314B0
    assert gateware_fingerprint(yinyang) != 0x3EF314B0
    assert gateware_fingerprint(cfg) != gateware_fingerprint(cfg.with_(antithetic=True))
