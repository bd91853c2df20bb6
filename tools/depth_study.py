"""Accuracy against depth: 1, 2 and 3 hidden layers for BP, DFA, float OPZO and the chip's OPZO.

Example (the measurement behind ``results/depth.json``)::

    python -m tools.depth_study --data mnist --depths 1 2 3 --seeds 1 2 3 --epochs 4 \\
        --lr-decay-epochs 2,3 --json results/depth.json

Every (model, method, depth, seed) is trained by :func:`tools.train.train` in this process,
one run after the other, with ``depth`` hidden layers of the preset's width (MNIST: 128)
and the hyperparameters chosen on validation for the one-layer network
(``tools/tuned.py``, tuned on seed 0; the seeds reported here are others).  Each final
model is evaluated once on the test split.  The JSON is rewritten after every run, so an
interrupted study keeps what it finished, and ``--resume`` skips the runs already in it
(same budget: a run is fixed by its model, method, depth and seed).

``--grid-hidden-lr -1,0,1`` adds a small validation grid before the test runs: for every
method and every depth above one, the hidden learning-rate shift is tried at these offsets
from its one-layer value (``--grid-seed``, validation accuracy only; the first offset wins a
tie) and the test seeds use the chosen shift.  ``--quick`` is a seconds-long smoke run.

The fixed-point sizes are checked against the ULX3S's ECP5 block RAMs
(:func:`rtl.device_fit.check_fit`), as a streaming core and with the data set resident.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from tools.train import train
from tools.tuned import tuned_overrides

__all__ = ["RUNS", "run_study", "summarise", "fit_check", "main"]

RUNS = (("float", "bp"), ("float", "dfa"), ("float", "opzo"), ("fixed", "opzo"))
QUICK = dict(depths=(1, 2), seeds=(1,), epochs=1, lr_decay_epochs=(), limit_train=24,
             limit_val=20, limit_test=20)


def _hidden(data, depth):
    from golden.config import preset
    width = preset(data).hidden[0]
    return [width] * depth


def fit_check(data, depths, device="85F"):
    """Block RAMs of the fixed-point core per depth on the ULX3S ``device``.

    Returns one row per depth: the hidden sizes, the streaming core's estimate and the
    resident build's (core plus the data set store), each ``None`` where it does not fit,
    with the refusal message.
    """
    from golden.config import preset
    from rtl.build import find_board
    from rtl.device_fit import check_fit, resident_rows

    board = find_board("ulx3s")
    rows = []
    for depth in depths:
        cfg = preset(data, **dict(tuned_overrides(data, "fixed", "opzo"),
                                  hidden=_hidden(data, depth)))
        row = {"depth": depth, "hidden": list(cfg.hidden), "device": device,
               "available": board.ebr[device]}
        for key, resident in (("streaming", None), ("resident", resident_rows(data))):
            try:
                row[key] = check_fit(board, device, cfg, resident)
            except ValueError as exc:
                row[key], row[f"{key}_error"] = None, str(exc)
        rows.append(row)
    return rows


def _one(data, model, method, depth, seed, args, *, test, extra=None):
    fields = dict(extra or {}, hidden=_hidden(data, depth))
    t0 = time.perf_counter()
    r = train(data, method, model, epochs=args["epochs"], seed=seed, overrides=fields,
              lr_decay_epochs=args["lr_decay_epochs"], limit_train=args["limit_train"],
              limit_val=args["limit_val"], limit_test=args["limit_test"], test=test,
              progress=False)
    out = {"model": model, "method": method, "depth": depth, "seed": seed,
           "hidden": fields["hidden"], "fields": dict(tuned_overrides(data, model, method), **fields),
           "val_accuracy": r["val_accuracy"], "train_accuracy": r["train_accuracy"],
           "val_curve": [h["val_accuracy"] for h in r["history"]],
           "samples_per_second": round(r["samples_per_second"], 1),
           "seconds": round(time.perf_counter() - t0, 1)}
    if test:
        out["test_accuracy"] = r["test_accuracy"]
    return out


def _grid(data, model, method, depth, args, offsets, seed, log):
    base = tuned_overrides(data, model, method)["hidden_lr_shift"]
    points = []
    for off in offsets:
        r = _one(data, model, method, depth, seed, args, test=False,
                 extra={"hidden_lr_shift": base + off})
        points.append({"hidden_lr_shift": base + off, "val_accuracy": r["val_accuracy"],
                       "seconds": r["seconds"]})
        log(f"grid {model}:{method} depth {depth} hidden_lr_shift {base + off}: "
            f"validation {100 * r['val_accuracy']:.2f} %")
    best = max(range(len(points)), key=lambda k: (points[k]["val_accuracy"], -k))
    return {"model": model, "method": method, "depth": depth, "seed": seed,
            "one_layer_shift": base, "points": points,
            "chosen": {"hidden_lr_shift": points[best]["hidden_lr_shift"]}}


def summarise(runs):
    """Mean and sample standard deviation (%) of test and validation accuracy per
    (model, method, depth), in the order of first appearance."""
    groups = {}
    for r in runs:
        groups.setdefault((r["model"], r["method"], r["depth"]), []).append(r)
    table = []
    for (model, method, depth), rs in groups.items():
        row = {"model": model, "method": method, "depth": depth,
               "seeds": [r["seed"] for r in rs], "hidden": rs[0]["hidden"]}
        for split in ("test", "val"):
            acc = np.array([100 * r[f"{split}_accuracy"] for r in rs if f"{split}_accuracy" in r])
            if len(acc):
                row[f"{split}_mean"] = float(acc.mean())
                row[f"{split}_std"] = float(acc.std(ddof=1)) if len(acc) > 1 else 0.0
                row[f"{split}_per_seed"] = acc.tolist()
        table.append(row)
    return table


def run_study(data, *, runs=RUNS, depths=(1, 2, 3), seeds=(1, 2, 3), epochs=4,
              lr_decay_epochs=(2, 3), limit_train=None, limit_val=None, limit_test=None,
              grid_offsets=None, grid_seed=0, json_path=None, command="", resume=False,
              log=print):
    """Train every run, write and return the study's record (see the module docstring)."""
    args = dict(epochs=epochs, lr_decay_epochs=tuple(lr_decay_epochs), limit_train=limit_train,
                limit_val=limit_val, limit_test=limit_test)
    out = {"data": data, "command": command,
           "budget": {"epochs": epochs, "lr_decay_epochs": list(lr_decay_epochs),
                      "limit_train": limit_train, "limit_val": limit_val,
                      "limit_test": limit_test, "seeds": list(seeds), "depths": list(depths)},
           "hyperparameters": "one-layer choices of tools/tuned.py (validation, seed 0)"
                              + (", hidden_lr_shift re-chosen per depth > 1 by the grid"
                                 if grid_offsets else ", reused at every depth"),
           "fit": fit_check(data, depths), "grids": [], "runs": []}
    if resume and json_path and os.path.exists(json_path):
        with open(json_path) as f:
            old = json.load(f)
        if old["budget"] != out["budget"] or old["data"] != data:
            raise ValueError(f"--resume needs the same data and budget as {json_path}")
        out["grids"], out["runs"] = old.get("grids", []), old.get("runs", [])
        # runs are deterministic in (model, method, depth, seed, budget): the record names
        # the command that completes it, and the earlier ones whose runs it kept
        out["earlier_commands"] = old.get("earlier_commands", []) + [old["command"]]

    def save():
        out["summary"] = summarise(out["runs"])
        if json_path:
            os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
            with open(json_path, "w") as f:
                json.dump(out, f, indent=1)

    def chosen(model, method, depth):
        for g in out["grids"]:
            if (g["model"], g["method"], g["depth"]) == (model, method, depth):
                return g["chosen"]
        return None

    for depth in depths:
        for model, method in runs:
            extra = {}
            if grid_offsets and depth > 1:
                extra = chosen(model, method, depth)
                if extra is None:
                    out["grids"].append(_grid(data, model, method, depth, args, grid_offsets,
                                              grid_seed, log))
                    extra = out["grids"][-1]["chosen"]
                    save()
            for seed in seeds:
                done = any((r["model"], r["method"], r["depth"], r["seed"]) ==
                           (model, method, depth, seed) for r in out["runs"])
                if done:
                    continue
                r = _one(data, model, method, depth, seed, args, test=True, extra=extra)
                out["runs"].append(r)
                log(f"{model}:{method} depth {depth} seed {seed}: validation "
                    f"{100 * r['val_accuracy']:.2f} %, test {100 * r['test_accuracy']:.2f} % "
                    f"({r['seconds']:.0f} s)")
                save()
    save()
    return out


