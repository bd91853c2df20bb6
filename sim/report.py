"""Golden-model comparison report: does the chip match its model, and does it learn?

Example::

    python -m sim.report --out report            # full: 20 epochs, seeds 0-2 (tens of minutes)
    python -m sim.report --size tiny --out report  # seconds-to-minutes version (used by CI)

Writes ``report/index.html`` (self-contained, plots embedded) and ``report/report.md``.
Every number comes from runs made by this command, or is read from a named artifact
(ULX3S build summaries under ``--builds``), and sits beside the command and git revision
that produced it.  Parts (``--parts``):

``rtl``         the generated Verilog against the golden model (sim.compare) per configuration
``learning``    fixed-point OPZO (the chip) against float OPZO, BP, DFA, ZO, readout-only;
                learning curves, the chip's confusion matrix, the paper's table for context
``inside``      cosine similarity of OPZO's ``M e`` and of plain ZO's one-point estimate with
                the exact BP signal, over training
``fpga``        LUT4 / FF / EBR / MULT18 and Fmax from the build summaries
``throughput``  cycles per time step and per sample, samples/s on chip against the CPU
``mnist``       the committed MNIST sweeps, ``depth`` the committed depth study
                (:mod:`sim.report_depth`; read, not re-run)

The ``rtl`` part also tables the coverage of its runs (:mod:`sim.coverage`: saturations,
response codes, stalls, zero-d groups, empty-input steps, back-to-back samples, host
accesses; an event that never happened reads "never") and the coverage of the committed
soak record (``--soak``, ``results/soak/seed19000.json`` by default).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from sim import report_depth
# The parts, the figures and the writing are modules of their own; callers that use
# report.plots and report.write (tests/test_report_depth.py) find them here as before.
from sim.report_parts import (part_fpga, part_inside, part_learning, part_rtl,
                              part_throughput, read_soak)
from sim.report_plots import plots
from sim.report_write import write

__all__ = ["SIZES", "build_report", "main"]

PARTS = ("rtl", "learning", "inside", "fpga", "throughput", "mnist", "depth")

# Run sizes.  "tiny" keeps CI in seconds; "full" is what the docs quote.
SIZES = {
    "tiny": dict(epochs=2, seeds=(0,), limit_train={"digits": 100, "yinyang": 200},
                 limit_test={"digits": 100, "yinyang": 150}, rtl_samples=2,
                 rtl_configs=("tiny",), inside_epochs=1),
    "full": dict(epochs=20, seeds=(0, 1, 2), limit_train={"digits": None, "yinyang": None},
                 limit_test={"digits": None, "yinyang": None}, rtl_samples=20,
                 rtl_configs=("digits", "yinyang", "awkward"), inside_epochs=5),
}


def git_revision():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


DEFAULT_SOAK = "results/soak/seed19000.json"
"""The committed soak record (relative to the working directory)."""


def build_report(out_dir, *, size="tiny", parts=PARTS, builds="build", workers=None,
                 build_base=None, command=None, soak_path=None):
    """Run the requested parts and write the report; returns the data it tabled."""
    spec = SIZES[size]
    t0 = time.time()
    data = {"size": size, "revision": git_revision(), "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": command or f"python -m sim.report --size {size}"}
    build_base = build_base or Path(out_dir) / "sim-build"
    if "rtl" in parts or "throughput" in parts:
        data["rtl"] = part_rtl(spec, build_base)
        soak = read_soak(soak_path) if soak_path else None
        if soak:
            data["soak"] = soak
    if "learning" in parts:
        data["learning"] = part_learning(spec, workers or os.cpu_count() or 1)
    if "inside" in parts:
        data["inside"] = part_inside(spec)
    if "fpga" in parts or "throughput" in parts:
        data["fpga"] = part_fpga(builds)
    if "throughput" in parts:
        data["throughput"] = part_throughput(data["rtl"], data["fpga"])
    if "mnist" in parts:
        data["mnist"] = report_depth.read_mnist()
    if "depth" in parts:
        data["depth"] = report_depth.read_depth()
    data["seconds"] = time.time() - t0
    write(data, out_dir, plots(data))
    return data


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sim.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="report", help="output folder")
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--builds", default="build", help="folder searched for */summary.json")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--soak", default=DEFAULT_SOAK,
                   help="soak record whose coverage table the report shows (python -m sim.soak --out)")
    args = p.parse_args(argv)
    cmd = "python -m sim.report " + " ".join(argv if argv is not None else sys.argv[1:])
    data = build_report(args.out, size=args.size, parts=args.parts, builds=args.builds,
                        workers=args.workers, command=cmd.strip(), soak_path=args.soak)
    print(f"report written to {Path(args.out) / 'index.html'} and {Path(args.out) / 'report.md'} "
          f"({data['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
