"""The resident system as one command-driven component (rtl/resident_core.py) against
golden/resident_model.py, word for word, in Amaranth's simulator."""

import numpy as np
import pytest

from golden.config import preset
from golden.data import load_dataset
from golden.input_encoding import quantise_pixels
from golden.protocol import Mem, Op, command_words
from golden.resident_model import ResidentModel
from golden.resident_protocol import ResOp, header, store_command, store_commands
from rtl.resident_control import ResidentControl
from rtl.resident_core import ResidentCore
from sim.pysim import run_commands
from sim.scenario import Scoreboard


def small_cfg():
    return preset("digits", hidden=(8,), lanes=4, timesteps=2)


def test_init():
    cfg = small_cfg()
    dut = ResidentCore(cfg, 6, 3)
    assert dut.n_train == 6 and dut.n_test == 3
    assert set(dut.signature.members) == {"i_stream", "o_stream", "active", "training", "error",
                                          "feeding"}
    ctl = ResidentControl(cfg, 6, 3)
    assert ctl.signature.members["sample"].shape.stop == 9


def test_init_wrong_sizes():
    with pytest.raises(ValueError, match="n_test"):
        ResidentCore(small_cfg(), 6, 0)
    with pytest.raises(ValueError, match="n_train"):
        ResidentCore(small_cfg(), 0, 3)


def scenario(cfg, n_train, n_test):
    """Upload, checksum, shuffled epochs, test runs, counters, confusion rows, every error,
    core commands between runs (a READ, a PARAM write, a host-driven sample)."""
    ds = load_dataset("digits")
    q = quantise_pixels(np.concatenate([ds.x_train[:n_train], ds.x_test[:n_test]]))
    y = np.concatenate([ds.y_train[:n_train], ds.y_test[:n_test]]).astype(int)
    y[1] = cfg.n_outputs + 3             # a bad label: the core refuses the sample, errors count
    cmds = [[header(ResOp.STORE_INFO)], [header(ResOp.CHECKSUM, flag=True)]]
    cmds += store_commands(q, y)
    cmds += [[header(ResOp.CHECKSUM)],
             store_command(n_train + n_test, 0, b"\x05" * 16),          # ERR_ADDR: row
             store_command(0, cfg.n_inputs + 1, b"\x05" * 16),          # ERR_ADDR: column
             [header(ResOp.RUN, 0, flag=True)], [header(ResOp.RUN, n_train + 1, flag=True)],
             [header(ResOp.RUN, n_test + 1)], [header(ResOp.SHUFFLE, n_train + 1)],
             [header(ResOp.CONFUSION, cfg.n_outputs)], [7 << 28], [6 << 28]]
    for epoch in range(2):
        cmds += [[header(ResOp.CLEAR)], [header(ResOp.SHUFFLE, n_train)],
                 [header(ResOp.RUN, n_train, flag=True)], [header(ResOp.RUN, n_test)],
                 [header(ResOp.COUNTERS)],
                 [header(ResOp.CONFUSION, int(y[n_train]) | 1 << 16)],
                 [header(ResOp.CONFUSION, int(y[0]))],
                 command_words(Op.READ, mem=Mem.W_OUT, row=1, col=3),
                 command_words(Op.WRITE, mem=Mem.PARAM, row=0, col=0,
                               value=cfg.hidden_lr_shift + 1 + epoch)]
    spikes = [[int(b) for b in (q[0] > 100)]] * cfg.timesteps
    cmds += [command_words(Op.START, train=True, label=int(y[0]))]
    cmds += [command_words(Op.STEP, bits=s) for s in spikes]
    cmds += [command_words(Op.END), [header(ResOp.CLEAR, flag=True)],
             [header(ResOp.SHUFFLE, 0, flag=True)], [header(ResOp.RUN, 3, flag=True)],
             [header(ResOp.COUNTERS)]]
    for l, n in enumerate(cfg.hidden):
        cmds += [command_words(Op.READ, mem=Mem.W1, row=r, col=c) for r in range(n) for c in (0, 20, 63)]
        cmds += [command_words(Op.READ, mem=Mem.M1, row=r, col=c) for r in range(n) for c in (0, 9)]
    cmds += [command_words(Op.READ, mem=Mem.W_OUT, row=r, col=c)
             for r in range(cfg.n_outputs) for c in range(cfg.hidden[-1])]
    cmds += [command_words(Op.READ, mem=Mem.LFSR, row=p, col=0) for p in range(cfg.lanes)]
    return cmds


def test_scenario_matches_model_word_for_word():
    cfg = small_cfg()
    n_train, n_test = 6, 3
    dut = ResidentCore(cfg, n_train, n_test)
    board = Scoreboard(cfg)
    board.model = ResidentModel(cfg, n_train, n_test)
    cmds = scenario(cfg, n_train, n_test)
    run_commands(dut, cmds, board, seed=3, idle=0.2, backpressure=0.3)
    assert not board.mismatches, board.report()
    assert board.checked == len(board.expected) > 300
    c = board.model.counters
    assert c["train_seen"] == 2 and c["errors"] == 4      # the last run: 3 rows, one bad label
