"""The port budget of tools/weight_traffic.py: the fused schedule worked by hand on the
hand-checked time step, then on real digits samples."""

import json

import numpy as np
import pytest

from golden.config import preset
from golden.data import load_dataset
from golden.encoding import TRAIN, encode
from sim.bounds import step_bound
from tests.test_core import _tiny_core
from tools.weight_traffic import _step_costs, main, traffic


@pytest.mark.parametrize("nxt, first, expected", [
    # a_0 != 0 at inputs {0, 2}; x_{t+1} on at {1, 2}: the update reads |{0, 1, 2}| = 3 words
    # of the one busy group; the step's own W_1 forward reads (2) were folded into the step
    # before.  Bound 6 = 1 + 3 + max(M 2, W_1 2, W_out 2); fused 1 + (3 - 2) + max(3, 2, 2) = 5
    ([0, 1, 1], False, [6, 5, 4, 3]),
    # a sample's first step still reads its forward words
    ([0, 1, 1], True, [6, 7, 4, 5]),
    # a sample's last step folds nothing: the update alone, 2 words
    (None, False, [6, 4, 4, 2]),
])
def test_step_costs_by_hand(nxt, first, expected):
    core = _tiny_core()
    x = np.array([1, 0, 1])
    core.step(x, label=1, train=True)
    assert step_bound(core.cfg, x, core, True) == 6
    assert _step_costs(core.cfg, x, nxt, core, first).tolist() == expected


def test_fused_schedule_saves_words_on_digits():
    """On real samples the fused schedule reads fewer W_1 words at every P, and the scheduled
    figure is the bound sim.bounds gives step by step."""
    cfg = preset("digits")
    ds = load_dataset("digits")
    spikes = encode(cfg.encoding, ds.x_train[:3], cfg.timesteps, seed=cfg.seed, split=TRAIN)
    result = traffic(cfg, spikes, ds.y_train[:3], [8, 16])
    for r in result.values():
        assert 0 < r["w1_fused_words"] < r["w1_words"]
        assert 0 < r["fused_cycles_per_sample"] < r["bound_cycles_per_sample"]
    assert result[16]["bound_cycles_per_sample"] < result[8]["bound_cycles_per_sample"]


def test_cli_writes_the_clock_each_bound_needs(tmp_path, capsys):
    out = tmp_path / "traffic.json"
    assert main(["--samples", "2", "--lanes", "8", "--rate", "1000", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    lane = r["lanes"]["8"]
    assert lane["mhz_for_rate"] == pytest.approx(1000 * lane["bound_cycles_per_sample"] / 1e6)
    assert r["command"].startswith("python -m tools.weight_traffic --samples 2")
    assert "MHz for rate" in capsys.readouterr().out


def test_cli_refuses_a_bad_lane_count(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--lanes", "12"])
    assert exc.value.code == 2 and "lanes must be a power of two" in capsys.readouterr().err
