"""tools.tune: a refinement pass with its own grid is recorded next to the first search; with
--seeds every point is scored by its mean validation accuracy over the seeds."""

import json

import pytest

import tools.tune as tune
from tools.tune import main


def test_refinement_grid_is_searched_and_recorded(tmp_path):
    out = tmp_path / "t.json"
    assert main(["--data", "digits", "--epochs", "1", "--lr-decay-epochs", "", "--limit-train", "30",
                 "--runs", "fixed:readout", "--set", "readout_lr_shift=9", "--grid", "readout_lr_shift=9,8",
                 "--label", "refine", "--json", str(out)]) == 0
    r = json.loads(out.read_text())["searches"]["fixed:readout refine"]
    assert r["grid"] == {"readout_lr_shift": [9, 8]} and r["fixed_fields"] == {}
    assert [p["fields"]["readout_lr_shift"] for p in r["points"]] == [9, 8]
    assert r["chosen"]["readout_lr_shift"] in (9, 8)
    assert "--label refine" in r["command"]


def test_seeds_score_each_point_by_its_mean_validation_accuracy(tmp_path):
    """--seeds: every point is trained once per seed; val_accuracy is the mean, the choice its argmax."""
    out = tmp_path / "t.json"
    assert main(["--data", "digits", "--epochs", "1", "--lr-decay-epochs", "", "--limit-train", "30",
                 "--runs", "fixed:readout", "--seeds", "4", "5", "--json", str(out)]) == 0
    r = json.loads(out.read_text())["searches"]["fixed:readout"]
    assert r["seeds"] == [4, 5] and r["seed"] is None
    assert [p["fields"]["readout_lr_shift"] for p in r["points"]] == [9, 8, 10]
    for p in r["points"]:
        assert p["seeds"] == [4, 5] and len(p["val_accuracy_per_seed"]) == 2
        assert p["val_accuracy"] == pytest.approx(sum(p["val_accuracy_per_seed"]) / 2, abs=1e-12)
    means = [p["val_accuracy"] for p in r["points"]]
    best = next(k for k in range(3) if means[k] >= max(means) - 1e-12)  # earliest on a tie
    assert r["chosen"]["readout_lr_shift"] == r["points"][best]["fields"]["readout_lr_shift"]
    # the per-seed value is the single-seed run's own accuracy (each seed really is trained)
    one = tmp_path / "one.json"
    assert main(["--data", "digits", "--epochs", "1", "--lr-decay-epochs", "", "--limit-train", "30",
                 "--runs", "fixed:readout", "--seed", "5", "--grid", "readout_lr_shift=9",
                 "--json", str(one)]) == 0
    single = json.loads(one.read_text())["searches"]["fixed:readout"]
    assert single["seed"] == 5 and single["seeds"] == [5]
    assert single["points"][0]["val_accuracy"] == r["points"][0]["val_accuracy_per_seed"][1]


def test_seeds_choice_is_the_argmax_of_the_means_not_of_one_seed(monkeypatch):
    """A stand-in trainer whose per-seed winners disagree: the mean decides (ties: earlier value)."""
    acc = {4: {9: 0.875, 8: 0.75, 10: 0.5}, 5: {9: 0.5, 8: 0.875, 10: 0.5}}  # means .6875 .8125 .5
    calls = []

    def fake_train(data, method, model, *, seed, overrides, **kw):
        calls.append((seed, overrides["readout_lr_shift"]))
        v = acc[seed][overrides["readout_lr_shift"]]
        return {"val_accuracy": v, "train_accuracy": v}

    monkeypatch.setattr(tune, "train", fake_train)
    chosen, points = tune.search("digits", "fixed", "readout", epochs=1, lr_decay_epochs=(),
                                 seeds=(4, 5), limit_train=None, log=lambda s: None)
    assert chosen == {"readout_lr_shift": 8}
    assert sorted(calls) == sorted((s, v) for s in (4, 5) for v in (9, 8, 10))
    assert [p["val_accuracy"] for p in points] == [0.6875, 0.8125, 0.5]
    assert [p["val_accuracy_per_seed"] for p in points] == [[0.875, 0.5], [0.75, 0.875], [0.5, 0.5]]
    chosen, _ = tune.search("digits", "fixed", "readout", epochs=1, lr_decay_epochs=(), seed=4,
                            limit_train=None, log=lambda s: None)
    assert chosen == {"readout_lr_shift": 9}  # seed 4 alone would choose differently
    acc[5][9] = 0.75  # 9 and 8 tie at .8125: the earlier value in the grid wins
    assert tune.search("digits", "fixed", "readout", epochs=1, lr_decay_epochs=(), seeds=(4, 5),
                       limit_train=None, log=lambda s: None)[0] == {"readout_lr_shift": 9}
    # equal totals whose float means differ in the last bit are a tie too (the earlier wins)
    acc = {4: {9: 171 / 180, 8: 171 / 180, 10: 0.5}, 5: {9: 174 / 180, 8: 173 / 180, 10: 0.5},
           6: {9: 171 / 180, 8: 172 / 180, 10: 0.5}}
    chosen, points = tune.search("digits", "fixed", "readout", epochs=1, lr_decay_epochs=(),
                                 seeds=(4, 5, 6), limit_train=None, log=lambda s: None)
    assert points[0]["val_accuracy"] < points[1]["val_accuracy"]  # ...554 against ...556
    assert chosen == {"readout_lr_shift": 9}


def test_seed_and_seeds_are_exclusive(capsys):
    with pytest.raises(SystemExit):
        main(["--seed", "0", "--seeds", "4", "5", "--runs", "fixed:readout"])
    with pytest.raises(SystemExit):
        main(["--seeds", "4", "4", "--runs", "fixed:readout"])
