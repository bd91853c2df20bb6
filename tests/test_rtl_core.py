"""The core in Amaranth's simulator against the command-level golden model (small configs).

The generated-Verilog runs under cocotb are in tests/test_cocotb_core.py; these are the
fast unit tests: elaboration checks, protocol errors, and bit-exactness on small networks.
"""

import numpy as np
import pytest
from amaranth.back import rtlil

from golden.config import preset
from rtl.core import Core
from golden.protocol import Mem, Op, Status, command_words, parse_response
from sim.pysim import run_commands
from sim.scenario import Scoreboard, error_commands, random_samples, sample_commands, state_reads

SMALL = {
    "one_layer_awkward": dict(n_inputs=11, hidden=(6,), n_outputs=3, lanes=4, timesteps=3),
    "two_layers": dict(n_inputs=9, hidden=(5, 7), n_outputs=3, lanes=2, timesteps=3,
                       encoding="thermometer"),
    "three_layers_wide_lanes": dict(n_inputs=35, hidden=(9, 3, 4), n_outputs=5, lanes=8,
                                    timesteps=2),
    "one_lane": dict(n_inputs=5, hidden=(4,), n_outputs=2, lanes=1, timesteps=2),
}


def _cfg(name, **extra):
    # random M start and a large hidden rate, so that the hidden update path is exercised
    # antithetic noise (on in the preset) needs an even T: off unless a case sets it
    return preset("digits", feedback_init="random", hidden_lr_shift=3,
                  **{"antithetic": False, **SMALL[name], **extra})


def test_init():
    core = Core(preset("digits"))
    assert core.i_stream.payload.shape().width == 32
    assert core.o_stream.payload.shape().width == 32
    assert "module" in rtlil.convert(Core(_cfg("one_lane")))


@pytest.mark.parametrize("changes, msg", [
    (dict(n_outputs=33), "n_outputs must be in"),
    (dict(output_bits=30), "output_bits must be at most 28"),
    # the engines shift by hidden_lr_shift + 10 + 16 - 13 = 37 > 31
    (dict(trace_frac_bits=16, trace_bits=17, hidden_lr_shift=24), r"hidden_lr_shift must be in \[0, 18\]"),
    # readout_lr_shift + 12 + 14 - 13 = 33 > 31
    (dict(error_frac_bits=12, trace_frac_bits=14, trace_bits=15, readout_lr_shift=20),
     r"readout_lr_shift must be in \[0, 18\]"),
])
def test_init_wrong(changes, msg):
    with pytest.raises(ValueError, match=msg):
        Core(preset("digits", **changes))


def test_init_wrong_config_is_refused_by_the_shared_validation():
    with pytest.raises(ValueError, match="lanes must be a power of two"):
        Core(preset("digits", lanes=6))


def _run(cfg, commands, seed=0, idle=0.3, backpressure=0.3):
    board = Scoreboard(cfg)
    cycles = run_commands(Core(cfg), commands, board, seed=seed, idle=idle, backpressure=backpressure)
    assert not board.mismatches, board.report()
    assert board.checked == len(board.expected) > 0
    return board, cycles


@pytest.mark.parametrize("name", sorted(SMALL))
def test_bit_exact_with_golden(name):
    cfg = _cfg(name)
    rng = np.random.default_rng(1)
    cmds = []
    for k, (spikes, label, train) in enumerate(random_samples(cfg, rng, 4)):
        cmds += sample_commands(spikes, label, train)
    cmds += state_reads(cfg)
    board, _ = _run(cfg, cmds)
    # the scenario really trained the hidden layer (so the check above covers the update path)
    from golden.core import FixedCore
    assert not np.array_equal(board.model.core.weights[0], FixedCore(cfg).weights[0])


