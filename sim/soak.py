"""Soak: random configurations from the corner-reaching generator
(:func:`sim.edge_configs.random_overrides`), each verified bit-exact under cocotb with random
stalls on both streams, spike rates from empty to full, half the samples sent back to back
(the core's input stalls), malformed commands and host reads and writes between samples, until a number of simulated cycles is reached; the coverage
tables of the runs are summed (:mod:`sim.coverage`).

    python -m sim.soak --seed 19000 --cycles 1000000 --out results/soak/seed19000

writes ``<out>.json`` (every configuration: its generator seed, outcome, cycles, and the
summed coverage) and ``<out>.md`` (the coverage table, events that never happened marked).
Exits 1 on any mismatch or harness error.  Configurations the validators refuse are listed
with their reason and cost no simulation.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from sim import coverage
from sim.edge_configs import admit, random_overrides, verify

__all__ = ["soak", "main"]


def _samples_for(cfg, cycles):
    """Samples that take about ``cycles`` cycles (a rough estimate of a training step)."""
    P, sizes, m = cfg.lanes, cfg.sizes, cfg.n_outputs
    groups = [-(-n // P) for n in sizes]
    forward = sum(groups[l + 1] * sizes[l] * 0.5 for l in range(len(sizes) - 1))
    learning = max([groups[l + 1] * max(m, sizes[l]) for l in range(len(sizes) - 1)])
    step = 30 + forward + learning
    return int(min(1500, max(10, cycles / (1.3 * cfg.timesteps * step + 60))))


def soak(seed, target_cycles, *, per_config=250_000, build_base=None, log=print):
    """Run configurations from generator seed ``seed`` on until ``target_cycles`` simulated
    cycles; returns the record (``configs``, ``cycles``, ``coverage``, ``failed``)."""
    records, total, table, s = [], 0, None, seed
    t0 = time.perf_counter()
    while total < target_cycles:
        overrides = random_overrides(s)
        cfg, reason = admit(f"soak_{s}", overrides, s)
        if cfg is None:
            records.append({"seed": s, "outcome": "refused", "reason": reason})
            log(f"seed {s}: refused ({reason})")
            s += 1
            continue
        n = _samples_for(cfg, min(per_config, target_cycles - total + 20_000))
        rec = verify(f"soak_{s}", overrides, seed=s, samples=n, check="sample", host=0.3,
                     errors=0.3, reads=False, pipeline=0.5,
                     **({"build_base": build_base} if build_base else {}))
        rec.pop("report", None) if rec["outcome"] == "verified" else None
        table = rec.get("coverage") if table is None else coverage.merge(table, rec.get("coverage", {}))
        rec = {k: v for k, v in rec.items() if k not in ("coverage", "mutant_mismatches")}
        rec["samples"] = n
        records.append(rec)
        total += rec.get("cycles") or 0
        log(f"seed {s}: {rec['outcome']} ({n} samples, {rec.get('cycles')} cycles, "
            f"{rec.get('seconds')} s; total {total})")
        if rec["outcome"] != "verified":
            break
        s += 1
    return {"first_seed": seed, "last_seed": s, "target_cycles": target_cycles, "cycles": total,
            "configs": records, "failed": [r for r in records if r["outcome"] == "FAILED"],
            "verified": sum(r["outcome"] == "verified" for r in records),
            "refused": sum(r["outcome"] == "refused" for r in records),
            "wall_seconds": round(time.perf_counter() - t0), "coverage": table}


def markdown(result, command):
    lines = [f"# Soak from generator seed {result['first_seed']}", "",
             f"Command: `{command}`", "",
             f"{result['cycles']:,} simulated cycles over {result['verified']} verified "
             f"configurations (generator seeds {result['first_seed']}..{result['last_seed']}); "
             f"{result['refused']} refused by the validators; "
             f"{len(result['failed'])} failed. Wall time {result['wall_seconds']} s.", "",
             "| seed | outcome | hidden | P | T | m | widths w/u/o/M/g | samples | cycles |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["configs"]:
        o = r.get("overrides", {})
        if r["outcome"] == "refused":
            lines.append(f"| {r['seed']} | refused: {r['reason']} | | | | | | | |")
            continue
        lines.append(f"| {r['seed']} | {r['outcome']} | {o.get('hidden')} | {o.get('lanes')} | "
                     f"{o.get('timesteps')} | {o.get('n_outputs')} | {o.get('weight_bits')}/"
                     f"{o.get('membrane_bits')}/{o.get('output_bits')}/{o.get('feedback_bits')}/"
                     f"{o.get('signal_bits')} | {r.get('samples')} | {r.get('cycles')} |")
    lines += ["", "## Coverage", "", coverage.format_table(result["coverage"]) if result["coverage"] else "(none)", ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sim.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, required=True, help="first generator seed")
    p.add_argument("--cycles", type=int, default=1_000_000)
    p.add_argument("--per-config", type=int, default=250_000, help="cycles aimed at per configuration")
    p.add_argument("--build-dir")
    p.add_argument("--out", help="write <out>.json and <out>.md")
    args = p.parse_args(argv)
    result = soak(args.seed, args.cycles, per_config=args.per_config, build_base=args.build_dir,
                  log=lambda s: print(s, flush=True))
    command = f"python -m sim.soak --seed {args.seed} --cycles {args.cycles} --per-config {args.per_config}"
    text = markdown(result, command)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(json.dumps({"command": command, **result}, indent=1))
        out.with_suffix(".md").write_text(text)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
