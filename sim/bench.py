"""Throughput of the core: cycles in RTL simulation, on chip at Fmax, over the UART, and the CPU.

Example::

    python -m sim.bench --config digits --json results/bench_rtl.json --out results/bench_rtl

Stages (one progress line each on stderr, then a summary on stdout):

1. **Cycles.**  The generated Verilog runs under cocotb/Verilator (:func:`sim.compare.compare`)
   on ``--samples`` real encoded training samples, with no idle cycles on the input stream
   and no back-pressure on the output stream, so the core sets the pace, not the testbench.
   Every answer is still checked against the golden model (a mismatch aborts the benchmark).
   *Cycles per time step* is the mean, over training STEP commands, of the cycles from the
   first command word sent to the last answer word received.  *Cycles per sample* is the
   whole run's cycle count over the samples: START, the STEPs, END, the testbench's
   turnaround between commands (it sends a command once the previous one is answered) and
   the 4-cycle reset (amortised).  The *bound* is the
   memory-port lower bound of :mod:`sim.bounds`, evaluated on every step with the activity
   the golden model had (spikes in, spikes per layer, non-zero traces and learning signals):
   input words + forward-pass words + the slowest memory's learning words.
2. **Fmax.**  From a ULX3S build summary: ``--summary PATH``, or ``--build`` (runs
   :func:`rtl.build.build`), or ``build/ulx3s-<device>-<config>/summary.json`` when the
   configuration is an unmodified preset (``...-<config>-p<P>/`` at another ``--lanes``, as
   ``rtl.build --lanes`` names it); a summary built at another P is refused.  Without one,
   Fmax and every chip rate are null.
   Chip rate = ``fmax_hz / cycles_per_sample``.
3. **Link.**  The bytes one training sample costs on the UART, from the real packet encoding
   (:mod:`boards.ulx3s.protocol`): the host's CMD packet(s) holding START, the STEP commands
   with their spike words and END, and the RESP packets the device model answers with (sync,
   type, length and CRC included).  TX and RX are separate wires running at the same time, so
   the busier direction bounds the rate: ``baud / 10 / max(bytes each way)`` (start bit,
   8 data bits, stop bit).  End-to-end rate = ``min(chip, link)``.
4. **CPU.**  :func:`tools.cpu_bench.bench` (the bit-exact fixed-point model, one core), run now,
   on the same configuration.
5. **Sweep.**  Cycles per step and bound for each ``--sweep-lanes`` P (at the configuration's
   hidden sizes) and each ``--sweep-hidden`` size (every hidden layer, at the configuration's P).
   With ``--sweep-summaries`` (``rtl.build`` summaries, matched to the points by their
   ``lanes``), each lane point also gets its build's Fmax, timing, LUT4/FF/EBR/MULT18 and the
   chip rate at that Fmax: cycles, clock and cost against P in one table.
6. **Resident** (``--resident``).  The resident system (:mod:`rtl.resident_core`: store,
   order, feeder, core, counter) under cocotb/Verilator (:mod:`sim.cocotb_resident`, every
   answer and the core state checked against golden/resident_model.py): the data set's
   first ``--samples`` training rows uploaded, one shuffled training RUN; *resident cycles
   per training sample* is that RUN's cycles over its samples, and the resident rate
   ``fmax_hz / resident cycles per sample``, compared with the chip rate of stage 1 (the
   core fed by a testbench that never makes it wait).  Link bytes per training sample in
   resident mode: the bytes of one epoch's commands (learning-rate writes, CLEAR, SHUFFLE,
   two RUNs, COUNTERS) both ways over the training split's size (the upload, once, is
   reported separately).  The store is where ``rtl.build --resident`` puts it on the
   ``--device`` (:func:`rtl.device_fit.choose_store`: block RAM when it fits, else the
   SDRAM) or ``--resident-store``; in SDRAM the system is
   :class:`boards.ulx3s.resident_sdram.ResidentOnSdram` with :mod:`sim.sdram_model` on its
   pads, the controller's cycle counts those of the resident build's default clock
   (:func:`sim.bench_resident.resident_sdram`: MNIST's 40 MHz, CL 2).

Verilog is generated from the current sources into ``<build-dir>/<digest of rtl/ and golden/>``
(the golden model gives the memories' initial contents), so that a changed core is never
benchmarked from a stale build and an unchanged one is not compiled again; the simulator's
output goes to ``<that folder>/logs/`` (``--verbose`` shows it).  Each configuration costs one
Verilator build, 1.5 to 2 minutes on two cores for digits-sized ones.  Exit status 1 if the RTL
mismatched the golden model or a run failed, 2 for bad flags.
"""

