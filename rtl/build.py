"""Build the OPZO core's bitstream for a board, offline, with the YoWASP tools.

Example::

    python -m rtl.build --board ulx3s                      # 85F, config digits, 100 MHz
    python -m rtl.build --board ulx3s --config mnist       # 85F, 40 MHz, router2
    python -m rtl.build --board ulx3s --device 25F --freq 40 --out build/small
    python -m rtl.build --board ulx3s --freq 100 --seeds 0-3   # four placements, keep the best
    python -m rtl.build --board ulx3s --lanes max               # the most lanes that route (16 on the 85F, at 65 MHz)
    python -m rtl.build --board ulx3s --resident digits       # with the data set store on board

Stages (one progress line each): elaborate (Amaranth -> RTLIL, LPF and scripts), yosys
(synth_ecp5), nextpnr (place and route, ``--timing-allow-fail`` so that the report is
always written), ecppack (bitstream).  The core clock comes from the ECP5 PLL (EHXPLLL) fed
by the 25 MHz board oscillator; the LPF constrains the PLL output net to the frequency the
PLL actually makes (the closest reachable to ``--freq``).  With ``--seeds``, yosys runs once
and nextpnr once per seed (``--jobs`` at a time, each in ``seed-<n>/``); the best placement
(timing met first, then the highest Fmax) is packed, and every seed's result is in the
summary.

Boards are found through the ``opzo_core.boards`` entry points (pyproject.toml), so this
command imports no board by name.

Outputs in the build folder (default ``build/ulx3s-<device>-<config>``): ``top.bit``
(the bitstream, SRAM-loadable: ``openFPGALoader -b ulx3s top.bit``), ``report.json``
(nextpnr's timing and utilisation report), ``top.rpt`` (yosys log), ``top.tim`` (nextpnr
log) and ``summary.json``::

    {"board", "device", "config", "target_mhz", "pll_mhz", "fmax_mhz", "timing_met",
     "placed", "utilization": {"LUT4": {"used", "available"}, "FF": ..., "EBR": ...,
     "MULT18": ...}, "nextpnr": {"router", "seed"}, "lanes", "seeds": [{"seed", "fmax_mhz",
     "timing_met", "placed"}, ...] (with --seeds), "seconds": {"elaborate", "yosys",
     "nextpnr", "ecppack", "total"}, "bitstream" (relative to the folder), "pass"}

Exit status: 0 when the design placed, routed and met timing; 1 when timing failed or
placement/routing failed (the summary is still printed and written when a report exists);
2 for usage errors or a missing tool (the message says which and how to install it).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from golden.config import PRESETS, preset

from .board_registry import BOARD_ENTRY_POINTS, board_names, find_board, parse_seeds
from .build_defaults import ROUTERS, default_target
from .build_summary import RESOURCES, best_seed, format_summary, lanes_suffix, summarize
from .device_fit import check_fit, choose_store, max_lanes, resident_rows
from .toolchain import (TOOLS, ToolMissing, find_tools, keep_per_lane_script, mark_no_rw_check,
                        stage_commands, tail)

__all__ = ["DEVICES", "board_names", "find_board", "build", "summarize", "format_summary",
           "find_tools", "main", "ToolMissing", "mark_no_rw_check", "parse_seeds", "default_target",
           "RESOURCES", "TOOLS"]

DEVICES = ("12F", "25F", "45F", "85F")     # the ECP5 sizes this flow knows (yosys synth_ecp5, nextpnr-ecp5)
def _progress(msg, quiet):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _run_stage(stage, argv, cwd, env):
    """Run one tool; its output goes to ``<stage>.out`` in ``cwd``.  Returns (ok, seconds)."""
    t = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    (Path(cwd) / f"{stage}.out").write_text(proc.stdout)
    return proc.returncode == 0, time.perf_counter() - t, proc


def _nextpnr_for_seed(argv, out, seed, env):
    """nextpnr of the synthesized netlist in ``out/seed-<seed>`` with ``--seed``."""
    folder = out / f"seed-{seed}"
    folder.mkdir(exist_ok=True)
    for stale in ("report.json", "top.config"):
        (folder / stale).unlink(missing_ok=True)
    argv = [a if a not in ("top.json", "top.lpf") else str(out / a) for a in argv] + ["--seed", str(seed)]
    ok, seconds, _ = _run_stage("nextpnr", argv, folder, env)
    report_path = folder / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    return ok and report_path.is_file(), seconds, report


def build(board="ulx3s", device="85F", config="digits", freq_mhz=None, out=None, *,
          quiet=False, cfg=None, baud=None, seed=None, seeds=None, jobs=None, abc9=True,
          router=None, resident=None, lanes=None):
    """Run the whole flow; returns the summary dictionary (also written to summary.json).

    ``lanes`` overrides the preset's lane count P (neurons per memory word, one arithmetic
    lane each: cycles per time step fall about as 1/P, lanes cost LUTs and multipliers);
    ``"max"`` takes the largest P the device's multipliers and block RAMs allow and that is
    measured to route there (:func:`rtl.device_fit.max_lanes`); without ``freq_mhz`` and
    ``router`` the target is the one measured for that P (:func:`default_target`).
    ``seeds`` (a list) places and routes once per nextpnr seed, ``jobs`` at a time (default:
    the machine's cores, at most 2), and keeps the best placement; ``seed`` is one seed.
    Raises :class:`ToolMissing` when a YoWASP tool is not installed.
    """
    board_obj = find_board(board)
    if router is not None and router not in ROUTERS:
        raise ValueError(f"router must be one of {ROUTERS}, got {router!r}")
    if seed is not None and seeds is not None:
        raise ValueError("give seed or seeds, not both")
    if device not in board_obj.devices:
        raise ValueError(f"device must be one of {board_obj.devices} for board {board}, got {device!r}")
    rows = resident_rows(resident, (cfg or preset(config)).n_inputs) if resident else None
    # the data set in block RAM when it fits, else in the board's SDRAM (refused, naming the
    # sizes, when larger than that)
    where = (lambda c: choose_store(board_obj, device, c, rows) if rows else None)  # noqa: E731
    if lanes == "max":
        lanes = max_lanes(board_obj, device, cfg or preset(config), rows,
                          where(cfg or preset(config)) or "bram")
    cfg = cfg or preset(config, **({"lanes": lanes} if lanes is not None else {}))
    default_mhz, default_router = default_target(device, config, resident, cfg.lanes)
    freq_mhz, router = freq_mhz or default_mhz, router or default_router
    tools = find_tools()
    store = where(cfg)
    check_fit(board_obj, device, cfg, rows, store or "bram")
    suffix = lanes_suffix(cfg, PRESETS[config].lanes) + (f"-resident-{resident}" if resident else "")
    out = Path(out or f"build/{board}-{device}-{config}{suffix}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("report.json", "top.bit", "summary.json", "top.json", "top.config", "top.tim"):
        (out / stale).unlink(missing_ok=True)
    seconds = {}

    t0 = time.perf_counter()
    _progress(f"[1/4] elaborate: {board} {device}, config {config}, P = {cfg.lanes}, {freq_mhz:g} MHz -> {out}", quiet)
    platform = board_obj.platform(device)
    top = board_obj.top(cfg, freq_hz=freq_mhz * 1e6, baud=baud,
                        **({"resident": rows, "store": store} if rows else {}))
    nextpnr_opts = ["--report", "report.json", "--timing-allow-fail", "--router", router]
    if seed is not None:
        nextpnr_opts += ["--seed", str(seed)]
    # abc9: yosys maps the logic with the cells' real delays (timing-driven LUT mapping)
    plan = platform.build(top, name="top", do_build=False, nextpnr_opts=nextpnr_opts,
                          synth_opts=["-abc9"] if abc9 else [],
                          script_after_read=keep_per_lane_script(),
                          add_preferences=top.lpf_preferences)
    plan.extract(str(out))
    rtlil_path = out / "top.il"
    text, _ = mark_no_rw_check(rtlil_path.read_text())
    rtlil_path.write_text(text)
    seconds["elaborate"] = time.perf_counter() - t0

    env = {**os.environ, **tools}
    # The build plan's script runs the three tools in a row; run them one by one for
    # per-stage progress and timing, with the same command lines.
    stages = dict(stage_commands(out, tools))
    _progress("[2/4] yosys ...", quiet)
    ok, seconds["yosys"], proc = _run_stage("yosys", stages["yosys"], out, env)
    if not ok:
        _progress(f"      yosys failed (exit {proc.returncode}); end of top.rpt:\n"
                  f"{tail(out / 'top.rpt') or proc.stdout[-2000:]}", quiet)
        raise RuntimeError(f"yosys failed, see {out / 'top.rpt'}")
    _progress(f"      yosys done in {seconds['yosys']:.1f} s", quiet)

    per_seed = []
    if seeds is None:
        _progress("[3/4] nextpnr ...", quiet)
        placed, seconds["nextpnr"], proc = _run_stage("nextpnr", stages["nextpnr"], out, env)
        if not placed:
            _progress(f"      nextpnr failed (exit {proc.returncode}); end of top.tim:\n"
                      f"{tail(out / 'top.tim') or proc.stdout[-2000:]}", quiet)
    else:
        jobs = jobs or max(1, min(2, os.cpu_count() or 1))
        _progress(f"[3/4] nextpnr, seeds {seeds}, {jobs} at a time ...", quiet)
        t = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            runs = list(pool.map(lambda s: _nextpnr_for_seed(stages["nextpnr"], out, s, env), seeds))
        seconds["nextpnr"] = time.perf_counter() - t
        for s, (ok, _, report) in zip(seeds, runs):
            r = summarize(report, board=board, device=device, config=config, target_mhz=freq_mhz,
                          pll_mhz=top.freq_hz / 1e6)
            r["placed"] = ok
            per_seed.append((s, r))
            fmax = "n/a" if r["fmax_mhz"] is None else f"{r['fmax_mhz']:.2f} MHz"
            _progress(f"      seed {s}: {fmax}{'' if r['timing_met'] else ' (not met)'}", quiet)
        seed = best_seed(per_seed)
        placed = seed is not None
        if placed:           # the kept placement's files where a single build puts them
            for name in ("report.json", "top.config", "top.tim"):
                shutil.copy2(out / f"seed-{seed}" / name, out / name)
    if placed:
        _progress(f"      nextpnr done in {seconds['nextpnr']:.1f} s", quiet)
        _progress("[4/4] ecppack ...", quiet)
        placed, seconds["ecppack"], proc = _run_stage("ecppack", stages["ecppack"], out, env)
        if not placed:
            _progress(f"      ecppack failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}", quiet)
        else:
            _progress(f"      ecppack done in {seconds['ecppack']:.1f} s", quiet)
    seconds["total"] = time.perf_counter() - t0

    report_path = out / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    s = summarize(report, board=board, device=device, config=config, target_mhz=freq_mhz,
                  pll_mhz=top.freq_hz / 1e6)
    s["placed"] = placed and report_path.is_file()
    # relative to the build folder (summary.json sits beside it): no machine path in a summary
    s["bitstream"] = "top.bit" if (out / "top.bit").is_file() else None
    s["nextpnr"] = {"router": router, "seed": seed}
    s["lanes"] = cfg.lanes
    if rows:
        s["resident"] = {"data": resident, "n_train": rows[0], "n_test": rows[1], "store": store}
    if per_seed:
        s["seeds"] = [{"seed": k, "fmax_mhz": r["fmax_mhz"], "timing_met": r["timing_met"],
                       "placed": r["placed"]} for k, r in per_seed]
    s["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
    s["pass"] = bool(s["placed"] and s["timing_met"] and s["bitstream"])
    (out / "summary.json").write_text(json.dumps(s, indent=1))
    return s


def _lanes_arg(text):
    if text == "max":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"lanes must be an integer or 'max', got {text!r}") from None


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rtl.build", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--board", default="ulx3s",
                   help=f"target board, one of those registered under the {BOARD_ENTRY_POINTS} "
                        f"entry points (default ulx3s)")
    p.add_argument("--device", choices=DEVICES, default="85F",
                   help="ECP5 size on the board: 12F (= 25F die), 25F, 45F, 85F (default 85F)")
    p.add_argument("--config", choices=sorted(PRESETS), default="digits",
                   help="core configuration preset from golden.config (default digits)")
    p.add_argument("--freq", type=float, default=None, metavar="MHZ",
                   help="core clock target in MHz; the PLL makes the closest reachable "
                        "frequency and timing is checked against it (default 100 on the 85F, "
                        "65 there at 16 lanes, 50 on the others and with --resident, 40 for "
                        "config mnist)")
    p.add_argument("--lanes", type=_lanes_arg, default=None, metavar="P",
                   help="lane count P, a power of two up to 32, or 'max': the largest the "
                        "device's multipliers and block RAMs allow and that is measured to "
                        "route there (16 on the 85F, 8 on the 25F); default the preset's, 8; "
                        "the build folder gets a -p<P> suffix")
    p.add_argument("--baud", type=int, default=None,
                   help="UART baud rate of the host link (default 1000000)")
    p.add_argument("--seed", type=int, default=None, help="nextpnr placement seed")
    p.add_argument("--seeds", default=None, metavar="LIST",
                   help="place and route once per nextpnr seed (e.g. 0-3 or 0,2,5), keep the "
                        "best placement, and list every seed's Fmax in the summary")
    p.add_argument("--jobs", type=int, default=None,
                   help="with --seeds: nextpnr runs at a time (default: cores, at most 2)")
    p.add_argument("--router", choices=ROUTERS, default=None,
                   help="nextpnr router (default: router1 on the 12F, 25F and 85F, router2 on "
                        "the 45F and for config mnist)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="build folder (default build/<board>-<device>-<config>)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--resident", default=None, metavar="DATA",
                   help="add the data set store, sample order, feeder and result counter sized "
                        "for data set DATA (e.g. digits), for training on the board; in block "
                        "RAM when it fits, else in the SDRAM (docs/resident.md)")
    args = p.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds) if args.seeds is not None else None
        s = build(args.board, args.device, args.config, args.freq, args.out, quiet=args.quiet,
                  baud=args.baud, seed=args.seed, seeds=seeds, jobs=args.jobs, router=args.router,
                  resident=args.resident, lanes=args.lanes)
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_summary(s))
    return 0 if s["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
