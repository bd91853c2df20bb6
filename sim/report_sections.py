"""The comparison report's sections: the data of each part turned into a title, an intro
and tables of rows (strings and numbers), ready for :mod:`sim.report_write` to put in the
markdown and the HTML page; the MNIST and depth sections come from :mod:`sim.report_depth`.
"""

from sim import report_depth

__all__ = ["PAPER", "sections"]

# Quoted from the paper (Xiao et al., arXiv 2407.12516) via ../shared/docs/opzo.md, for
# context only: these are not measured here.
PAPER = [("spatial BP (OTTT)", "98.15", "95.72", "75.43", "90.00", "64.82"),
         ("DFA", "97.98", "91.67", "60.60", "79.90", "49.50"),
         ("single-point ZO", "72.90", "23.73", "31.67", "49.04", "22.26"),
         ("OPZO", "98.27", "94.33", "72.77", "85.74", "60.93")]


def _fmt(v, nd=2):
    return "n/a" if v is None else f"{v:.{nd}f}"


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

