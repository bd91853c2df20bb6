"""The summary of a build: resources and timing from nextpnr's ``report.json``, the table
the build command prints, and the choice of the best placement among nextpnr seeds."""

__all__ = ["RESOURCES", "summarize", "format_summary", "best_seed", "lanes_suffix", "summary_lanes"]

# nextpnr's utilization keys -> names in the summary
RESOURCES = {"TRELLIS_COMB": "LUT4", "TRELLIS_FF": "FF", "DP16KD": "EBR", "MULT18X18D": "MULT18"}


def summarize(report, *, board, device, config, target_mhz, pll_mhz):
    """The summary dictionary from nextpnr's ``report.json`` contents."""
    util = {}
    for key, name in RESOURCES.items():
        entry = report.get("utilization", {}).get(key, {"used": 0, "available": 0})
        util[name] = {"used": int(entry["used"]), "available": int(entry["available"])}
    fmax_all = {clk: {"achieved": float(e["achieved"]), "constraint": float(e["constraint"])}
                for clk, e in report.get("fmax", {}).items()}
    # the core clock: the clock whose constraint is the PLL frequency (net "clk")
    core = [c for c, e in fmax_all.items() if abs(e["constraint"] - pll_mhz) < 0.01 * pll_mhz]
    fmax = fmax_all[core[0]]["achieved"] if core else None
    met = bool(core) and all(e["achieved"] >= e["constraint"] for e in fmax_all.values())
    return {"board": board, "device": device, "config": config, "target_mhz": target_mhz,
            "pll_mhz": pll_mhz, "fmax_mhz": fmax, "timing_met": met, "clocks": fmax_all,
            "utilization": util}


def format_summary(s):
    lines = [f"{s['board']} {s['device']} config {s['config']}:",
             f"  {'resource':8s} {'used':>7s} {'available':>9s} {'%':>6s}"]
    for name, u in s["utilization"].items():
        pct = 100.0 * u["used"] / u["available"] if u["available"] else 0.0
        lines.append(f"  {name:8s} {u['used']:7d} {u['available']:9d} {pct:6.1f}")
    fmax = "n/a" if s.get("fmax_mhz") is None else f"{s['fmax_mhz']:.2f} MHz"
    lines.append(f"  Fmax {fmax} vs target {s['target_mhz']:g} MHz (PLL {s['pll_mhz']:.4g} MHz): "
                 f"{'met' if s['timing_met'] else 'NOT met'}")
    if s.get("seeds"):
        lines.append("  nextpnr seeds: " + ", ".join(
            f"{r['seed']}: " + ("n/a" if r["fmax_mhz"] is None else f"{r['fmax_mhz']:.2f} MHz")
            + ("" if r["timing_met"] else " (not met)") for r in s["seeds"])
            + f"; kept seed {s['nextpnr']['seed']}")
    if "seconds" in s:
        lines.append("  time " + ", ".join(f"{k} {v:.1f} s" for k, v in s["seconds"].items()))
    lines.append(f"  {'PASS' if s.get('pass') else 'FAIL'}"
                 + ("" if s.get("placed", True) else " (place and route failed)"))
    return "\n".join(lines)


def best_seed(results):
    """The best of ``[(seed, summary), ...]``: placed and timing met first, then the highest
    Fmax; ``None`` when none placed."""
    placed = [(seed, s) for seed, s in results if s.get("placed") and s.get("fmax_mhz") is not None]
    if not placed:
        return None
    return max(placed, key=lambda r: (bool(r[1]["timing_met"]), r[1]["fmax_mhz"]))[0]


def lanes_suffix(cfg, preset_lanes):
    """The build folder's suffix for ``cfg``'s lane count: ``""`` at the preset's P, else
    ``"-p<P>"`` (``build/ulx3s-85F-digits-p32``)."""
    return "" if cfg.lanes == preset_lanes else f"-p{cfg.lanes}"


def summary_lanes(summary, preset_lanes):
    """The lane count a summary was built with (summaries written before ``--lanes`` existed
    have no ``lanes`` field: they are of the preset's P)."""
    return summary.get("lanes", preset_lanes)
