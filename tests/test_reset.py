"""Resets in the middle of a sample, of a command, of a host packet and of an answer, and
between samples, on the generated Verilog under cocotb (docs/core_architecture.md, "Reset").

The core (``tests/cocotb_reset_tb.py``): after every reset the core answers at once, its
registers hold their reset values, every memory entry holds its value from before or after
the interrupted step (nothing else), and, with the golden model reset and loaded with those
memories, two training samples and an inference sample match word for word and state for
state (the default suite's representative).  The host link
(``tests/cocotb_link_tb.py::resets_mid_packet_and_mid_response``, ``--runslow``): the
board's reset button pressed in the middle of a packet and of an answer; nothing of the cut
packet reaches the core, and the next packets are answered byte for byte like the link
model's.
"""

import json

import pytest

from golden.config import preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CORE_TB = "cocotb_reset_tb"
CORE_CFG = dict(n_inputs=21, hidden=(13, 7), n_outputs=3, lanes=4, timesteps=3,
                feedback_init="random", hidden_lr_shift=3, antithetic=False)


def run_core_resets(build_dir, cfg, cases, seed=0):
    """Build the core for ``cfg`` and run the reset cases; returns the testbench's summary."""
    from pathlib import Path

    from rtl.core import Core
    from sim.runner import run_cocotb

    result = Path(build_dir) / "reset-result.json"
    env = {"OPZO_CONFIG": json.dumps(cfg.to_dict()), "SEED": seed,
           "RESET_CASES": json.dumps(cases), "RESET_RESULT": str(result)}
    run_cocotb(Core(cfg), CORE_TB, build_dir=build_dir, test_dir=Path(__file__).parent,
               extra_env=env)
    return json.loads(result.read_text())


def _check_phases(summary, fractions):
    phases = {c["phase"] for c in summary["cases"] if not isinstance(c["case"], str)}
    assert len([c for c in summary["cases"] if not isinstance(c["case"], str)]) == len(fractions)
    assert summary["word_mismatches"] == 0 and summary["state_mismatches"] == 0
    return phases


FRACTIONS = [0.02, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9]
CASES = ["idle", "start", "header", "write", "end", *FRACTIONS]


def test_core_resets_mid_step_and_between_samples(tmp_path):
    """Resets at seven offsets into a training step (the forward pass and the update),
    during START's CLEAR, inside a STEP's and a WRITE's words, during END's answer, and
    between samples, each followed by three samples bit-exact."""
    s = run_core_resets(tmp_path / "core", preset("digits", **CORE_CFG), CASES)
    phases = _check_phases(s, FRACTIONS)
    assert "forward" in phases and "update (partial)" in phases, phases


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_core_resets_other_shapes(tmp_path, seed):
    """The same cases on one hidden layer with P = 8 (seed 1) and three hidden layers with
    P = 1 (seed 2)."""
    shape = (dict(hidden=(20,), lanes=8, n_outputs=4) if seed == 1 else
             dict(hidden=(5, 4, 3), lanes=1, n_outputs=2))
    cfg = preset("digits", **{**CORE_CFG, **shape, "seed": seed})
    _check_phases(run_core_resets(tmp_path / "core", cfg, CASES, seed=seed), FRACTIONS)


@pytest.mark.slow
def test_link_resets_mid_packet_and_mid_response(tmp_path):
    """The board's reset button in the middle of host packets and of the device's answers
    (tests/cocotb_link_tb.py::resets_mid_packet_and_mid_response; about 2 minutes, the
    Verilator build of the top level included)."""
    from tests.test_host_link import _run_tb
    _run_tb(tmp_path, ["resets_mid_packet_and_mid_response"], SEED=0)