import tools.cpu_bench as golden_bench  # first: it pins BLAS to one thread before NumPy loads

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from unittest import mock  # noqa: E402

from golden.config import PRESETS, preset  # noqa: E402
from rtl.build import DEVICES  # noqa: E402

from .bench_fmax import fmax_for, lane_summaries  # noqa: E402
from .bench_report import markdown, plot  # noqa: E402
from .bench_resident import resident_stage, resident_store  # noqa: E402
from .bench_rtl import measure_cycles, rtl_build_base  # noqa: E402
from .link_cost import BITS_PER_BYTE, link_bytes  # noqa: E402

__all__ = ["rtl_build_base", "link_bytes", "measure_cycles", "cpu_rate", "run", "main"]

DEFAULT_BUILD = Path("build") / "bench"


def _progress(msg):
    print(msg, file=sys.stderr, flush=True)


def _int_list(text, name):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = None
    if not values or min(values) < 1:
        raise ValueError(f"{name} must be a comma-separated list of positive integers, got {text!r}")
    return values


def cpu_rate(cfg, samples=300, repeats=3):
    """Training samples/s of the golden fixed-point model on one CPU core.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Run as given (overrides included) by :func:`tools.cpu_bench.bench`.
    samples, repeats : int
        Encoded training samples per timing, and timings (the best one counts).

    Returns
    -------
    float
    """
    # tools.cpu_bench.bench builds its configuration from a preset name; hand it the overridden
    # configuration so the CPU runs exactly the network the RTL ran.
    with mock.patch.object(golden_bench, "preset", lambda name: cfg):
        r = golden_bench.bench(cfg.name, samples=samples, repeats=repeats)
    return r["train_samples_per_second"]


def _sweep_configs(cfg, lanes, hidden):
    """``[(axis, config)]``: P varied at the configuration's hidden sizes, then hidden sizes
    (all layers) varied at its P."""
    from rtl.core import check_rtl_config
    points = [("lanes", cfg.with_(lanes=p)) for p in lanes]
    points += [("hidden", cfg.with_(hidden=(h,) * cfg.n_hidden_layers)) for h in hidden]
    for _, c in points:
        check_rtl_config(c)
    return points


