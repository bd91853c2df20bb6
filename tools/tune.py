"""Choose hyperparameters on validation accuracy: a small, recorded coordinate search.

Example (the searches behind tools/tuned.py)::

    python -m tools.tune --data digits --epochs 6 --lr-decay-epochs 3,5 --seed 0 \\
        --json results/tune/digits.json

For every (model, method) of ``--runs`` the fields of its grid (:data:`GRIDS`) are searched
one at a time, in order: each value is trained from scratch (``--epochs``, on the training
split or its first ``--limit-train`` samples) once per seed and scored by its final
validation accuracy, averaged over the seeds; the best value (the earlier one on a tie, so
the preset's value wins ties when it comes first) is kept before the next field is
searched.  The test split is never evaluated.  The JSON records every point (the mean
validation accuracy as ``val_accuracy`` and the per-seed values in ``seeds`` order as
``val_accuracy_per_seed``), the choice per run and the command; copy the choices into
``tools/tuned.py``.

Seeds: ``--seed S`` (default 0) trains every point once; ``--seeds S1 S2 ...`` trains it
once per seed and scores the mean: on a small validation split (digits: 180 samples, one
is 0.56 %) a single seed's grid is flat and its choice is mostly noise.
Tune on seeds other than the ones the final tables report (``tools.sweep --seeds 1 2 3``)::

    python -m tools.tune --data digits --epochs 20 --lr-decay-epochs 10,15 --seeds 4 5 6 \\
        --runs fixed:opzo --label full --json results/tune/digits.json

A choice at the edge of a grid can be refined by a second pass that searches only the
fields given with ``--grid`` (values in search order), starting from the first pass's
choices given with ``--set``; it is recorded as ``"MODEL:METHOD LABEL"`` (``--label``)::

    python -m tools.tune --data mnist --epochs 4 --lr-decay-epochs 2,3 --runs fixed:opzo \\
        --set readout_lr_shift=8 --grid feedback_decay_shift=12,13 --label refine \\
        --json results/tune/mnist.json
"""

import argparse
import json
import os
import sys
import time

from golden.config import parse_overrides
from tools.train import train

__all__ = ["GRIDS", "RUNS", "search", "main"]

_OPZO = (("hidden_lr_shift", (6, 5, 7)), ("readout_lr_shift", (9, 8, 10)),
         ("noise_shift", (2, 1, 3)), ("feedback_decay_shift", (11, 10, 12)),
         ("feedback_init", ("zero", "random")))
_HIDDEN = (("hidden_lr_shift", (6, 4, 5, 7, 8, 3)), ("readout_lr_shift", (9, 8, 10)))
# method -> ((field, values first-is-start), ...)
GRIDS = {
    "opzo": _OPZO,
    "bp": _HIDDEN,
    "dfa": _HIDDEN,
    "zo": (("hidden_lr_shift", (8, 6, 10, 12, 14, 16)), ("readout_lr_shift", (9, 8, 10)),
           ("noise_shift", (2, 1, 3))),
    "readout": (("readout_lr_shift", (9, 8, 10)),),
}
_TIE = 1e-12  # validation means closer than this are a tie
RUNS = ("fixed:opzo", "fixed:readout", "float:opzo", "float:bp", "float:dfa", "float:zo",
        "float:readout")


