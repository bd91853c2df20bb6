"""Short training runs that must learn, the CLI, and the float reference's methods."""

import json

import numpy as np
import pytest

from golden.config import parse_overrides
from tools.train import main, train


def test_fixed_opzo_short_run_improves():
    # 400 digits samples, 2 epochs: the chip's model must go from chance to clearly learning
    r = train("digits", "opzo", "fixed", epochs=2, limit_train=400, limit_test=200, progress=False)
    accs = [h["test_accuracy"] for h in r["history"]]
    assert accs[-1] >= 0.75, accs
    assert r["samples_per_second"] > 0 and len(r["confusion"]) == 10
    assert sum(map(sum, r["confusion"])) == 200


def test_fixed_opzo_hidden_layer_learns():
    # the hidden weights move (through M) only under opzo, never under readout-only
    from golden.core import FixedCore
    from golden.config import preset
    snaps = {}
    for method in ("opzo", "readout"):
        w0 = FixedCore(preset("digits"), method).weights[0].copy()
        seen = []
        train("digits", method, "fixed", epochs=1, limit_train=150, limit_test=20, progress=False,
              on_epoch=lambda rec, net: seen.append(net.weights[0].copy()))
        snaps[method] = int(np.abs(seen[-1] - w0).sum())
    assert snaps["readout"] == 0 and snaps["opzo"] > 0


@pytest.mark.parametrize("method", ["opzo", "bp", "dfa", "zo", "readout"])
def test_float_methods_run_and_learn(method):
    r = train("digits", method, "float", epochs=1, limit_train=300, limit_test=200, progress=False)
    assert r["train_accuracy"] > 0.2          # chance is 0.1
    if method != "zo":                         # single-point ZO is erratic this early (it is
        assert r["test_accuracy"] > 0.3       # the paper's weakest baseline too)


def test_yinyang_two_hidden_layers_learn():
    r = train("yinyang", "opzo", "fixed", epochs=1, limit_train=1500, limit_test=300, progress=False)
    assert r["test_accuracy"] >= 0.6          # chance is about 1/3


def test_cli_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["--data", "digits", "--model", "fixed", "--epochs", "1", "--limit-train", "50",
                 "--limit-test", "30", "--no-progress", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    for key in ("data", "method", "model", "epochs", "seed", "test_accuracy", "train_accuracy",
                "samples_per_second"):
        assert key in r
    assert r["data"] == "digits" and r["model"] == "fixed" and r["epochs"] == 1
    assert "test" in capsys.readouterr().out


@pytest.mark.parametrize("argv, msg", [
    (["--model", "fixed", "--method", "bp"], "fixed-point model implements only"),
    (["--set", "hidden=0"], "hidden[0] must be an integer in [1, 4096]"),
    (["--set", "bogus=1"], "--set expects FIELD=VALUE"),
    (["--data", "yinyang", "--config", "digits"], "n_inputs = 64 but data 'yinyang' encodes to 4"),
])
def test_cli_refuses_bad_input(argv, msg, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--epochs", "1", "--no-progress"])
    assert exc.value.code == 2
    assert msg in capsys.readouterr().err


def test_parse_overrides():
    assert parse_overrides(["hidden=64,32", "lanes=4", "init_gain=1.5"]) == {
        "hidden": (64, 32), "lanes": 4, "init_gain": 1.5}
