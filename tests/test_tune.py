"""tools.tune: a refinement pass with its own grid is recorded next to the first search."""

import json

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
