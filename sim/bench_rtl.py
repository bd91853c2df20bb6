"""The benchmark's RTL runs under cocotb/Verilator: the bare core on real samples
(:func:`measure_cycles`, through :func:`sim.compare.compare`) and the resident system
(:func:`measure_resident`, :mod:`sim.cocotb_resident`), each checked against the golden
model, in a build folder tied to the sources (:func:`rtl_build_base`)."""

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

__all__ = ["rtl_build_base", "measure_cycles", "measure_resident"]


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


def measure_resident(cfg, *, samples, build_base, seed=0, simulator=None, verbose=False,
                     sdram=None):
    """Cycles per training sample of the resident system on ``samples`` rows of the
    configuration's data set (no stalls); raises RuntimeError on any mismatch.  ``sdram``
    (``SdramConfig`` keyword arguments) keeps the data set in SDRAM: the system is then
    ``boards.ulx3s.resident_sdram.ResidentOnSdram`` with the SDRAM model on its pads (a data
    error or timing violation fails the run too)."""
    import tempfile

    from rtl.resident_core import ResidentCore
    from sim.runner import run_cocotb

    base = Path(build_base)
    folder = base / (f"resident-{cfg.name}-h{'x'.join(map(str, cfg.hidden))}-p{cfg.lanes}"
                     + ("-sdram" if sdram else ""))
    log = base / "logs" / f"{folder.name}.log"
    if sdram:
        from boards.ulx3s.resident_sdram import ResidentOnSdram
        from boards.ulx3s.sdram import SdramConfig
        dut = ResidentOnSdram(cfg, samples, 2, sdram=SdramConfig(**sdram))
    else:
        dut = ResidentCore(cfg, samples, 2)
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        env = {"OPZO_CONFIG": json.dumps(cfg.to_dict()), "OPZO_RESULT": result,
               "RESIDENT": json.dumps({"n_train": samples, "n_test": 2, "epochs": 1,
                                       "stall": 0.0, "seed": seed, "data": cfg.name,
                                       **({"sdram": sdram} if sdram else {})})}
        try:
            with contextlib.nullcontext() if verbose else _output_to(log):
                run_cocotb(dut, Path(__file__).parent / "cocotb_resident.py",
                           build_dir=folder, simulator=simulator, extra_env=env)
        except (RuntimeError, AssertionError) as exc:
            raise RuntimeError(f"resident RTL run failed: {exc} (log: {log})") from exc
        r = json.loads(result.read_text())
    if r["mismatches"]:
        raise RuntimeError(f"resident RTL run mismatched the golden model: {r['examples'][:3]}")
    e = r["epochs"][0]
    out = {"resident_cycles_per_sample": e["train_cycles_per_sample"],
           "resident_test_cycles_per_sample": e["test_cycles_per_sample"],
           "resident_core_wait_cycles": r["core_wait_cycles"],
           "resident_run_cycles": r["run_cycles"],
           "resident_samples": samples, "resident_store": "sdram" if sdram else "bram"}
    if sdram:
        out.update({"resident_sdram": sdram, "resident_load_cycles": r["load_cycles"],
                    **{f"resident_{k}": r[k] for k in ("sdram_words_read", "sdram_words_written",
                                                       "sdram_refreshes", "sdram_violation_count",
                                                       "sdram_data_errors")}})
    return out
