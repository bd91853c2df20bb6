"""The package layering: the spec (golden/) and the gateware (rtl/) import nothing from
the boards, the verification harness or the tools, so either can be read, changed and
tested on its own, and the build command finds boards through entry points."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UPWARD = ("boards", "sim", "tools", "tests")


def imported_packages(path):
    """Top-level package names imported anywhere in ``path`` (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                names.add(str(node.args[0].value).split(".")[0])
    return names


@pytest.mark.parametrize("package", ["golden", "rtl"])
def test_no_import_runs_upward(package):
    offenders = {str(p.relative_to(ROOT)): sorted(imported_packages(p) & set(UPWARD))
                 for p in sorted((ROOT / package).rglob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_golden_does_not_import_the_gateware():
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "golden").rglob("*.py"))
                 if {"rtl", "amaranth"} & imported_packages(p)]
    assert offenders == []


def test_detector_sees_a_function_level_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from boards.ulx3s.top import X\n    import sim.model\n")
    assert imported_packages(f) == {"boards", "sim"}


def test_build_finds_the_ulx3s_through_its_entry_point():
    from rtl.build import board_names, find_board
    assert "ulx3s" in board_names()
    board = find_board("ulx3s")
    assert board.devices == ("12F", "25F", "45F", "85F")
    with pytest.raises(ValueError, match="board must be"):
        find_board("no-such-board")


def test_every_gateware_module_stays_under_300_lines():
    """One idea per module: a unit of the core that outgrows 300 lines is two units."""
    long = {str(p.relative_to(ROOT)): n for p in sorted((ROOT / "rtl").glob("*.py"))
            if (n := len(p.read_text().splitlines())) >= 300}
    assert not long, f"split these gateware modules (lines): {long}"