def run(cfg, args):
    """All five stages for ``cfg``.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    args : argparse.Namespace
        The parsed flags of :func:`main` (sweep lists already parsed).

    Returns
    -------
    dict
        The JSON written by ``--json`` (keys listed in the README section of the command).
    """
    from boards.ulx3s.top import DEFAULT_BAUD
    from golden.data import load_dataset
    from sim.report import git_revision
    from sim.scenario import data_samples

    baud = args.baud or DEFAULT_BAUD
    # One digest for the whole run: every point is simulated from the same rtl/ sources.
    base = rtl_build_base(args.build_dir)
    desc = f"{cfg.name} (hidden {list(cfg.hidden)}, P = {cfg.lanes})"
    _progress(f"[1/5] RTL cycles: {desc}, {args.samples} samples, no stalls ...")
    main_run = measure_cycles(cfg, samples=args.samples, seed=args.seed, simulator=args.simulator,
                              build_base=base, verbose=args.verbose)
    _progress("[2/5] Fmax ...")
    fmax, fmax_source, fmax_note = fmax_for(cfg, args)
    _progress(f"[3/5] UART link at {baud} baud ...")
    spikes, label, _ = data_samples(cfg, load_dataset(cfg.name), 1, seed=cfg.seed)[0]
    link = link_bytes(cfg, spikes, label)
    link_sps = baud / BITS_PER_BYTE / max(link.values())
    _progress(f"[4/5] CPU: golden fixed-point model, {args.cpu_samples} samples ...")
    cpu_sps = cpu_rate(cfg, args.cpu_samples)
    load = os.getloadavg()[0]       # other work on the machine slows the CPU number down
    chip_sps = fmax * 1e6 / main_run["cycles_per_sample"] if fmax else None
    sweep = []
    points = _sweep_configs(cfg, args.sweep_lanes, args.sweep_hidden) if args.sweep else []
    for k, (axis, point) in enumerate(points, start=1):
        same = point.lanes == cfg.lanes and point.hidden == cfg.hidden
        _progress(f"[5/5] sweep {k}/{len(points)}: hidden {list(point.hidden)}, P = {point.lanes}"
                  + (" (the main run)" if same else " ..."))
        row = main_run if same else measure_cycles(point, samples=args.samples, seed=args.seed,
                                                   simulator=args.simulator,
                                                   build_base=base, verbose=args.verbose)
        sweep.append({"axis": axis, **{key: row[key] for key in (
            "lanes", "hidden", "cycles_per_timestep", "bound_cycles_per_timestep",
            "cycles_ratio_to_bound", "cycles_per_sample")}})
        built = args.sweep_summaries.get(point.lanes) if axis == "lanes" else None
        if built:
            path, summary = built
            fmax_p = summary.get("fmax_mhz")
            sweep[-1]["build"] = {
                "summary": path, "fmax_mhz": fmax_p, "timing_met": summary.get("timing_met"),
                "target_mhz": summary.get("target_mhz"),
                "utilization": {k: u["used"] for k, u in summary.get("utilization", {}).items()},
                "chip_samples_per_second": fmax_p * 1e6 / row["cycles_per_sample"] if fmax_p else None}
    resident = {}
    if args.resident:
        store = resident_store(cfg, args)
        _progress(f"[6/6] resident system ({store} store): {args.samples} training rows ...")
        resident = resident_stage(cfg, args, store, build_base=base, baud=baud, fmax=fmax,
                                  cycles_per_sample=main_run["cycles_per_sample"])
    return {
        **resident,
        "config": cfg.name, "lanes": cfg.lanes, "hidden": list(cfg.hidden),
        "timesteps": cfg.timesteps, "samples": main_run["samples"], "seed": args.seed,
        "simulator": main_run["simulator"],
        "cycles_per_timestep": main_run["cycles_per_timestep"],
        "bound_cycles_per_timestep": main_run["bound_cycles_per_timestep"],
        "cycles_ratio_to_bound": main_run["cycles_ratio_to_bound"],
        "cycles_per_sample": main_run["cycles_per_sample"],
        "fmax_mhz": fmax, "fmax_source": fmax_source, "fmax_note": fmax_note,
        "chip_samples_per_second": chip_sps,
        "cpu_samples_per_second": cpu_sps, "cpu_load_average": load, "cpu_count": os.cpu_count(),
        "speedup_vs_cpu": chip_sps / cpu_sps if chip_sps else None,
        "baud": baud, "link_bytes_per_sample": max(link.values()),
        "link_bytes_host_to_device": link["host_to_device"],
        "link_bytes_device_to_host": link["device_to_host"],
        "link_samples_per_second": link_sps,
        "end_to_end_samples_per_second": min(chip_sps, link_sps) if chip_sps else None,
        "sweep": sweep, "config_fields": cfg.to_dict(),
        "command": "python -m sim.bench " + shlex.join(args.argv),
        "git_revision": git_revision(), "rtl_build": str(base),
    }


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m sim.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add = p.add_argument
    add("--config", choices=sorted(PRESETS), default="digits",
        help="configuration preset; its data set is the benchmark's input (default digits)")
    add("--set", action="append", metavar="FIELD=VALUE",
        help="override a configuration field (repeatable), e.g. --set timesteps=4")
    add("--hidden", help="override the hidden sizes, e.g. 64,64")
    add("--lanes", type=int, help="override the lane count P")
    add("--samples", type=int, default=8,
        help="training samples per RTL run, main and sweep (default 8)")
    add("--seed", type=int, default=0, help="configuration (initial weights) and encoding seed")
    add("--cpu-samples", type=int, default=300,
        help="samples per timing of the golden model's CPU benchmark (default 300)")
    add("--summary", metavar="PATH", help="rtl.build summary.json to take Fmax from "
        "(default build/ulx3s-<device>-<config>/summary.json for an unmodified preset)")
    add("--build", action="store_true",
        help="run rtl.build for this configuration first and take its Fmax (5 to 10 minutes)")
    add("--device", choices=DEVICES, default="85F",
        help="ECP5 size of the default summary and of --build (default 85F)")
    add("--freq", type=float, default=None, metavar="MHZ",
        help="clock target of --build in MHz (default: rtl.build's for the device)")
    add("--baud", type=int, default=None,
        help="UART baud rate of the link bound (default the bitstream's, 1000000)")
    add("--sweep-lanes", default="4,8,16", metavar="P,P,...",
        help="lane counts of the sweep, at the configuration's hidden sizes (default 4,8,16)")
    add("--sweep-hidden", default="32,64,128", metavar="N,N,...",
        help="hidden sizes of the sweep (every layer), at the configuration's P (default 32,64,128)")
    add("--sweep-summaries", default="", metavar="PATH,PATH,...",
        help="rtl.build summary.json files of builds at the swept lane counts (matched by "
             "their lanes): Fmax and resources beside the lane sweep")
    add("--no-sweep", dest="sweep", action="store_false",
        help="skip the sweep (each sweep point is one more Verilator build)")
    add("--simulator", choices=("verilator", "icarus"),
        help="cocotb simulator (default verilator when installed)")
    add("--build-dir", default=str(DEFAULT_BUILD), metavar="DIR",
        help="simulation builds, one folder per source digest (default build/bench)")
    add("--verbose", action="store_true", help="show the simulator's output instead of logging it")
    add("--resident", action="store_true",
        help="also measure the resident system (store, feeder, core, counter) on --samples rows")
    add("--resident-store", choices=("auto", "bram", "sdram"), default="auto",
        help="the resident data set in block RAM or SDRAM (default auto: where rtl.build "
             "--resident puts it on --device)")
    add("--json", metavar="PATH", help="write the results as JSON")
    add("--out", metavar="DIR", help="write bench.md (the tables) and bench.png (the sweep) there")
    args = p.parse_args(argv)
    args.argv = argv
    try:
        from golden.config import parse_overrides
        from rtl.core import check_rtl_config
        for name in ("samples", "cpu_samples"):
            if getattr(args, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(args, name)}")
        if args.baud is not None and args.baud < 1:
            raise ValueError(f"baud must be >= 1, got {args.baud}")
        args.sweep_lanes = _int_list(args.sweep_lanes, "sweep-lanes")
        args.sweep_hidden = _int_list(args.sweep_hidden, "sweep-hidden")
        args.sweep_summaries = lane_summaries(args.sweep_summaries, PRESETS[args.config].lanes)
        overrides = parse_overrides(args.set)
        if args.hidden:
            overrides["hidden"] = tuple(_int_list(args.hidden, "hidden"))
        if args.lanes is not None:
            overrides["lanes"] = args.lanes
        cfg = preset(args.config, seed=args.seed, **overrides)
        check_rtl_config(cfg)
        if cfg.n_inputs != PRESETS[cfg.name].n_inputs:
            raise ValueError(f"n_inputs must stay {PRESETS[cfg.name].n_inputs}: the benchmark "
                             f"runs the {cfg.name} data set, got {cfg.n_inputs}")
        if args.sweep:
            _sweep_configs(cfg, args.sweep_lanes, args.sweep_hidden)
    except ValueError as exc:
        p.error(str(exc))
    try:
        r = run(cfg, args)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = markdown(r)
    print(text, end="")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(r, indent=1))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench.md").write_text(text)
        if r["sweep"]:
            plot(r, out / "bench.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
