"""The cocotb plumbing (sim.runner, sim.stream) on a tiny stream DUT.

Verilator compiles the design once per worker (a few seconds of C++); both simulation
tests share that build directory, which is safe because Verilator skips an unchanged
rebuild and each xdist worker has its own temporary directory.
"""

import importlib.util
from pathlib import Path

import pytest

from sim.runner import available_simulators, default_simulator, run_cocotb

EXAMPLES = Path(__file__).resolve().parent / "cocotb_examples"


def _stream_adder():
    # Loaded by path: the example directory is not a package and must not depend on
    # pytest's import mode.
    spec = importlib.util.spec_from_file_location("stream_adder", EXAMPLES / "stream_adder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.StreamAdder()


@pytest.fixture(scope="module")
def adder_build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("stream_adder")


def test_default_simulator_is_available():
    assert default_simulator() == available_simulators()[0]


def test_stream_adder_random_stalls(adder_build_dir):
    """500 random words with idle input cycles and output back pressure: out == in + 1."""
    results = run_cocotb(_stream_adder(), "stream_adder_tb", build_dir=adder_build_dir,
                         test_dir=EXAMPLES,
                         extra_env={"N_WORDS": 500, "SEED": 1, "IDLE_PROB": 0.3,
                                    "STALL_PROB": 0.3})
    assert results.is_file()


def test_failing_cocotb_test_fails_pytest(adder_build_dir):
    """A cocotb test that fails (it expects +2) makes run_cocotb raise, naming the test."""
    expected = r"(?s)1 of 1 cocotb tests failed.*words_pass_in_order: failure: 20 of 20 words"
    with pytest.raises(AssertionError, match=expected):
        run_cocotb(_stream_adder(), "stream_adder_tb", build_dir=adder_build_dir,
                   test_dir=EXAMPLES, extra_env={"N_WORDS": 20, "INCREMENT": 2})
