"""Run the RTL core (generated Verilog, cocotb) against the golden model and report.

Example::

    python -m sim.compare --config digits --samples 20 --json out.json

Streams ``--samples`` samples (real encoded data by default for the presets, or random
spikes) through the core with random stalls on both streams, checks every response word and
the complete state (weights, M, membranes, spikes, traces, baseline, LFSR states) against
:class:`golden.core.FixedCore`, and writes ``{"config", "samples", "timesteps",
"mismatches", "cycles", "cycles_per_timestep", "sim_cycles_per_second", ...}``.
Exits 1 when any word mismatches.
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

from golden.config import PRESETS, preset
from golden.config import parse_overrides
from rtl.multiplier import MULTIPLIER_KINDS

__all__ = ["compare", "main"]

DEFAULT_BUILD = Path("build") / "sim"


PRIMITIVES = Path(__file__).resolve().parent / "primitives"
"""Simulation models of the vendor primitives the core instantiates (``sim/primitives``)."""


def _build_dir(cfg, base, multipliers="inferred"):
    """One folder per configuration *and* version of the design: the folder's Verilog is
    reused, so its name digests the configuration and the sources it is generated from
    (``rtl/`` and ``golden/``, whose model gives the memories' initial contents)."""
    digest = hashlib.sha1(json.dumps({**cfg.to_dict(), "multipliers": multipliers}, sort_keys=True).encode())
    root = Path(__file__).resolve().parent.parent
    for package in ("rtl", "golden", "sim/primitives"):
        for path in sorted((root / package).glob("*.[pv]*")):
            digest.update(f"{package}/{path.name}".encode() + path.read_bytes())
    return Path(base) / f"{cfg.name}-{digest.hexdigest()[:10]}"


def compare(cfg, *, samples=4, source="random", seed=0, idle=0.3, stall=0.3, check="sample",
            errors=False, reads=False, simulator=None, build_base=DEFAULT_BUILD,
            train_fraction=0.75, epoch=0, multipliers="inferred", prelude=None, plan=None,
            rates=None, host=0.0, mutants=(), pipeline=0.0):
    """Run one comparison; returns the result dictionary (raises nothing on mismatch).

    A failed cocotb test (a mismatch, an unexpected extra word, a harness assertion) is
    never dropped: its message is the result's ``"error"``, which :func:`main` reports and
    turns into exit status 1, and which the tests assert is absent.  A run that wrote no
    result raises ``RuntimeError``.

    ``multipliers="ecp5"`` runs the core as an ECP5 build elaborates it (its products in
    ``MULT18X18D`` instances, :mod:`rtl.multiplier`), with the primitive's model
    ``sim/primitives/MULT18X18D.v``.

    ``prelude`` (commands sent after reset), ``plan`` (explicit samples), ``rates`` (spike
    probabilities drawn per random sample), ``host`` (probability of a READ and a WRITE
    between samples), ``pipeline`` (probability that a sample's commands are sent back to back
    without waiting for each answer) and ``mutants`` (golden models without one clamp, run beside the real
    one) are passed to the harness (:mod:`sim.cocotb_core`).  The result's ``"coverage"`` is
    the run's coverage table (:mod:`sim.coverage`)."""
    from rtl.core import Core
    from sim.runner import default_simulator, run_cocotb, write_verilog

    sim = simulator or default_simulator()
    build = _build_dir(cfg, Path(build_base) / sim, multipliers).resolve()
    build.mkdir(parents=True, exist_ok=True)
    result_path = build / f"result-{os.getpid()}.json"
    scenario = {"samples": samples, "source": source, "seed": seed, "idle": idle, "stall": stall,
                "check": check, "errors": errors, "reads": reads, "train_fraction": train_fraction, "epoch": epoch,
                "prelude": prelude or [], "plan": plan, "rates": rates, "host": host,
                "mutants": list(mutants), "pipeline": pipeline}
    verilog = build / "top.v"
    design = verilog if verilog.exists() else write_verilog(Core(cfg, multipliers=multipliers), build)
    if multipliers == "ecp5":
        design = [design, PRIMITIVES / "MULT18X18D.v"]
    env = {"OPZO_CONFIG": json.dumps(cfg.to_dict()), "OPZO_SCENARIO": json.dumps(scenario),
           "OPZO_RESULT": str(result_path)}
    error = None
    try:
        run_cocotb(design, "sim.cocotb_core", build_dir=build, simulator=sim, extra_env=env)
    except AssertionError as exc:
        error = str(exc)
    if not result_path.exists():
        raise RuntimeError(f"the cocotb run wrote no result: {error}")
    result = json.loads(result_path.read_text())
    result_path.unlink()
    result.update({"config": cfg.name, "simulator": sim, "lanes": cfg.lanes,
                   "hidden": list(cfg.hidden), "seed": seed, "source": source, "check": check,
                   "idle": idle, "stall": stall, "multipliers": multipliers, "config_fields": cfg.to_dict()})
    if error:
        result["error"] = error
    return result


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sim.compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", choices=sorted(PRESETS), default="digits")
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--source", choices=("data", "random"), default="data",
                   help="'data': encoded training samples of the preset's data set; 'random' spikes")
    p.add_argument("--hidden", help="override hidden sizes, e.g. 64,64")
    p.add_argument("--lanes", type=int, help="override the lane count P")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="override any config field")
    p.add_argument("--seed", type=int, default=0, help="configuration and scenario seed")
    p.add_argument("--check", choices=("end", "sample", "step"), default="sample",
                   help="compare the full state at the end, after every sample, or every step")
    p.add_argument("--idle", type=float, default=0.3, help="input idle probability per cycle")
    p.add_argument("--stall", type=float, default=0.3, help="output back-pressure probability")
    p.add_argument("--errors", action="store_true", help="interleave malformed commands")
    p.add_argument("--reads", action="store_true",
                   help="also read the whole final state back through READ commands")
    p.add_argument("--simulator", choices=("verilator", "icarus"))
    p.add_argument("--multipliers", choices=MULTIPLIER_KINDS, default="inferred",
                   help="'ecp5': the products in MULT18X18D instances, as an ECP5 build makes them "
                        "(simulated with sim/primitives/MULT18X18D.v)")
    p.add_argument("--build-dir", default=str(DEFAULT_BUILD))
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    try:
        overrides = parse_overrides(args.set)
        if args.hidden:
            overrides["hidden"] = tuple(int(v) for v in args.hidden.split(","))
        if args.lanes:
            overrides["lanes"] = args.lanes
        cfg = preset(args.config, seed=args.seed, **overrides)
        from rtl.core import check_rtl_config
        check_rtl_config(cfg)
    except ValueError as exc:
        p.error(str(exc))
    source = cfg.name if args.source == "data" and cfg.name in ("digits", "yinyang") else "random"
    if source != "random" and (cfg.n_inputs != PRESETS[cfg.name].n_inputs):
        source = "random"
    r = compare(cfg, samples=args.samples, source=source, seed=args.seed, idle=args.idle,
                stall=args.stall, check=args.check, errors=args.errors, reads=args.reads, simulator=args.simulator,
                build_base=args.build_dir, multipliers=args.multipliers)
    cpt = r["cycles_per_timestep"]
    print(f"config {r['config']} (hidden {r['hidden']}, P = {r['lanes']}, {r['simulator']}): "
          f"{r['samples']} samples, {r['timesteps']} time steps, {r['words_checked']} words checked, "
          f"mismatches {r['mismatches']}")
    if cpt is not None:
        print(f"cycles per training time step {cpt:.1f} (memory-port bound "
              f"{r['bound_cycles_per_timestep']:.1f}, ratio {r['cycles_ratio_to_bound']:.2f}); "
              f"simulation {r['sim_cycles_per_second']:.0f} cycles/s")
    if r["mismatches"]:
        print(r["report"])
    if r.get("error"):
        print(f"error: {r['error']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    return 1 if r["mismatches"] or r.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
