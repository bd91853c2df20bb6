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
import base64
import html
import io
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sim import report_depth

__all__ = ["SIZES", "build_report", "main"]

PARTS = ("rtl", "learning", "inside", "fpga", "throughput", "mnist", "depth")
METHOD_RUNS = (("fixed", "opzo"), ("fixed", "readout"), ("float", "opzo"), ("float", "bp"),
               ("float", "dfa"), ("float", "zo"), ("float", "readout"))

# Run sizes.  "tiny" keeps CI in seconds; "full" is what the docs quote.
SIZES = {
    "tiny": dict(epochs=2, seeds=(0,), limit_train={"digits": 100, "yinyang": 200},
                 limit_test={"digits": 100, "yinyang": 150}, rtl_samples=2,
                 rtl_configs=("tiny",), inside_epochs=1),
    "full": dict(epochs=20, seeds=(0, 1, 2), limit_train={"digits": None, "yinyang": None},
                 limit_test={"digits": None, "yinyang": None}, rtl_samples=20,
                 rtl_configs=("digits", "yinyang", "awkward"), inside_epochs=5),
}

# Quoted from the paper (Xiao et al., arXiv 2407.12516) via ../shared/docs/opzo.md, for
# context only: these are not measured here.
PAPER = [("spatial BP (OTTT)", "98.15", "95.72", "75.43", "90.00", "64.82"),
         ("DFA", "97.98", "91.67", "60.60", "79.90", "49.50"),
         ("single-point ZO", "72.90", "23.73", "31.67", "49.04", "22.26"),
         ("OPZO", "98.27", "94.33", "72.77", "85.74", "60.93")]


def git_revision():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _compare_command(cfg, base_name, samples, source):
    """The sim.compare command line that reproduces one comparison."""
    from golden.config import PRESETS
    base = PRESETS[base_name]
    args = [f"--config {base_name}", f"--samples {samples}", "--check sample"]
    if source == "random":
        args.append("--source random")
    for key, value in cfg.to_dict().items():
        if key == "name" or value == base.to_dict()[key]:
            continue
        if key == "hidden":
            args.append("--hidden " + ",".join(map(str, value)))
        elif key == "lanes":
            args.append(f"--lanes {value}")
        else:
            args.append(f"--set {key}={value}")
    return "python -m sim.compare " + " ".join(args)


def _rtl_config(name):
    from golden.config import preset
    if name == "tiny":
        return preset("digits").with_(name="tiny", n_inputs=8, hidden=(6,), n_outputs=3, lanes=2,
                      timesteps=3, feedback_init="random", hidden_lr_shift=3)
    if name == "awkward":
        return preset("yinyang").with_(name="awkward", n_inputs=21, hidden=(13, 7), n_outputs=3,
                      lanes=4, timesteps=4, feedback_init="random", hidden_lr_shift=3)
    return preset(name)


# --- parts -------------------------------------------------------------------------------
def part_rtl(size, build_base):
    from sim.compare import compare
    rows = []
    for name in size["rtl_configs"]:
        cfg = _rtl_config(name)
        source = name if name in ("digits", "yinyang") else "random"
        r = compare(cfg, samples=size["rtl_samples"], source=source, check="sample",
                    build_base=build_base)
        base = name if name in ("digits", "yinyang") else ("digits" if name == "tiny" else "yinyang")
        r["command"] = _compare_command(cfg, base, size["rtl_samples"], source)
        rows.append(r)
    return rows


def _train_one(args):
    from tools.train import train
    data, model, method, seed, epochs, limit_train, limit_test = args
    r = train(data, method, model, epochs=epochs, seed=seed, limit_train=limit_train,
              limit_test=limit_test, test=True, progress=False)
    r.pop("config_fields", None)
    return r


