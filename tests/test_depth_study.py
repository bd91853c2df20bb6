"""The depth study's quick mode runs end to end and writes every field of its record."""

import json

from tools.depth_study import RUNS, main


def test_quick_depth_study_writes_its_record(tmp_path):
    path = tmp_path / "depth.json"
    assert main(["--quick", "--json", str(path)]) == 0
    out = json.loads(path.read_text())
    assert out["command"].startswith("python -m tools.depth_study --quick")
    assert out["budget"]["depths"] == [1, 2] and out["budget"]["seeds"] == [1]
    assert out["budget"]["epochs"] == 1 and out["budget"]["limit_train"] == 24
    assert len(out["runs"]) == 2 * len(RUNS)
    for r in out["runs"]:
        assert len(r["hidden"]) == r["depth"]
        assert 0 <= r["test_accuracy"] <= 1 and 0 <= r["val_accuracy"] <= 1
        assert len(r["val_curve"]) == 1
    for row in out["summary"]:
        assert {"test_mean", "test_std", "val_mean", "val_std", "test_per_seed"} <= set(row)
        runs = [r for r in out["runs"]
                if (r["model"], r["method"], r["depth"]) == (row["model"], row["method"], row["depth"])]
        assert row["test_per_seed"] == [100 * r["test_accuracy"] for r in runs]
    # the fit check: one row per depth, the streaming core counted in block RAMs
    assert [f["depth"] for f in out["fit"]] == [1, 2]
    assert all(f["device"] == "85F" and f["streaming"] > 0 for f in out["fit"])


def test_resume_keeps_the_finished_runs_and_names_the_earlier_command(tmp_path):
    path = tmp_path / "depth.json"
    assert main(["--quick", "--runs", "float:bp", "--json", str(path)]) == 0
    first = json.loads(path.read_text())["runs"]
    assert main(["--quick", "--runs", "float:bp", "--resume", "--json", str(path)]) == 0
    out = json.loads(path.read_text())
    assert out["runs"] == first and "--resume" in out["command"]
    assert out["earlier_commands"] == [f"python -m tools.depth_study --quick --runs float:bp --json {path}"]