def search(data, model, method, *, epochs, lr_decay_epochs, seed=0, limit_train, base=None,
           log=print, grid=None, seeds=None):
    """Coordinate search of ``grid`` (default ``GRIDS[method]``); returns ``(chosen fields, points)``.

    Every point is trained once per seed of ``seeds`` (default ``(seed,)``) and scored by
    the mean of its final validation accuracies.
    """
    grid = GRIDS[method] if grid is None else grid
    seeds = (seed,) if seeds is None else tuple(seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    chosen = {field: values[0] for field, values in grid}
    chosen.update(base or {})
    points, cache = [], {}
    for field, values in grid:
        scores = []
        for v in values:
            trial = dict(chosen, **{field: v})
            key = tuple(sorted(trial.items()))
            if key not in cache:
                t0 = time.perf_counter()
                val, tr = [], []
                for s in seeds:
                    r = train(data, method, model, epochs=epochs, seed=s, overrides=trial,
                              tuned=False, lr_decay_epochs=lr_decay_epochs,
                              limit_train=limit_train, progress=False)
                    val.append(r["val_accuracy"])
                    tr.append(r["train_accuracy"])
                mean = sum(val) / len(val)
                cache[key] = mean
                points.append({"fields": trial, "val_accuracy": mean,
                               "train_accuracy": sum(tr) / len(tr),
                               "seconds": round(time.perf_counter() - t0, 1),
                               "seeds": list(seeds), "val_accuracy_per_seed": val,
                               "train_accuracy_per_seed": tr})
                per_seed = ", ".join(f"{100 * a:.2f}" for a in val)
                log(f"{model}:{method} {trial} -> validation {100 * mean:.2f} %"
                    + (f" (seeds {list(seeds)}: {per_seed})" if len(seeds) > 1 else ""))
            scores.append(cache[key])
        # the earliest value within rounding of the best mean: means of equal totals can
        # differ in the last bit (171+174+171 and 171+173+172 of 180), and that is a tie
        top = max(scores)
        best = next(k for k, score in enumerate(scores) if score >= top - _TIE)
        chosen[field] = values[best]
    return chosen, points


def _parse_grid(items):
    """``["noise_shift=1,0"]`` -> ``(("noise_shift", (1, 0)),)`` with values typed as in --set."""
    grid = []
    for item in items:
        field, sep, values = item.partition("=")
        if not sep or not values:
            raise SystemExit(f"--grid expects FIELD=V1,V2,..., got {item!r}")
        typed = [parse_overrides([f"{field}={v}"])[field] for v in values.split(",")]
        grid.append((field, tuple(typed)))
    return tuple(grid)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.tune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=("digits", "yinyang", "mnist"), default="digits")
    p.add_argument("--runs", nargs="+", default=list(RUNS), metavar="MODEL:METHOD")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--lr-decay-epochs", default="3,5")
    seed = p.add_mutually_exclusive_group()
    seed.add_argument("--seed", type=int, default=None, help="train every point once, with this seed (default 0)")
    seed.add_argument("--seeds", type=int, nargs="+", metavar="S",
                      help="train every point once per seed and score the mean validation accuracy")
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="fixed field for every run (not searched)")
    p.add_argument("--grid", action="append", metavar="FIELD=V1,V2,...",
                   help="search these values of FIELD instead of the method's grid (repeatable; "
                        "the order given is the search order, its first value the start). "
                        "With --grid only the named fields are searched: a refinement around "
                        "earlier choices given with --set")
    p.add_argument("--label", default="",
                   help="record the searches as 'MODEL:METHOD LABEL' (a refinement pass "
                        "next to the first search)")
    p.add_argument("--json", metavar="PATH", help="merge the searches into this JSON file")
    args = p.parse_args(argv)
    seeds = tuple(args.seeds) if args.seeds else (0 if args.seed is None else args.seed,)
    if len(set(seeds)) != len(seeds):
        p.error(f"--seeds must be distinct, got {list(seeds)}")
    decay = tuple(int(v) for v in args.lr_decay_epochs.split(",") if v.strip())
    fixed = parse_overrides(args.set)
    custom = _parse_grid(args.grid) if args.grid else None
    out = {}
    if args.json and os.path.exists(args.json):
        with open(args.json) as f:
            out = json.load(f)
    out.setdefault("data", args.data)
    out.setdefault("searches", {})
    command = "python -m tools.tune " + " ".join(argv if argv is not None else sys.argv[1:])
    for run in args.runs:
        model, method = run.split(":")
        grid = custom or GRIDS[method]
        start = {f: v for f, v in fixed.items() if f not in dict(grid)}
        chosen, points = search(args.data, model, method, epochs=args.epochs,
                                lr_decay_epochs=decay, seeds=seeds,
                                limit_train=args.limit_train, base=start,
                                log=lambda s: print(s, flush=True), grid=grid)
        key = f"{run} {args.label}" if args.label else run
        out["searches"][key] = {
            "command": command, "epochs": args.epochs, "lr_decay_epochs": list(decay),
            "seed": seeds[0] if len(seeds) == 1 else None, "seeds": list(seeds),
            "limit_train": args.limit_train, "fixed_fields": start,
            "grid": {f: list(v) for f, v in grid}, "chosen": chosen,
            "points": points}
        print(f"{run}: chose {chosen}", flush=True)
        if args.json:
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