def part_learning(size, workers):
    jobs = [(data, model, method, seed, size["epochs"], size["limit_train"][data],
             size["limit_test"][data])
            for data in ("digits", "yinyang") for model, method in METHOD_RUNS
            for seed in size["seeds"]]
    with ProcessPoolExecutor(workers) as pool:
        runs = list(pool.map(_train_one, jobs))
    table = []
    for data in ("digits", "yinyang"):
        for model, method in METHOD_RUNS:
            rs = [r for r in runs if (r["data"], r["model"], r["method"]) == (data, model, method)]
            acc = np.array([100 * r["test_accuracy"] for r in rs])
            curve = np.mean([[100 * h["val_accuracy"] for h in r["history"]] for r in rs], axis=0)
            table.append({"data": data, "model": model, "method": method,
                          "seeds": [r["seed"] for r in rs], "mean": float(acc.mean()),
                          "std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                          "min": float(acc.min()), "max": float(acc.max()),
                          "curve": curve.tolist(),
                          "samples_per_second": float(np.mean([r["samples_per_second"] for r in rs])),
                          "confusion": rs[-1]["confusion"]})
    limits = " ".join(f"--limit-train {v}" for v in [size["limit_train"]["digits"]] if v)
    command = (f"python -m tools.train --data D --model M --method X --epochs {size['epochs']} "
               f"--seed S {limits}").strip()
    return {"table": table, "command": command}


