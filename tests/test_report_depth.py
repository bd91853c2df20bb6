"""The report's MNIST and depth sections table the committed records' numbers."""

import json

from sim import report, report_depth
from tools.depth_study import summarise


def _depth_record(tmp_path):
    runs = [{"model": m, "method": x, "depth": d, "seed": s, "hidden": [128] * d,
             "val_accuracy": 0.9 - 0.01 * d + 0.001 * s, "test_accuracy": 0.8 + 0.01 * d + 0.002 * s}
            for m, x in (("float", "bp"), ("fixed", "opzo")) for d in (1, 2) for s in (1, 2)]
    rec = {"data": "mnist", "command": "python -m tools.depth_study --json d.json",
           "budget": {"epochs": 4, "lr_decay_epochs": [2, 3], "limit_train": None,
                      "limit_val": None, "limit_test": None, "seeds": [1, 2], "depths": [1, 2]},
           "hyperparameters": "one-layer choices", "runs": runs, "summary": summarise(runs),
           "grids": [{"model": "fixed", "method": "opzo", "depth": 2, "seed": 0,
                      "one_layer_shift": 5, "chosen": {"hidden_lr_shift": 6},
                      "points": [{"hidden_lr_shift": 5, "val_accuracy": 0.5},
                                 {"hidden_lr_shift": 6, "val_accuracy": 0.6}]}],
           "fit": [{"depth": d, "hidden": [128] * d, "device": "85F", "available": 208,
                    "streaming": 120 + d, "resident": None} for d in (1, 2)]}
    path = tmp_path / "depth.json"
    path.write_text(json.dumps(rec))
    return path


def test_depth_and_mnist_sections_hold_the_records_numbers(tmp_path):
    data = {"command": "c", "revision": "r", "date": "d", "seconds": 0,
            "mnist": report_depth.read_mnist(), "depth": report_depth.read_depth(_depth_record(tmp_path))}
    report.write(data, tmp_path / "out", report.plots(data))
    md = (tmp_path / "out" / "report.md").read_text()
    for row in data["depth"]["summary"]:
        cell = f"{row['test_mean']:.2f} ± {row['test_std']:.2f}"
        assert f"| {row['depth']} | {'-'.join(['128'] * row['depth'])} | 1,2 | {cell} |" in md
    assert "| fixed OPZO (the chip) | 2 | 0 | 5: 50.0 / 6: 60.0 | 5 | 6 |" in md
    assert "| 2 | 128-128 | 85F | 122 / 208 | does not fit |" in md
    assert "halve at the start of epochs 3, 4" in md
    assert (tmp_path / "out" / "depth_mnist.png").stat().st_size > 1000
    # the committed MNIST sweeps, every row with its record
    for row in data["mnist"]["table"]:
        assert f"| {row['model']} | {row['method']} | 1,2,3 | {row['val_mean']:.2f} | {row['mean']:.2f} |" in md


def test_missing_records_are_said_plainly(tmp_path):
    assert report_depth.read_depth(tmp_path / "none.json") is None
    assert report_depth.read_mnist([str(tmp_path / "none.json")]) is None
    titles = [s[1] for s in report_depth.sections({"mnist": None, "depth": None})]
    assert titles[0].startswith("No MNIST record") and titles[1].startswith("No depth record")
