"""The benchmark's tables (Markdown) and sweep plot (PNG) from :func:`sim.bench.run`'s result."""

__all__ = ["markdown", "plot"]


def _fmt(v, spec=".1f", none="n/a"):
    return none if v is None else format(v, spec)


def markdown(r):
    """The summary and sweep tables as Markdown."""
    e2e = r["end_to_end_samples_per_second"]
    limit = None if e2e is None else ("link" if e2e < r["chip_samples_per_second"] else "chip")
    rows = [
        ("cycles per training time step (RTL, no stalls)", _fmt(r["cycles_per_timestep"])),
        ("memory-port bound per time step", _fmt(r["bound_cycles_per_timestep"])),
        ("ratio cycles / bound", _fmt(r["cycles_ratio_to_bound"], ".2f")),
        ("cycles per training sample", _fmt(r["cycles_per_sample"], ".0f")),
        ("Fmax, MHz", _fmt(r["fmax_mhz"], ".2f", "n/a: " + r["fmax_note"])),
        ("chip training samples/s at Fmax", _fmt(r["chip_samples_per_second"], ".0f")),
        ("CPU training samples/s (golden fixed-point, one core)",
         _fmt(r["cpu_samples_per_second"], ".0f") + f" (load average {r['cpu_load_average']:.1f} "
         f"on {r['cpu_count']} cores)"),
        ("speedup chip / CPU", _fmt(r["speedup_vs_cpu"], ".2f")),
        ("UART bytes per sample, host->device / device->host",
         f"{r['link_bytes_host_to_device']} / {r['link_bytes_device_to_host']}"),
        (f"link-bound samples/s at {r['baud']} baud", _fmt(r["link_samples_per_second"], ".0f")),
        ("end-to-end samples/s = min(chip, link)",
         _fmt(e2e, ".0f") + (f" ({limit}-bound)" if limit else "")),
    ]
    lines = [f"# Core throughput: {r['config']} (hidden {r['hidden']}, P = {r['lanes']}, "
             f"T = {r['timesteps']})", "", "| quantity | value |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    if r["fmax_source"]:
        lines += ["", f"Fmax from `{r['fmax_source']}` ({r['fmax_note']})."]
    if r["sweep"]:
        lines += ["", "## Sweep", "",
                  "| varied | P | hidden | cycles/step | bound/step | ratio | cycles/sample |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {s['axis']} | {s['lanes']} | {s['hidden']} | {s['cycles_per_timestep']:.1f} | "
                  f"{s['bound_cycles_per_timestep']:.1f} | {s['cycles_ratio_to_bound']:.2f} | "
                  f"{s['cycles_per_sample']:.0f} |" for s in r["sweep"]]
        built = [s for s in r["sweep"] if s.get("build")]
        if built:
            lines += ["", "## Lanes on the device", "",
                      "| P | cycles/sample | Fmax, MHz (target) | LUT4 | FF | EBR | MULT18 | "
                      "chip samples/s | build |", "|---|---|---|---|---|---|---|---|---|"]
            for s in built:
                b, u = s["build"], s["build"]["utilization"]
                met = "" if b["timing_met"] else ", NOT met"
                lines.append(f"| {s['lanes']} | {s['cycles_per_sample']:.0f} | "
                             f"{_fmt(b['fmax_mhz'], '.2f')} ({_fmt(b['target_mhz'], 'g')}{met}) | "
                             + " | ".join(str(u.get(k, "n/a")) for k in ("LUT4", "FF", "EBR", "MULT18"))
                             + f" | {_fmt(b['chip_samples_per_second'], '.0f')} | `{b['summary']}` |")
    if r.get("resident_cycles_per_sample") is not None:
        lines += ["", "## Resident training (data set on the board)", "", "| quantity | value |",
                  "|---|---|",
                  f"| cycles per training sample (RUN of {r['resident_samples']} rows) | "
                  f"{r['resident_cycles_per_sample']:.0f} |",
                  f"| resident training samples/s at Fmax | {_fmt(r['resident_samples_per_second'], '.0f')} |",
                  f"| resident / chip rate | {_fmt(r['resident_ratio_to_chip'], '.3f')} |",
                  f"| UART bytes per training sample in resident mode | "
                  f"{r['resident_link_bytes_per_training_sample']:.3f} |",
                  f"| upload of the data set, once | {r['resident_upload_bytes']} bytes, "
                  f"{r['resident_upload_seconds_at_baud']:.1f} s at {r['baud']} baud |"]
        if r.get("resident_store") == "sdram":
            lines += [f"| data set store | SDRAM (controller at "
                      f"{r['resident_sdram']['clk_freq'] / 1e6:g} MHz, CL "
                      f"{r['resident_sdram']['cas_latency']}, SDRAM model) |",
                      f"| core idle for lack of a word during the RUN | "
                      f"{r['resident_core_wait_cycles']} of {r['resident_run_cycles']} cycles |",
                      f"| SDRAM words read / refreshes / timing violations | "
                      f"{r['resident_sdram_words_read']} / {r['resident_sdram_refreshes']} / "
                      f"{r['resident_sdram_violation_count']} |"]
    lines += ["", f"{r['samples']} training samples of real data per RTL run ({r['simulator']}); "
              f"`{r['command']}` at revision {r['git_revision']}."]
    return "\n".join(lines) + "\n"


def plot(r, path):
    """Cycles per step and the bound against P and against the hidden size (PNG)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, axis, label in zip(axes, ("lanes", "hidden"), ("lanes P", "hidden size")):
        rows = [s for s in r["sweep"] if s["axis"] == axis]
        x = [s["lanes"] if axis == "lanes" else s["hidden"][0] for s in rows]
        ax.plot(x, [s["cycles_per_timestep"] for s in rows], "o-", label="RTL cycles / step")
        ax.plot(x, [s["bound_cycles_per_timestep"] for s in rows], "s--", label="memory-port bound")
        ax.set_xscale("log", base=2)
        ax.set_xlabel(label), ax.set_ylabel("cycles per training time step"), ax.legend()
        ax.set_title(f"{r['config']}: varying {label}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
