"""Host access (rtl/host_access.py) in Amaranth's simulator against the command model.

The PARAM entries' range has one home, :func:`golden.protocol.lr_shift_range`; these tests
write every 5-bit value to both entries and check that the RTL and the command model
(:class:`golden.command_model.CoreModel`) give the same answer, word for word.
"""

import pytest

from golden.command_model import CoreModel
from golden.config import preset
from golden.protocol import Mem, Op, Status, command_words, lr_shift_range, parse_response
from rtl.core import Core
from sim.pysim import run_commands
from sim.scenario import Scoreboard

SMALL = dict(n_inputs=5, hidden=(4,), n_outputs=2, lanes=2, timesteps=2)
CONFIGS = {
    # the total shift (lr + 13, lr + 11) reaches 31 before lr reaches 24
    "total_shift_bound": dict(SMALL, trace_frac_bits=16, trace_bits=17),
    # a negative base: the hidden rate must be at least 7
    "negative_base": dict(SMALL, signal_frac_bits=0, hidden_lr_shift=8),
    "digits_widths": dict(SMALL),
}


def _param_commands():
    cmds = []
    for row in (0, 1):
        for value in range(32):
            cmds += [command_words(Op.WRITE, mem=Mem.PARAM, row=row, col=0, value=value),
                     command_words(Op.READ, mem=Mem.PARAM, row=row, col=0)]
    return cmds


def test_lr_shift_range_by_hand():
    cfg = preset("digits", **CONFIGS["total_shift_bound"])
    assert lr_shift_range(cfg, 0) == (0, 31 - 13) and lr_shift_range(cfg, 1) == (0, 31 - 11)
    cfg = preset("digits", **CONFIGS["negative_base"])
    assert lr_shift_range(cfg, 0) == (7, 24)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_command_model_answers_every_param_write(name):
    """Every value 0..31 is answered (no exception), OK exactly inside the range."""
    cfg = preset("digits", **CONFIGS[name])
    model = CoreModel(cfg)
    for row in (0, 1):
        lo, hi = lr_shift_range(cfg, row)
        for value in range(32):
            words = [w for cmd_word in command_words(Op.WRITE, mem=Mem.PARAM, row=row, col=0, value=value)
                     for w in model.feed(cmd_word)]
            _, status, _ = parse_response(words[0])
            assert status == (Status.OK if lo <= value <= hi else Status.ERR_VALUE), (row, value)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_param_write_of_every_value_matches_the_command_model(name):
    cfg = preset("digits", **CONFIGS[name])
    board = Scoreboard(cfg)
    run_commands(Core(cfg), _param_commands(), board, seed=1, idle=0.2, backpressure=0.2)
    assert not board.mismatches, board.report()
    assert board.checked == len(board.expected) == 2 * 32 * 3
    writes = [status for k, (_, status, _) in enumerate(board.headers) if k % 2 == 0]
    assert Status.OK in writes and Status.ERR_VALUE in writes