def markdown(out):
    """The summary as a Markdown table (test and validation mean +/- std, %)."""
    lines = ["| model | method | hidden layers | test mean ± std (%) | val. mean ± std (%) | seeds |",
             "|---|---|---|---|---|---|"]
    for t in out["summary"]:
        lines.append(f"| {t['model']} | {t['method']} | {t['depth']} | "
                     f"{t.get('test_mean', float('nan')):.2f} ± {t.get('test_std', 0):.2f} | "
                     f"{t.get('val_mean', float('nan')):.2f} ± {t.get('val_std', 0):.2f} | "
                     f"{','.join(map(str, t['seeds']))} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.depth_study", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=("digits", "yinyang", "mnist"), default="mnist")
    p.add_argument("--runs", nargs="+", default=None, metavar="MODEL:METHOD")
    p.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--lr-decay-epochs", default="2,3")
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--grid-hidden-lr", default=None, metavar="OFFSETS",
                   help="e.g. -1,0,1: validation grid of the hidden learning-rate shift per "
                        "method and depth > 1, as offsets from the one-layer choice")
    p.add_argument("--grid-seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: depths 1-2, one seed, one epoch, 24/20/20 samples")
    p.add_argument("--resume", action="store_true", help="keep the runs already in --json")
    p.add_argument("--json", metavar="PATH")
    a = p.parse_args(argv)
    runs = RUNS if a.runs is None else [tuple(r.split(":")) for r in a.runs]
    kw = dict(depths=tuple(a.depths), seeds=tuple(a.seeds), epochs=a.epochs,
              lr_decay_epochs=tuple(int(v) for v in a.lr_decay_epochs.split(",") if v.strip()),
              limit_train=a.limit_train, limit_val=None, limit_test=None)
    if a.quick:
        kw.update(QUICK)
    offsets = ([int(v) for v in a.grid_hidden_lr.split(",")] if a.grid_hidden_lr else None)
    cmd = "python -m tools.depth_study " + " ".join(argv if argv is not None else sys.argv[1:])
    out = run_study(a.data, runs=runs, grid_offsets=offsets, grid_seed=a.grid_seed,
                    json_path=a.json, command=cmd.strip(), resume=a.resume,
                    log=lambda s: print(s, flush=True), **kw)
    print(markdown(out))
    for row in out["fit"]:
        print(f"fit {row['device']} depth {row['depth']} {row['hidden']}: streaming "
              f"{row['streaming']}, resident {row['resident']} of {row['available']} block RAMs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
