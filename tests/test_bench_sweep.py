"""The CPU benchmark and the accuracy sweep, on tiny runs."""

import json

from tools.cpu_bench import bench
from tools.sweep import main as sweep_main


def test_bench_reports_rates():
    r = bench("digits", samples=10, warmup=2, repeats=1)
    assert r["samples"] == 10 and r["threads"] == 1
    assert r["train_samples_per_second"] > 0 and r["infer_samples_per_second"] > r["train_samples_per_second"]


def test_sweep_summarises_seeds(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert sweep_main(["--data", "digits", "--seeds", "0", "1", "--epochs", "1", "--limit-train", "40",
                       "--runs", "fixed:opzo", "--workers", "1", "--test", "--out-dir", str(tmp_path / "runs"),
                       "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    (row,) = r["summary"]
    accs = sorted(100 * run["test_accuracy"] for run in r["runs"])
    assert row["seeds"] == [0, 1] and row["min"] == accs[0] and row["max"] == accs[-1]
    assert row["split"] == "test" and all("val_accuracy" in run for run in r["runs"])
    assert abs(row["mean"] - sum(accs) / 2) < 1e-9
    assert "| fixed | opzo |" in capsys.readouterr().out