@pytest.mark.parametrize("name", ["two_layers", "one_layer_awkward"])
def test_no_memory_is_read_and_written_at_one_address_in_one_cycle(name):
    """The premise of ``no_rw_check`` (rtl/build.py): in training, inference, host reads
    of every memory and host writes, with stalls on both streams, no block RAM is written
    at the word a live read reads; nor is a memory that reads from a registered address
    (rtl.memories.LaneMemory: a read of a word written in its cycle returns the new word)."""
    cfg = _cfg(name)
    rng = np.random.default_rng(5)
    cmds = []
    for spikes, label, train in random_samples(cfg, rng, 3, train_fraction=0.7):
        cmds += sample_commands(spikes, label, train)
        cmds += state_reads(cfg)
    cmds += [command_words(Op.WRITE, mem=Mem.W1, row=1, col=0, value=5),
             command_words(Op.WRITE, mem=Mem.M1, row=0, col=1, value=-7),
             command_words(Op.WRITE, mem=Mem.W_OUT, row=1, col=1, value=3)]
    cmds += state_reads(cfg)
    collisions = []
    core = Core(cfg)
    board = Scoreboard(cfg)
    run_commands(core, cmds, board, seed=5, idle=0.2, backpressure=0.2, collisions=collisions)
    assert not board.mismatches, board.report()
    blocks = {name for name, mem in core.memories.items() if mem.no_rw_check}
    assert blocks == {"readout", *(f"{k}_{l}" for k in ("weights", "feedback") for l in range(cfg.n_hidden_layers))}
    # and the memories that read from a registered address (LUT RAMs: the membranes,
    # surrogates, traces)
    registered = {name for name, mem in core.memories.items() if mem.registered_addr}
    assert registered == {*(f"{k}_{l}" for k in ("membrane", "surrogate") for l in range(cfg.n_hidden_layers)),
                          *(f"trace_{l}" for l in range(cfg.n_hidden_layers + 1))}
    assert collisions == []


def test_state_after_every_time_step():
    cfg = _cfg("two_layers")
    rng = np.random.default_rng(2)
    spikes, label, _ = random_samples(cfg, rng, 1)[0]
    cmds = [command_words(Op.START, train=True, label=label)]
    for x in spikes:
        cmds.append(command_words(Op.STEP, bits=[int(b) for b in x]))
        cmds += state_reads(cfg)
    cmds.append(command_words(Op.END))
    _run(cfg, cmds, idle=0.1, backpressure=0.1)


def test_bad_commands_answered_and_change_nothing():
    cfg = _cfg("one_layer_awkward")
    rng = np.random.default_rng(3)
    samples = random_samples(cfg, rng, 2, train_fraction=1.0)
    cmds = sample_commands(*samples[0])
    cmds += state_reads(cfg)
    bad = error_commands(cfg, rng)
    # STEP and END outside a sample; too many STEPs inside one
    bad += [command_words(Op.STEP, bits=[1] * cfg.n_inputs), command_words(Op.END)]
    cmds += bad
    too_many = sample_commands(*samples[1])
    extra_step = command_words(Op.STEP, bits=[1] * cfg.n_inputs)
    cmds += too_many[:-1] + [extra_step] + too_many[-1:]
    cmds += state_reads(cfg)
    cmds += sample_commands(*samples[0])          # and the core keeps working
    board, _ = _run(cfg, cmds)
    statuses = {status for _, status, _ in board.headers}
    assert Status.ERR_OPCODE in statuses and Status.ERR_LABEL in statuses
    assert Status.ERR_ADDR in statuses and Status.ERR_VALUE in statuses and Status.ERR_STATE in statuses


def test_host_writes_take_effect():
    cfg = _cfg("one_layer_awkward")
    cmds = [command_words(Op.WRITE, mem=Mem.W1, row=5, col=10, value=-1234),
            command_words(Op.WRITE, mem=Mem.W_OUT, row=2, col=3, value=777),
            command_words(Op.WRITE, mem=Mem.M1, row=4, col=1, value=-5000),
            command_words(Op.WRITE, mem=Mem.BASELINE, row=1, col=0, value=-42),
            command_words(Op.WRITE, mem=Mem.LFSR, row=3, col=0, value=0x1234567),
            command_words(Op.WRITE, mem=Mem.PARAM, row=0, col=0, value=2),
            command_words(Op.WRITE, mem=Mem.PARAM, row=1, col=0, value=7)]
    rng = np.random.default_rng(4)
    for spikes, label, _ in random_samples(cfg, rng, 2):
        cmds += sample_commands(spikes, label, True)
    cmds += state_reads(cfg)
    board, _ = _run(cfg, cmds, idle=0.0, backpressure=0.0)
    assert board.model.cfg.hidden_lr_shift == 2 and board.model.cfg.readout_lr_shift == 7


def test_fire_range_guard_names_the_level():
    """The spike compare's shortcut needs V_th +- sigma inside the membrane range; the
    shared validation keeps it there, and the guard refuses anything else by name."""
    from types import SimpleNamespace

    from rtl.neuron import check_fire_range
    check_fire_range(preset("digits"))
    with pytest.raises(ValueError, match=r"threshold \+ sigma = 16 must lie in \(-16, 15\]"):
        check_fire_range(SimpleNamespace(membrane_bits=5, threshold=8, sigma=8))
