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
   configuration is an unmodified preset.  Without one, Fmax and every chip rate are null.
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
6. **Resident** (``--resident``).  The resident system (:mod:`rtl.resident_core`: store,
   order, feeder, core, counter) under cocotb/Verilator (:mod:`sim.cocotb_resident`, every
   answer and the core state checked against golden/resident_model.py): the data set's
   first ``--samples`` training rows uploaded, one shuffled training RUN; *resident cycles
   per training sample* is that RUN's cycles over its samples, and the resident rate
   ``fmax_hz / resident cycles per sample``, compared with the chip rate of stage 1 (the
   core fed by a testbench that never makes it wait).  Link bytes per training sample in
   resident mode: the bytes of one epoch's commands (learning-rate writes, CLEAR, SHUFFLE,
   two RUNs, COUNTERS) both ways over the training split's size (the upload, once, is
   reported separately).

Verilog is generated from the current sources into ``<build-dir>/<digest of rtl/ and golden/>``
(the golden model gives the memories' initial contents), so that a changed core is never
benchmarked from a stale build and an unchanged one is not compiled again; the simulator's
output goes to ``<that folder>/logs/`` (``--verbose`` shows it).  Each configuration costs one
Verilator build, 1.5 to 2 minutes on two cores for digits-sized ones.  Exit status 1 if the RTL
mismatched the golden model or a run failed, 2 for bad flags.
"""

import tools.cpu_bench as golden_bench  # first: it pins BLAS to one thread before NumPy loads

import argparse  # noqa: E402
import contextlib  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from unittest import mock  # noqa: E402

from golden.config import PRESETS, preset  # noqa: E402
from rtl.build import DEVICES  # noqa: E402

__all__ = ["rtl_build_base", "link_bytes", "measure_cycles", "cpu_rate", "read_fmax", "run", "main"]

DEFAULT_BUILD = Path("build") / "bench"
BITS_PER_BYTE = 10          # UART 8N1: start bit, 8 data bits, stop bit


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


def rtl_build_base(base):
    """``base / <digest of rtl/*.py and golden/*.py>``.

    sim.compare reuses the Verilog it finds in a configuration's folder, so the folder is tied
    to the sources the Verilog is generated from (golden/ gives the initial weights).
    """
    digest = hashlib.sha1()
    root = Path(__file__).resolve().parent.parent
    for package in ("rtl", "golden"):
        for path in sorted((root / package).glob("*.py")):
            digest.update(f"{package}/{path.name}".encode() + path.read_bytes())
    return Path(base) / digest.hexdigest()[:10]


@contextlib.contextmanager
def _output_to(log_path):
    """Send file descriptors 1 and 2 to ``log_path`` (the simulator runs as child processes)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush(), sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1), os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])


def measure_cycles(cfg, *, samples, build_base, seed=0, simulator=None, verbose=False):
    """Cycles per training time step and per sample of ``cfg`` on real data, no stalls.

    ``build_base`` should come from :func:`rtl_build_base`: sim.compare reuses the Verilog it
    finds in a configuration's folder.

    Returns
    -------
    dict
        ``cycles_per_timestep``, ``bound_cycles_per_timestep``, ``cycles_ratio_to_bound``,
        ``cycles_per_sample``, ``cycles``, ``samples``, ``simulator``, ``sim_cycles_per_second``.

    Raises
    ------
    RuntimeError
        If the core's answers or state differ from the golden model, or the run failed.
    """
    from sim.compare import compare

    base = Path(build_base)
    log = base / "logs" / f"{cfg.name}-h{'x'.join(map(str, cfg.hidden))}-p{cfg.lanes}.log"
    try:
        with contextlib.nullcontext() if verbose else _output_to(log):
            r = compare(cfg, samples=samples, source=cfg.name, seed=seed, idle=0.0, stall=0.0,
                        check="end", simulator=simulator, build_base=base)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc} (log: {log})") from exc
    if r["mismatches"] or r.get("error") or not r["cycles_per_timestep"]:
        raise RuntimeError(f"RTL run of {cfg.name} hidden {list(cfg.hidden)} P = {cfg.lanes} is not "
                           f"a valid measurement: {r.get('error') or r['report']} (log: {log})")
    keys = ("cycles_per_timestep", "bound_cycles_per_timestep", "cycles_ratio_to_bound", "cycles",
            "samples", "simulator", "sim_cycles_per_second")
    return {"lanes": cfg.lanes, "hidden": list(cfg.hidden), **{k: r[k] for k in keys},
            "cycles_per_sample": r["cycles"] / r["samples"]}


def measure_resident(cfg, *, samples, build_base, seed=0, simulator=None, verbose=False):
    """Cycles per training sample of the resident system on ``samples`` rows of the
    configuration's data set (no stalls); raises RuntimeError on any mismatch."""
    import tempfile

    from rtl.resident_core import ResidentCore
    from sim.runner import run_cocotb

    base = Path(build_base)
    folder = base / f"resident-{cfg.name}-h{'x'.join(map(str, cfg.hidden))}-p{cfg.lanes}"
    log = base / "logs" / f"{folder.name}.log"
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        env = {"OPZO_CONFIG": json.dumps(cfg.to_dict()), "OPZO_RESULT": result,
               "RESIDENT": json.dumps({"n_train": samples, "n_test": 2, "epochs": 1,
                                       "stall": 0.0, "seed": seed, "data": cfg.name})}
        try:
            with contextlib.nullcontext() if verbose else _output_to(log):
                run_cocotb(ResidentCore(cfg, samples, 2), Path(__file__).parent / "cocotb_resident.py",
                           build_dir=folder, simulator=simulator, extra_env=env)
        except (RuntimeError, AssertionError) as exc:
            raise RuntimeError(f"resident RTL run failed: {exc} (log: {log})") from exc
        r = json.loads(result.read_text())
    if r["mismatches"]:
        raise RuntimeError(f"resident RTL run mismatched the golden model: {r['examples'][:3]}")
    e = r["epochs"][0]
    return {"resident_cycles_per_sample": e["train_cycles_per_sample"],
            "resident_test_cycles_per_sample": e["test_cycles_per_sample"],
            "resident_core_wait_cycles": r["core_wait_cycles"], "resident_run_cycles": r["run_cycles"],
            "resident_samples": samples}


def resident_link_bytes(cfg, n_train, n_eval):
    """UART bytes (both directions) of one resident epoch's commands, and of the upload of
    ``n_train + n_eval`` rows (checksum commands included)."""
    import numpy as np

    from boards.ulx3s.protocol import LinkModel, encode_packet, pack_commands, PacketType
    from golden.protocol import Mem, Op, command_words
    from golden.resident_model import ResidentModel
    from golden.resident_protocol import ResOp, header, store_commands

    def cost(cmds):
        link = LinkModel(cfg, ResidentModel(cfg, n_train, max(n_eval, 1)))
        sent = answered = 0
        for pkt, _ in pack_commands(cmds):
            sent += len(pkt)
            answered += len(link.feed(pkt))
        return sent, answered

    epoch = [command_words(Op.WRITE, mem=Mem.PARAM, row=r, col=0, value=v)
             for r, v in ((0, cfg.hidden_lr_shift), (1, cfg.readout_lr_shift))]
    epoch += [[header(ResOp.CLEAR)], [header(ResOp.SHUFFLE, n_train)]]
    # RUN answers after the run: count the bytes only (the model would run the epoch)
    run_bytes = 2 * (len(encode_packet(PacketType.CMD, [0])) + len(encode_packet(PacketType.RESP, [0])))
    sent, answered = cost(epoch + [[header(ResOp.COUNTERS)]])
    rows = np.zeros((n_train + n_eval, cfg.n_inputs), dtype=np.uint8)
    up = [[header(ResOp.CHECKSUM, flag=True)], *store_commands(rows, [0] * len(rows)),
          [header(ResOp.CHECKSUM)]]
    up_sent, up_answered = cost(up)
    return {"epoch_bytes": sent + answered + run_bytes, "upload_bytes": up_sent + up_answered}


def link_bytes(cfg, spikes, label):
    """UART bytes of one training sample, each way.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    spikes : array of shape (timesteps, n_inputs)
        The encoded sample (its content does not change the count; STEP words are fixed-size).
    label : int

    Returns
    -------
    dict
        ``{"host_to_device": int, "device_to_host": int}``: the host's CMD packet(s) built by
        :meth:`OpzoHost.sample_commands` and :func:`pack_commands` (as the host driver sends
        them), and the RESP packets :class:`LinkModel` answers them with.
    """
    from boards.ulx3s.driver import OpzoHost
    from boards.ulx3s.protocol import LinkModel, pack_commands

    sent = b"".join(pkt for pkt, _ in pack_commands(OpzoHost.sample_commands(spikes, label, True)))
    return {"host_to_device": len(sent), "device_to_host": len(LinkModel(cfg).feed(sent))}


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


def read_fmax(path):
    """Fmax of a build.

    Parameters
    ----------
    path : path-like
        A ``summary.json`` written by :func:`rtl.build.build`.

    Returns
    -------
    (float or None, dict)
        nextpnr's achieved Fmax of the core clock in MHz (None if the build has none), and
        the whole summary.
    """
    summary = json.loads(Path(path).read_text())
    fmax = summary.get("fmax_mhz")
    return (float(fmax) if fmax else None), summary


def _fmax(cfg, args):
    """Fmax in MHz (or None), where it came from, and a note for the reader."""
    is_preset = cfg.with_(seed=PRESETS[cfg.name].seed) == PRESETS[cfg.name]
    default = Path("build") / f"ulx3s-{args.device}-{cfg.name}" / "summary.json"
    if args.build:
        from rtl.build import build
        digest = hashlib.sha1(json.dumps(cfg.to_dict()).encode()).hexdigest()[:8]
        suffix = "" if is_preset else "-" + digest     # never overwrite the preset's build
        out = default.parent.with_name(default.parent.name + suffix)
        summary = build("ulx3s", args.device, cfg.name, args.freq, out, cfg=cfg, baud=args.baud)
        return summary.get("fmax_mhz"), str(out / "summary.json"), _timing_note(summary)
    path = Path(args.summary) if args.summary else default
    if not args.summary and not is_preset:
        return None, None, f"no Fmax: {default} is for the unmodified preset; give --summary or --build"
    if not path.is_file():
        return None, None, f"no Fmax: {path} does not exist (run with --build, or give --summary)"
    fmax, summary = read_fmax(path)
    note = _timing_note(summary)
    # A summary does not record the sources it was built from; its age is the next best hint.
    root = Path(__file__).resolve().parent.parent
    newest = max(f.stat().st_mtime for d in ("rtl", "boards/ulx3s") for f in (root / d).glob("*.py"))
    if path.stat().st_mtime < newest:
        note += "; WARNING: older than the rtl/ and boards/ulx3s/ sources, may not be this core's"
    return fmax, str(path), note


def _timing_note(summary):
    met = "met" if summary.get("timing_met") else "NOT met"
    return (f"nextpnr Fmax of the core clock, {summary.get('device', '?')} build of config "
            f"{summary.get('config', '?')}; target {summary.get('pll_mhz', '?')} MHz {met}")


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
    fmax, fmax_source, fmax_note = _fmax(cfg, args)
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
    resident = {}
    if args.resident:
        ds = load_dataset(cfg.name)
        if ds.n_features != cfg.n_inputs:
            raise RuntimeError(f"--resident needs a pixel data set (one byte per input); "
                               f"{cfg.name} has {ds.n_features} features for {cfg.n_inputs} inputs")
        _progress(f"[6/6] resident system: {args.samples} training rows ...")
        resident = measure_resident(cfg, samples=args.samples, build_base=base, seed=args.seed,
                                    simulator=args.simulator, verbose=args.verbose)
        n_eval = max(len(ds.x_val), len(ds.x_test))
        lb = resident_link_bytes(cfg, len(ds.x_train), n_eval)
        res_sps = fmax * 1e6 / resident["resident_cycles_per_sample"] if fmax else None
        resident.update({
            "resident_samples_per_second": res_sps,
            # the same clock for both: the ratio of their cycles per training sample
            "resident_ratio_to_chip": main_run["cycles_per_sample"] / resident["resident_cycles_per_sample"],
            "resident_link_bytes_per_training_sample": lb["epoch_bytes"] / len(ds.x_train),
            "resident_upload_bytes": lb["upload_bytes"],
            "resident_upload_seconds_at_baud": lb["upload_bytes"] * BITS_PER_BYTE / baud,
        })
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
    add("--freq", type=float, default=50.0, metavar="MHZ",
        help="clock target of --build in MHz (default 50)")
    add("--baud", type=int, default=None,
        help="UART baud rate of the link bound (default the bitstream's, 1000000)")
    add("--sweep-lanes", default="4,8,16", metavar="P,P,...",
        help="lane counts of the sweep, at the configuration's hidden sizes (default 4,8,16)")
    add("--sweep-hidden", default="32,64,128", metavar="N,N,...",
        help="hidden sizes of the sweep (every layer), at the configuration's P (default 32,64,128)")
    add("--no-sweep", dest="sweep", action="store_false",
        help="skip the sweep (each sweep point is one more Verilator build)")
    add("--simulator", choices=("verilator", "icarus"),
        help="cocotb simulator (default verilator when installed)")
    add("--build-dir", default=str(DEFAULT_BUILD), metavar="DIR",
        help="simulation builds, one folder per source digest (default build/bench)")
    add("--verbose", action="store_true", help="show the simulator's output instead of logging it")
    add("--resident", action="store_true",
        help="also measure the resident system (store, feeder, core, counter) on --samples rows")
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