def part_inside(size):
    from golden.analysis import SignalProbe
    from golden.config import preset
    from tools.train import train
    out = {}
    for data in ("digits", "yinyang"):
        net = SignalProbe.from_config(preset(data))
        train(data, "opzo", "float", epochs=size["inside_epochs"], progress=False, net=net,
              limit_train=size["limit_train"][data], limit_val=size["limit_test"][data])
        steps = len(net.records) // net.n_hidden
        out[data] = {"summary": net.summary(max(1, steps // 40)), "spread": net.spread(),
                     "steps": steps, "epochs": size["inside_epochs"]}
    return out


def part_fpga(builds):
    rows = []
    for path in sorted(Path(builds).glob("*/summary.json")) if builds else []:
        s = json.loads(path.read_text())
        s["artifact"] = str(path)
        rows.append(s)
    return rows


def part_throughput(rtl_rows, fpga_rows):
    from tools.cpu_bench import bench
    cpu = bench("digits", samples=200, repeats=2)
    digits = next((r for r in rtl_rows if r["config"] == "digits"), None)
    if digits is None:
        digits = next((r for r in rtl_rows if r["cycles_per_timestep"]), None)
    build = next((b for b in fpga_rows if b.get("config") == (digits or {}).get("config")), None)
    out = {"cpu": cpu, "rtl": None}
    if digits:
        per_sample = digits["cycles_per_timestep"] * digits["config_fields"]["timesteps"]
        out["rtl"] = {"config": digits["config"], "cycles_per_timestep": digits["cycles_per_timestep"],
                      "cycles_per_sample": per_sample}
        if build and build.get("fmax_mhz"):
            sps = build["fmax_mhz"] * 1e6 / per_sample
            out["chip"] = {"fmax_mhz": build["fmax_mhz"], "samples_per_second": sps,
                           "speedup_vs_cpu": sps / cpu["train_samples_per_second"],
                           "artifact": build["artifact"]}
    return out


# --- plots -----------------------------------------------------------------------------
def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return buf.getvalue()


def plots(data):
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = {}
    if "learning" in data:
        for ds in ("digits", "yinyang"):
            fig, ax = plt.subplots(figsize=(6, 3.6))
            for row in data["learning"]["table"]:
                if row["data"] != ds:
                    continue
                style = "-" if row["model"] == "fixed" else "--"
                ax.plot(range(1, len(row["curve"]) + 1), row["curve"], style, marker="o", ms=3,
                        label=f"{row['model']} {row['method']}")
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
            ax.set_ylabel("validation accuracy (%)")
            ax.set_title(f"{ds}: learning curves (mean over seeds)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, ncol=2)
            out[f"curves_{ds}"] = _png(fig)
            chip = next(r for r in data["learning"]["table"]
                        if (r["data"], r["model"], r["method"]) == (ds, "fixed", "opzo"))
            c = np.array(chip["confusion"])
            fig, ax = plt.subplots(figsize=(3.8, 3.4))
            ax.imshow(c, cmap="Blues")
            for (i, j), v in np.ndenumerate(c):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                            color="white" if v > c.max() / 2 else "black")
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            ax.set_title(f"{ds}: the chip's model (fixed OPZO)")
            out[f"confusion_{ds}"] = _png(fig)
    if "inside" in data:
        for ds, d in data["inside"].items():
            fig, ax = plt.subplots(figsize=(6, 3.4))
            for layer, s in d["summary"].items():
                ax.plot(s["step"], s["opzo"], "-", label=f"OPZO  M e, layer {int(layer) + 1}")
                ax.plot(s["step"], s["zo"], ":", label=f"plain ZO, layer {int(layer) + 1}")
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_xlabel("training time step")
            ax.set_ylabel("cosine with the BP signal")
            ax.set_title(f"{ds}: how well each estimate points along the true gradient")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
            out[f"inside_{ds}"] = _png(fig)
    out.update(report_depth.plots(data, _png))
    return out


# --- writing -------------------------------------------------------------------------------
def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(v, nd=2):
    return "n/a" if v is None else f"{v:.{nd}f}"


DEFAULT_SOAK = "results/soak/seed19000.json"
"""The committed soak record (relative to the working directory)."""


def _coverage_of(runs):
    from sim import coverage
    table = None
    for r in runs:
        if r.get("coverage"):
            table = r["coverage"] if table is None else coverage.merge(table, r["coverage"])
    return table


def _coverage_rows(table):
    from sim import coverage
    return [(kind, event, count if count else "never (0)") for kind, event, count in coverage.rows(table)]


def read_soak(path):
    """The committed soak record (``python -m sim.soak --out``), or None."""
    path = Path(path)
    if not path.is_file():
        return None
    d = json.loads(path.read_text())
    return {"command": d["command"], "cycles": d["cycles"], "verified": d["verified"],
            "coverage": d["coverage"], "artifact": str(path)}


def sections(data):
    """(title, intro, [(table header, rows)], [plot keys]) for every part present."""
    out = []
    if "rtl" in data:
        rows = [(r["config"], f"{r['hidden']}", r["lanes"], r["samples"], r["timesteps"],
                 r["mismatches"], r["state_checks"], _fmt(r["cycles_per_timestep"], 1),
                 _fmt(r["bound_cycles_per_timestep"], 1), _fmt(r["cycles_ratio_to_bound"]),
                 f"{r['sim_cycles_per_second']:.0f}", f"`{r['command']}`") for r in data["rtl"]]
        tables = [(["config", "hidden", "P", "samples", "time steps", "mismatches", "state checks",
                    "cycles/step", "port bound", "ratio", "sim cycles/s", "command"], rows)]
        intro = ("Generated Verilog under cocotb/Verilator, random stalls on both streams; every "
                 "response word and the complete state after every sample compared with "
                 "golden.core.FixedCore. Mismatches must read 0.")
        table = _coverage_of(data["rtl"])
        if table:
            tables.append((["coverage of these runs: kind", "event", "count"], _coverage_rows(table)))
            intro += (" Coverage (sim/coverage.py): how often each event happened in these runs; "
                      "0 is marked never.")
        soak = data.get("soak")
        if soak:
            tables.append(([f"coverage of the soak `{soak['command']}` ({soak['cycles']:,} cycles, "
                            f"{soak['verified']} configurations, artifact `{soak['artifact']}`): kind",
                            "event", "count"], _coverage_rows(soak["coverage"])))
        out.append(("1. RTL against the golden model", intro, tables, []))
    if "learning" in data:
        L = data["learning"]
        rows = [(r["data"], r["model"], r["method"], ",".join(map(str, r["seeds"])), _fmt(r["mean"]),
                 _fmt(r["std"]), _fmt(r["min"]), _fmt(r["max"])) for r in L["table"]]
        paper = [list(p) for p in PAPER]
        out.append(("2. Learning: the chip's model against float OPZO and the baselines",
                    f"Final test accuracy (%), mean over seeds. Runs: `{L['command']}`. "
                    "`fixed` is the bit-exact model of the chip; `float` the float reference.",
                    [(["data", "model", "method", "seeds", "mean", "std", "min", "max"], rows),
                     (["paper (quoted, not measured)", "N-MNIST", "DVS-Gesture", "DVS-CIFAR10",
                       "CIFAR-10", "CIFAR-100"], paper)],
                    ["curves_digits", "curves_yinyang", "confusion_digits", "confusion_yinyang"]))
    if "inside" in data:
        rows = []
        for ds, d in data["inside"].items():
            for layer, s in d["spread"].items():
                rows.append((ds, int(layer) + 1, d["steps"], _fmt(s["opzo"][0], 3), _fmt(s["opzo"][1], 3),
                             _fmt(s["zo"][0], 3), _fmt(s["zo"][1], 3)))
        out.append(("3. Inside the learning rule",
                    "Cosine similarity with the exact online-BP signal at the same step, float OPZO "
                    "(golden/analysis.py), last half of training: OPZO's momentum estimate `M e` "
                    "against the single-point ZO estimate `z (o - b).e` from the same noise. "
                    "Momentum turns a one-point estimate with no usable direction into one that "
                    "points along the gradient; that is what separates OPZO from plain ZO.",
                    [(["data", "layer", "steps", "OPZO mean cos", "OPZO std", "ZO mean cos", "ZO std"],
                      rows)], [f"inside_{ds}" for ds in data["inside"]]))
    if "fpga" in data:
        rows = []
        for b in data["fpga"]:
            u = b.get("utilization", {})

            def cell(key):
                v = u.get(key)
                return f"{v['used']}/{v['available']}" if isinstance(v, dict) else "n/a"
            rows.append((b.get("device"), b.get("config"), cell("LUT4"), cell("FF"),
                         cell("EBR"), cell("MULT18"), _fmt(b.get("fmax_mhz"), 1),
                         b.get("target_mhz"), "yes" if b.get("timing_met") else "no", f"`{b['artifact']}`"))
        intro = ("Read from the ULX3S build summaries (`python -m rtl.build --board ulx3s`)."
                 if rows else "No build summary found under the builds folder; run "
                 "`python -m rtl.build --board ulx3s` first.")
        out.append(("4. FPGA cost", intro,
                    [(["device", "config", "LUT4", "FF", "EBR", "MULT18", "Fmax MHz", "target MHz",
                       "timing met", "artifact"], rows)] if rows else [], []))
    if "throughput" in data:
        t = data["throughput"]
        rows = [(f"golden model, one CPU core, config {t['cpu']['config']}, training samples/s",
                 f"{t['cpu']['train_samples_per_second']:.0f}",
                 "`python -m tools.cpu_bench`")]
        if t.get("rtl"):
            rows.insert(0, ("core, cycles per training time step / per sample",
                            f"{t['rtl']['cycles_per_timestep']:.0f} / {t['rtl']['cycles_per_sample']:.0f}",
                            f"RTL simulation, config {t['rtl']['config']}"))
        if t.get("chip"):
            c = t["chip"]
            rows.append((f"core at Fmax {c['fmax_mhz']:.1f} MHz, training samples/s",
                         f"{c['samples_per_second']:.0f} ({c['speedup_vs_cpu']:.1f}x the CPU)",
                         f"`{c['artifact']}`"))
        out.append(("5. Throughput", "Training speed of the core against the golden model on "
                    "this machine's CPU, measured in this run.",
                    [(["what", "value", "source"], rows)], []))
    return out + report_depth.sections(data)


def write(data, out_dir, figures):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    head = (f"Generated by `{data['command']}` at git revision `{data['revision']}` on "
            f"{data['date']} in {data['seconds']:.0f} s.")
    md = ["# OPZO core: golden-model comparison report", "", head, ""]
    body = [f"<h1>OPZO core: golden-model comparison report</h1><p>{html.escape(head)}</p>"]
    for title, intro, tables, keys in sections(data):
        md += [f"## {title}", "", intro, ""]
        body += [f"<h2>{html.escape(title)}</h2><p>{html.escape(intro)}</p>"]
        for header, rows in tables:
            md += [_md_table(header, rows), ""]
            body.append("<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
                        + "</tr>" + "".join("<tr>" + "".join(f"<td>{html.escape(str(v)).strip('`')}</td>"
                                                             for v in row) + "</tr>" for row in rows)
                        + "</table>")
        for key in keys:
            if key in figures:
                (out_dir / f"{key}.png").write_bytes(figures[key])
                md += [f"![{key}]({key}.png)", ""]
                b64 = base64.b64encode(figures[key]).decode()
                body.append(f'<img alt="{key}" src="data:image/png;base64,{b64}">')
    (out_dir / "report.md").write_text("\n".join(md))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
             "th{background:#f0f0f0}img{max-width:48%;margin:4px;vertical-align:top}")
    (out_dir / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>OPZO core report</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
    (out_dir / "report.json").write_text(json.dumps(data, indent=1, default=str))


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
