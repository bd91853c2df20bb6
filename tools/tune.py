"""Choose hyperparameters on validation accuracy: a small, recorded coordinate search.

Example (the searches behind tools/tuned.py)::

    python -m tools.tune --data digits --epochs 6 --lr-decay-epochs 3,5 --seed 0 \\
        --json results/tune/digits.json

For every (model, method) of ``--runs`` the fields of its grid (:data:`GRIDS`) are searched
one at a time, in order: each value is trained from scratch (``--epochs``, one seed, on
the training split or its first ``--limit-train`` samples) and scored by its final
validation accuracy; the best value (the earlier one on a tie, so the preset's value
wins ties when it comes first) is kept before the next field is searched.  The test split
is never evaluated.  The JSON records every point, the choice per run and the command;
copy the choices into ``tools/tuned.py``.
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
RUNS = ("fixed:opzo", "fixed:readout", "float:opzo", "float:bp", "float:dfa", "float:zo",
        "float:readout")


def search(data, model, method, *, epochs, lr_decay_epochs, seed, limit_train, base=None,
           log=print):
    """Coordinate search of ``GRIDS[method]``; returns ``(chosen fields, points)``."""
    chosen = {field: values[0] for field, values in GRIDS[method]}
    chosen.update(base or {})
    points, cache = [], {}
    for field, values in GRIDS[method]:
        scores = []
        for v in values:
            trial = dict(chosen, **{field: v})
            key = tuple(sorted(trial.items()))
            if key not in cache:
                t0 = time.perf_counter()
                r = train(data, method, model, epochs=epochs, seed=seed, overrides=trial,
                          tuned=False, lr_decay_epochs=lr_decay_epochs, limit_train=limit_train,
                          progress=False)
                cache[key] = r["val_accuracy"]
                points.append({"fields": trial, "val_accuracy": r["val_accuracy"],
                               "train_accuracy": r["train_accuracy"],
                               "seconds": round(time.perf_counter() - t0, 1)})
                log(f"{model}:{method} {trial} -> validation {100 * r['val_accuracy']:.2f} %")
            scores.append(cache[key])
        best = max(range(len(values)), key=lambda k: (scores[k], -k))
        chosen[field] = values[best]
    return chosen, points


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.tune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=("digits", "yinyang", "mnist"), default="digits")
    p.add_argument("--runs", nargs="+", default=list(RUNS), metavar="MODEL:METHOD")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--lr-decay-epochs", default="3,5")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="fixed field for every run (not searched)")
    p.add_argument("--json", metavar="PATH", help="merge the searches into this JSON file")
    args = p.parse_args(argv)
    decay = tuple(int(v) for v in args.lr_decay_epochs.split(",") if v.strip())
    fixed = parse_overrides(args.set)
    out = {}
    if args.json and os.path.exists(args.json):
        with open(args.json) as f:
            out = json.load(f)
    out.setdefault("data", args.data)
    out.setdefault("searches", {})
    command = "python -m tools.tune " + " ".join(argv if argv is not None else sys.argv[1:])
    for run in args.runs:
        model, method = run.split(":")
        chosen, points = search(args.data, model, method, epochs=args.epochs,
                                lr_decay_epochs=decay, seed=args.seed,
                                limit_train=args.limit_train, base=fixed,
                                log=lambda s: print(s, flush=True))
        out["searches"][run] = {
            "command": command, "epochs": args.epochs, "lr_decay_epochs": list(decay),
            "seed": args.seed, "limit_train": args.limit_train, "fixed_fields": fixed,
            "grid": {f: list(v) for f, v in GRIDS[method]}, "chosen": chosen,
            "points": points}
        print(f"{run}: chose {chosen}", flush=True)
        if args.json:
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
