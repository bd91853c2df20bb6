"""Edge configurations (sim/edge_configs.py): every configuration the validators accept is
verified bit-exact under cocotb, every other one is refused with a reason.

The directed list's short subset runs by default; the whole list with ``--runslow``.
"""

import numpy as np
import pytest

from golden.config import preset
from golden.core import FixedCore
from sim.edge_configs import (DEFAULT_SUBSET, EDGE_CONFIGS, REFUSED_CONFIGS, admit,
                              random_overrides, verify)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("name", sorted(EDGE_CONFIGS))
def test_directed_edge_config_is_admitted_and_builds_its_golden_model(name):
    cfg, reason = admit(name, EDGE_CONFIGS[name])
    assert cfg is not None, reason
    core = FixedCore(cfg)                     # the RTL's memories start from this model
    core.run_sample(np.ones((cfg.timesteps, cfg.n_inputs), dtype=np.int64), 0, train=True)


@pytest.mark.parametrize("name", sorted(REFUSED_CONFIGS))
def test_refused_config_names_its_reason(name):
    overrides, why = REFUSED_CONFIGS[name]
    cfg, reason = admit(name, overrides)
    assert cfg is None, f"{name} was accepted"
    assert why in reason, reason


def test_random_feedback_init_with_a_small_feedback_scale():
    """feedback_init = random with feedback_scale_bits < 4 (std 1/16 is below one LSB) is a
    legal configuration: its golden model (and so the RTL's initial M) must build.  It asked
    for a negative shift before; the presets' M are unchanged by the fix."""
    cfg, _ = admit("narrow", EDGE_CONFIGS["narrowest_widths"])
    assert cfg.feedback_scale_bits < 4
    M = FixedCore(cfg).feedback[0]
    assert M.shape == (cfg.hidden[0], cfg.n_outputs) and np.abs(M).max() <= 8
    p = preset("digits", feedback_init="random", seed=3)
    rng = np.random.default_rng([3, 1])
    for fan_in, fan_out in zip(p.sizes[:-1], p.sizes[1:]):
        rng.normal(0.0, 1.0, (fan_out, fan_in))              # the weights' draws come first
    old = np.rint(rng.normal(0.0, 1 << (p.feedback_scale_bits - 4), (p.hidden[0], p.n_outputs)))
    assert np.array_equal(FixedCore(p).feedback[0], np.clip(old, -(1 << 17), (1 << 17) - 1))


def test_random_generator_reaches_the_corners_and_admits_or_refuses_each():
    """Over 300 seeds the generator yields each corner of the issue, and each draw is either
    admitted (its golden model builds) or refused with a message naming a field."""
    seen = set()
    refused = 0
    for seed in range(300):
        o = random_overrides(seed)
        cfg, reason = admit(f"r{seed}", o)
        if cfg is None:
            refused += 1
            assert any(f in reason for f in cfg_fields()), reason
            continue
        FixedCore(cfg)
        h = cfg.hidden
        seen |= {k for k, hit in {
            "one input": cfg.n_inputs == 1, "one-neuron layer": 1 in h,
            "lanes wider than a layer": cfg.lanes > min(h), "one time step": cfg.timesteps == 1,
            "two classes": cfg.n_outputs == 2, "32 classes": cfg.n_outputs == 32,
            "weight_bits 4": cfg.weight_bits == 4, "weight_bits 18": cfg.weight_bits == 18,
            "membrane_bits 40": cfg.membrane_bits == 40, "trace_bits 18": cfg.trace_bits == 18,
            "signal_bits 4": cfg.signal_bits == 4, "feedback_bits 18": cfg.feedback_bits == 18,
            "three unequal layers": len(h) == 3 and len(set(h)) == 3,
            "P = 32": cfg.lanes == 32, "lfsr_bits 16": cfg.lfsr_bits == 16,
        }.items() if hit}
    assert len(seen) == 15, f"corners never drawn: {15 - len(seen)} ({sorted(seen)})"
    assert 0 < refused < 60


def cfg_fields():
    from golden.config import CoreConfig
    return CoreConfig.field_names()


@pytest.fixture(scope="session")
def build_base(tmp_path_factory):
    return tmp_path_factory.mktemp("edge")


def _verified(record):
    assert record["outcome"] == "verified", record
    assert record["mismatches"] == 0 and record["state_checks"] > 0 and record["words_checked"] > 0
    return record


@pytest.mark.parametrize("name", DEFAULT_SUBSET)
def test_edge_config_bit_exact(name, build_base):
    """A short representative subset: one input, one-neuron layers in three hidden layers,
    P = 1, two classes; and every width at its narrowest (clamps everywhere)."""
    _verified(verify(name, EDGE_CONFIGS[name], samples=3, build_base=build_base))


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in EDGE_CONFIGS if n not in DEFAULT_SUBSET])
def test_edge_config_bit_exact_full_list(name, build_base):
    _verified(verify(name, EDGE_CONFIGS[name], samples=4, build_base=build_base))


def test_largest_learning_rate_shift_rounds_like_golden():
    """RTL bug found by the directed list (``lr_shift_high``), reproduced in Amaranth's
    simulator: the validators accept a total update shift up to 31 (TOTAL_SHIFT_MAX), but
    the update engine's rounding register (``round_p`` in rtl/update_engine.py,
    ``signed(prod_w + 1)`` with ``prod_w = 18 + trace_bits + 1``, 27 bits at
    ``trace_bits = 7``) cannot hold the rounding half ``2^(shift - 1)`` once
    ``shift >= trace_bits + 20``: at ``hidden_lr_shift = 24`` (total 27) the half wraps to
    ``-2^26`` and every step becomes -1 instead of 0, so each updated hidden weight grows by
    one per step.  The same total is reachable on any bitstream by a host PARAM write (the
    digits preset accepts ``hidden_lr_shift`` up to 24)."""
    from golden.protocol import Mem, Op, command_words
    from rtl.core import Core
    from sim.pysim import run_commands
    from sim.scenario import Scoreboard, sample_commands, state_reads
    cfg, _ = admit("lr_high", dict(n_inputs=4, hidden=(2,), n_outputs=2, lanes=1, timesteps=2,
                                   hidden_lr_shift=24, feedback_init="random"))
    assert cfg.hidden_shift == 27
    cmds = []
    for k in range(4):
        cmds += sample_commands(np.ones((cfg.timesteps, cfg.n_inputs), dtype=np.int64), k % 2, True)
    cmds += [command_words(Op.READ, mem=Mem.W1, row=j, col=i) for j in range(2) for i in range(4)]
    board = Scoreboard(cfg)
    run_commands(Core(cfg), cmds, board, seed=1)
    assert board.done and not board.mismatches, board.report()
