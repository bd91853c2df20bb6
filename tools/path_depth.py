"""Rank register-to-register paths of a synthesized ECP5 netlist by an estimated delay.

nextpnr reports one critical path per clock; fixing it only shows the next one ten minutes
later.  This reads yosys' netlist (``top.json`` in a build folder, written before place and
route) and estimates every path at once, so that a round of timing work can go after the
whole top of the list::

    python -m tools.path_depth build/ulx3s-85F-digits/top.json --top 30

The model is rough on purpose: a LUT or mux costs its logic delay plus a routing delay that
grows with the driving net's fan-out (``0.5 + 0.4 * log2(1 + fanout)`` ns, calibrated by
eye on this design's nextpnr reports); a carry step costs 0.06 ns; a flip-flop's output
0.52 ns, a block RAM's 5.8 ns (nextpnr's ECP5 numbers).  A MULT18X18D is logic (4.0 ns)
unless its output register is on (``REG_OUTPUT_CLK``, :mod:`rtl.multiplier`): then it is a
register whose inputs end paths after the multiplier array and whose outputs start them.
It ranks paths; nextpnr's report is the measurement.  Paths are listed once per (start
register, end register) pair.
"""

import argparse
import json
import math
import re
import sys
from collections import defaultdict

__all__ = ["estimate", "main"]

LOGIC = {"LUT4": 0.24, "PFUMX": 0.25, "L6MUX21": 0.25, "CCU2C": 0.45, "MULT18X18D": 4.0,
         "ALU54B": 3.0}
CLK_TO_OUT = {"TRELLIS_FF": 0.52, "DP16KD": 5.8, "TRELLIS_DPR16X4": 1.0}
DSP_CLK_TO_OUT = 0.6                  # a MULT18X18D's output register (no nextpnr figure used)
CARRY_STEP = 0.06
CLOCK_PINS = {"CLK", "CLKA", "CLKB", "WCK"}


def _route(fanout):
    return 0.5 + 0.4 * math.log2(1 + fanout)


def _short(name):
    return re.sub(r"_TRELLIS_FF_Q(_\d+)?$", "", name)


def _registered_dsp(cell):
    """A MULT18X18D whose product passes its own output register."""
    return (cell["type"] == "MULT18X18D"
            and str(cell.get("parameters", {}).get("REG_OUTPUT_CLK", "NONE")).strip() != "NONE")


def estimate(netlist, module="top"):
    """``[(delay_ns, start, end, end_pin, levels)]`` for every register input of ``module``
    in a yosys JSON ``netlist`` (a dict), worst first, one entry per (start, end) pair."""
    mod = netlist["modules"][module]
    cells = mod["cells"]
    driver, start, sinks = {}, {}, defaultdict(int)
    for name, cell in cells.items():
        dirs = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            for b in bits:
                if not isinstance(b, int):
                    continue
                if dirs.get(port) == "output":
                    if _registered_dsp(cell):
                        start[b] = (DSP_CLK_TO_OUT, name)
                    elif cell["type"] in LOGIC:
                        driver[b] = name
                    elif cell["type"] in CLK_TO_OUT:
                        start[b] = (CLK_TO_OUT[cell["type"]], name)
                elif dirs.get(port) == "input":
                    sinks[b] += 1
    arrival, via = {}, {}

    def arrive(bit):                  # iterative depth-first: deep carry chains
        stack = [bit]
        while stack:
            b = stack[-1]
            if b in arrival:
                stack.pop()
                continue
            if b in start or b not in driver:
                arrival[b], via[b] = (start[b][0] if b in start else 0.0), None
                stack.pop()
                continue
            cell = cells[driver[b]]
            dirs = cell.get("port_directions", {})
            ins = [(p, i) for p, bits in cell["connections"].items() if dirs.get(p) == "input"
                   for i in bits if isinstance(i, int)]
            todo = [i for _, i in ins if i not in arrival]
            if todo:
                stack.extend(todo)
                continue
            best, best_in = 0.0, None
            for port, i in ins:
                if cell["type"] == "CCU2C" and port == "CIN":
                    t = arrival[i] + CARRY_STEP
                else:
                    t = arrival[i] + _route(sinks[i]) + LOGIC[cell["type"]]
                if t > best:
                    best, best_in = t, i
            arrival[b], via[b] = best, best_in
            stack.pop()
        return arrival[bit]

    found = {}
    for name, cell in cells.items():
        dsp = _registered_dsp(cell)
        if cell["type"] not in CLK_TO_OUT and not dsp:
            continue
        # a registered DSP's inputs pass the multiplier array before its register
        setup = LOGIC["MULT18X18D"] if dsp else 0.0
        dirs = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            if dirs.get(port) != "input" or port in CLOCK_PINS:
                continue
            for b in bits:
                if not isinstance(b, int):
                    continue
                t = arrive(b) + _route(sinks[b]) + setup
                levels, src = 0, b
                while via.get(src) is not None:
                    src, levels = via[src], levels + 1
                first = _short(start[src][1]) if src in start else f"net {src}"
                key = (first, _short(name))
                if key not in found or found[key][0] < t:
                    found[key] = (t, first, name, port, levels)
    return sorted(found.values(), reverse=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.path_depth", description=__doc__.split("\n\n")[0])
    p.add_argument("netlist", help="yosys JSON netlist (top.json of a build folder)")
    p.add_argument("--top", type=int, default=25, help="paths to list (default 25)")
    p.add_argument("--module", default="top")
    args = p.parse_args(argv)
    try:
        with open(args.netlist) as f:
            netlist = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"cannot read netlist {args.netlist!r}: {exc}", file=sys.stderr)
        return 2
    if args.module not in netlist.get("modules", {}):
        print(f"module {args.module!r} is not in {args.netlist!r}", file=sys.stderr)
        return 2
    for t, first, end, port, levels in estimate(netlist, args.module)[:args.top]:
        print(f"{t:6.2f} ns  {levels:3d} cells  {first} -> {end}.{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
