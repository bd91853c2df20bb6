"""The generated Verilog of the core under cocotb (Verilator), bit-exact with the golden model.

Each configuration gets its own build directory.  Every response word is checked by the
scoreboard and the complete state is compared entry by entry with the golden model.
The full-epoch run and the soak are opt-in (``--runslow``).
"""

import os

import numpy as np
import pytest

from golden.config import preset
from golden.protocol import Op, command_words
from sim.compare import compare

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _check(result):
    assert result["mismatches"] == 0, result["report"]
    assert "error" not in result, result["error"]
    assert result["words_checked"] > 0 and result["state_checks"] > 0
    return result


@pytest.fixture(scope="session")
def build_base(tmp_path_factory):
    return tmp_path_factory.mktemp("cocotb")


def test_digits_default_real_data(build_base):
    """The default digits network on encoded training digits, state checked after every sample."""
    r = _check(compare(preset("digits"), samples=2, source="digits", check="sample",
                       build_base=build_base))
    assert r["train_timesteps"] > 0 and r["cycles_per_timestep"] > r["bound_cycles_per_timestep"]


def test_digits_default_with_ecp5_multipliers(build_base):
    """The core as an ECP5 build elaborates it: its 24 products in MULT18X18D instances
    (rtl/multiplier.py), simulated with the primitive's model, bit-exact on real digits."""
    r = _check(compare(preset("digits"), samples=2, source="digits", check="sample",
                       build_base=build_base, multipliers="ecp5"))
    assert r["multipliers"] == "ecp5" and r["train_timesteps"] > 0


def test_yinyang_two_layers_every_step(build_base):
    """Two hidden layers on Yin-Yang, state checked after every time step, then read back
    through READ commands."""
    _check(compare(preset("yinyang", hidden=(16, 12)), samples=2, source="yinyang", check="step",
                   reads=True, build_base=build_base))


def test_awkward_sizes_errors_and_stalls(build_base):
    """Sizes that are not multiples of P, malformed commands between samples, heavy stalls."""
    cfg = preset("digits", n_inputs=21, hidden=(13,), n_outputs=3, lanes=4, timesteps=3,
                 feedback_init="random", hidden_lr_shift=3, antithetic=False)
    _check(compare(cfg, samples=5, source="random", check="sample", errors=True, reads=True,
                   idle=0.5, stall=0.5, build_base=build_base))


def test_antithetic_two_layers_every_step(build_base):
    """Antithetic noise (z, then -z, the LFSRs holding) in two layers not a multiple of P,
    state (the LFSR states among it) checked after every time step; training samples, a
    training sample the host ends after an odd number of steps (the next one must start a
    fresh pair) and an inference sample between them."""
    cfg = preset("digits", n_inputs=21, hidden=(7, 5), n_outputs=3, lanes=4, timesteps=4,
                 antithetic=True, hidden_lr_shift=3)
    rng = np.random.default_rng(5)

    def sample(train):
        spikes = (rng.random((cfg.timesteps, cfg.n_inputs)) < 0.5).astype(int)
        return {"spikes": spikes.tolist(), "label": int(rng.integers(cfg.n_outputs)), "train": train}

    steps = [command_words(Op.STEP, bits=(rng.random(cfg.n_inputs) < 0.5).astype(int)) for _ in range(3)]
    cut = [command_words(Op.START, train=True, label=1), *steps, command_words(Op.END)]
    plan = [sample(True), {"commands": cut}, sample(True), sample(False), sample(True)]
    r = _check(compare(cfg, plan=plan, source="random", seed=5, check="step", build_base=build_base))
    assert r["train_timesteps"] == 3 * cfg.timesteps + 3


def _random_config(seed):
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 4))
    return preset("digits", n_inputs=int(rng.integers(3, 40)),
                  hidden=tuple(int(v) for v in rng.integers(1, 20, size=L)),
                  n_outputs=int(rng.integers(2, 7)), lanes=int(2 ** rng.integers(0, 4)),
                  timesteps=int(rng.integers(1, 5)), feedback_init="random",
                  hidden_lr_shift=int(rng.integers(2, 7)), seed=seed)


@pytest.mark.parametrize("seed", [101])
def test_random_configuration(seed, build_base):
    _check(compare(_random_config(seed), samples=4, source="random", seed=seed, check="sample",
                   errors=True, build_base=build_base))


@pytest.mark.slow
def test_one_epoch_of_digits(build_base):
    """Opt-in: a whole epoch of digits trained in RTL simulation; every prediction and the
    final state equal the golden model's (about 14 M cycles)."""
    from golden.data import load_digits_split
    n = len(load_digits_split().x_train)
    r = _check(compare(preset("digits"), samples=n, source="digits", check="end", idle=0.0,
                       stall=0.0, build_base=build_base))
    assert len(r["predictions"]) == n


@pytest.mark.slow
def test_soak_random_configurations(build_base):
    """Opt-in: at least 1,000,000 simulated cycles over configurations of the corner-reaching
    generator (sim/soak.py, sim/edge_configs.py), random stalls, spike rates from empty to
    full, malformed commands and host accesses between samples; prints the coverage table."""
    from sim import coverage
    from sim.soak import soak
    target = int(os.environ.get("OPZO_SOAK_CYCLES", "1000000"))
    r = soak(int(os.environ.get("OPZO_SOAK_SEED", "1000")), target, build_base=build_base)
    assert not r["failed"], r["failed"]
    assert r["cycles"] >= target and r["verified"] > 0
    print(f"soak: {r['cycles']} cycles over {r['verified']} configurations, 0 mismatches")
    print(coverage.format_table(r["coverage"]))
