"""Antithetic noise on validation: fixed-point OPZO with and without, several seeds.

Example (the run behind ``results/antithetic.json``)::

    python -m tools.antithetic --seeds 1,2,3 --json results/antithetic.json

Each data set is trained as its tuning search trained it (``results/tune/<data>.json``:
epochs, learning-rate halvings, training-set limit) at the tuned fields of
``tools/tuned.py``, once with ``antithetic`` off and once on, per seed; only ``antithetic``
differs between the two.  Seeds 1-3 by default: seed 0 chose the tuned fields.  The test
split is never evaluated.
"""

import argparse
import json
import statistics
import sys
import time

from tools.train import train

__all__ = ["SCHEDULES", "compare", "main"]

# the schedules of the searches that chose the chip's OPZO fields (results/tune/<data>.json:
# digits "fixed:opzo full", Yin-Yang "fixed:opzo")
SCHEDULES = {
    "digits": {"epochs": 20, "lr_decay_epochs": (10, 15), "limit_train": None},
    "yinyang": {"epochs": 3, "lr_decay_epochs": (2,), "limit_train": 2000},
}


def compare(data, seeds, log=print):
    """Validation accuracy of fixed OPZO on ``data`` per seed, antithetic off and on."""
    out = {"schedule": dict(SCHEDULES[data]), "runs": []}
    for antithetic in (False, True):
        for seed in seeds:
            t0 = time.perf_counter()
            r = train(data, "opzo", "fixed", seed=seed, overrides={"antithetic": antithetic},
                      progress=False, **SCHEDULES[data])
            out["runs"].append({"antithetic": antithetic, "seed": seed,
                                "val_accuracy": r["val_accuracy"],
                                "train_accuracy": r["train_accuracy"],
                                "seconds": round(time.perf_counter() - t0, 1)})
            log(f"{data} antithetic={antithetic} seed {seed}: validation "
                f"{100 * r['val_accuracy']:.2f} %")
    for antithetic in (False, True):
        acc = [100 * r["val_accuracy"] for r in out["runs"] if r["antithetic"] == antithetic]
        out["on" if antithetic else "off"] = {"mean": round(statistics.mean(acc), 3),
                                             "std": round(statistics.stdev(acc), 3) if len(acc) > 1 else 0.0}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.antithetic", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", choices=sorted(SCHEDULES), default=sorted(SCHEDULES))
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    result = {"command": "python -m tools.antithetic " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": "fixed", "method": "opzo", "split": "validation",
              "accuracy": "percent, mean and sample std over seeds"}
    for data in args.data:
        result[data] = compare(data, seeds, log=lambda s: print(s, flush=True))
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return result


if __name__ == "__main__":
    main()
