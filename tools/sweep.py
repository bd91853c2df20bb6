"""Run the accuracy matrix (methods x models x seeds) and summarise mean and spread.

Example (the measurement behind docs/fixed_point.md)::

    python -m tools.sweep --data digits --seeds 1 2 3 --test --json results/digits.json

Runs every (model, method, seed) as a separate process (``--workers``, default: one) with
the hyperparameters chosen on validation (``tools/tuned.py``; tuned on seed 0, so report
other seeds) and prints a Markdown table of validation accuracy and, with ``--test``, test
accuracy (mean +/- standard deviation over seeds).
"""

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["RUNS", "summarise", "main"]

# (model, method) pairs reported for every data set
RUNS = (("fixed", "opzo"), ("fixed", "m_random_frozen"), ("fixed", "m_zero_frozen"),
        ("fixed", "readout"), ("float", "opzo"), ("float", "bp"), ("float", "dfa"),
        ("float", "zo"), ("float", "readout"))


def _run_one(args, model, method, seed, out_dir):
    path = os.path.join(out_dir, f"{args.data}-{model}-{method}-s{seed}.json")
    cmd = [sys.executable, "-m", "tools.train", "--data", args.data, "--model", model,
           "--method", method, "--seed", str(seed), "--epochs", str(args.epochs),
           "--no-progress", "--json", path, "--lr-decay-epochs", args.lr_decay_epochs]
    if args.test:
        cmd.append("--test")
    if args.refit:
        cmd.append("--refit")
    for item in args.set or ():
        cmd += ["--set", item]
    if args.limit_train:
        cmd += ["--limit-train", str(args.limit_train)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)


def summarise(results):
    """Group results by (model, method): mean, std, min, max of the final test accuracy
    (validation accuracy when the runs have no test result), and the validation mean."""
    rows = {}
    for r in results:
        rows.setdefault((r["model"], r["method"]), []).append(r)
    table = []
    for (model, method), rs in rows.items():
        key = "test_accuracy" if all("test_accuracy" in r for r in rs) else "val_accuracy"
        acc = np.array([r[key] for r in rs]) * 100
        table.append({"model": model, "method": method, "seeds": [r["seed"] for r in rs],
                      "split": key.split("_")[0],
                      "val_mean": (None if any(r["val_accuracy"] is None for r in rs)
                                   else float(np.mean([r["val_accuracy"] for r in rs]) * 100)),
                      "mean": float(acc.mean()), "std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                      "min": float(acc.min()), "max": float(acc.max()),
                      "tuned_fields": rs[0].get("tuned_fields", {}),
                      "samples_per_second": float(np.mean([r["samples_per_second"] for r in rs]))})
    return table


def markdown(table, data):
    split = table[0]["split"] if table else "test"
    lines = [f"| {data}: model | method | val. mean (%) | {split} acc. mean (%) | std | min | max |",
             "|---|---|---|---|---|---|---|"]
    for t in table:
        val = "-" if t["val_mean"] is None else f"{t['val_mean']:.2f}"
        lines.append(f"| {t['model']} | {t['method']} | {val} | {t['mean']:.2f} | "
                     f"{t['std']:.2f} | {t['min']:.2f} | {t['max']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.sweep", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=("digits", "yinyang", "mnist"), default="digits")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr-decay-epochs", default="10,15")
    p.add_argument("--test", action="store_true", help="evaluate the test split (final tables)")
    p.add_argument("--refit", action="store_true",
                   help="with --test: train on train + validation (choices stay the validation ones)")
    p.add_argument("--runs", nargs="+", default=None, metavar="MODEL:METHOD",
                   help="subset of runs, e.g. fixed:opzo float:bp (default: all)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE")
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out-dir", default="results/runs")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    if args.refit and not args.test:
        p.error("--refit needs --test (nothing is held out to validate on)")
    runs = RUNS if args.runs is None else [tuple(r.split(":")) for r in args.runs]
    os.makedirs(args.out_dir, exist_ok=True)
    jobs = [(model, method, seed) for model, method in runs for seed in args.seeds]
    with ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(lambda j: _run_one(args, *j, args.out_dir), jobs))
    table = summarise(results)
    print(markdown(table, args.data))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"data": args.data, "epochs": args.epochs, "seeds": args.seeds,
                       "lr_decay_epochs": args.lr_decay_epochs,
                       "command": "python -m tools.sweep " + " ".join(argv or sys.argv[1:]),
                       "summary": table, "runs": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
