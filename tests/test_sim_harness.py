"""The verification harness's own checks (sim/pysim.py, sim/cocotb_core.py): words after the
last expected response are counted, state comparisons assert their layout, one-bit
values are read."""

from types import SimpleNamespace

import numpy as np
import pytest
from cocotb.types import Logic, LogicArray

from golden.config import preset
from golden.protocol import Op, command_words
from rtl.core import Core
from sim.cocotb_state import signed_value, state_mismatches, unsigned_value
from sim.pysim import run_commands
from sim.scenario import Scoreboard

TINY = dict(n_inputs=5, hidden=(4,), n_outputs=2, lanes=2, timesteps=2)


class _Deaf(Scoreboard):
    """A scoreboard that forgets the answer of every command after the first."""

    def expect(self, command):
        if self.index:
            self.index += 1
            return []
        return super().expect(command)


def test_pysim_counts_words_after_the_last_expected_one():
    cfg = preset("digits", **TINY)
    board = _Deaf(cfg)
    run_commands(Core(cfg), [command_words(Op.NOP), command_words(Op.NOP)], board)
    assert board.checked == 1
    assert [(cmd, want) for cmd, want, _ in board.mismatches] == [(None, None)]
    assert "unexpected extra word" in board.report()


def test_state_mismatches_counts_entries():
    want = {"a": [np.array([1, 2, 3])], "b": np.array([4])}
    got = {"a": [np.array([1, 0, 3])], "b": np.array([5])}
    count, examples = state_mismatches(got, want)
    assert count == 2 and examples[0].startswith("a[0](1,)")


@pytest.mark.parametrize("got", [
    {"a": [np.array([1, 2])]},                                    # a key missing
    {"a": [], "b": np.array([4])},                                # a list too short
    {"a": [np.array([1, 2]), np.array([1, 2])], "b": np.array([4])},  # too long
    {"a": [np.array([1, 2, 3])], "b": np.array([4])},             # a shape
])
def test_state_mismatches_asserts_the_layout(got):
    with pytest.raises(AssertionError):
        state_mismatches(got, {"a": [np.array([1, 2])], "b": np.array([4])})


def test_values_of_one_bit_signals():
    one_bit = SimpleNamespace(value=Logic("1"))
    assert unsigned_value(one_bit) == 1 and signed_value(one_bit) == -1
    wide = SimpleNamespace(value=LogicArray("1110"))
    assert unsigned_value(wide) == 14 and signed_value(wide) == -2
