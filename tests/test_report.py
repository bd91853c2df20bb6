"""The comparison report on its tiny size: built end to end, tables hold the runs' numbers."""

import re

from sim.report import build_report


def test_tiny_report_tables_hold_the_runs(tmp_path):
    data = build_report(tmp_path, size="tiny", builds=tmp_path / "no-builds", workers=2)
    md = (tmp_path / "report.md").read_text()
    page = (tmp_path / "index.html").read_text()
    assert data["revision"] in md and "python -m sim.report --size tiny" in md
    # 1. RTL rows: the numbers of the comparison that ran, and zero mismatches
    (rtl,) = data["rtl"]
    assert rtl["mismatches"] == 0 and rtl["state_checks"] == 2
    assert f"| {rtl['config']} | {rtl['hidden']} | {rtl['lanes']} | {rtl['samples']} | " in md
    assert f"{rtl['cycles_per_timestep']:.1f}" in md and rtl["command"] in md
    # its coverage table: this run's counts, and the events it never produced said so
    steps = rtl["coverage"]["events"]["time steps"]
    assert steps == rtl["timesteps"] and f"| event | time steps | {steps} |" in md
    assert "| event | host writes between samples | never (0) |" in md
    # 2. every learning row carries the accuracy its runs produced
    assert len(data["learning"]["table"]) == 14
    for row in data["learning"]["table"]:
        line = f"| {row['data']} | {row['model']} | {row['method']} | 0 | {row['mean']:.2f} |"
        assert line in md, line
        assert 0 < row["mean"] <= 100 and len(row["curve"]) == 2
    # 3. the alignment table: OPZO's signal points along the gradient, plain ZO's does not
    for ds, d in data["inside"].items():
        for layer, s in d["spread"].items():
            assert f"| {ds} | {int(layer) + 1} | {d['steps']} | {s['opzo'][0]:.3f} |" in md
            assert s["opzo"][0] > s["zo"][0] + 0.05
    # 4. no builds here, said plainly; 5. throughput from this run's measurements
    assert "No build summary found" in md
    assert f"{data['throughput']['cpu']['train_samples_per_second']:.0f}" in md
    # plots embedded in the page, written beside the markdown
    # six plots of these runs, and the depth plot when the committed depth record exists
    assert len(re.findall(r"data:image/png;base64,", page)) == 6 + bool(data["depth"])
    assert "## 6. MNIST (committed runs)" in md
    assert (tmp_path / "curves_digits.png").stat().st_size > 1000
