"""Edge configurations on purpose: a directed list of corners and a random generator that
reaches them.

Every configuration either passes both validators (:meth:`golden.config.CoreConfig.validate`
and :func:`rtl.core.check_rtl_config`) and must then be verified bit-exact by the cocotb
comparison (:func:`verify`), or is refused by one of them with a reason (:func:`admit`
returns it).  Nothing in between: :func:`verify` raises nothing, it returns a record whose
``"outcome"`` is ``"verified"``, ``"refused"`` or ``"FAILED"``.

Run the whole directed list (about 50 s per configuration, mostly the Verilator build)::

    python -m sim.edge_configs --json edge.json
    python -m sim.edge_configs --only narrowest_widths widest_widths
    python -m sim.edge_configs --random 5000 5010      # generator seeds instead
"""

import argparse
import json
import sys
import time

import numpy as np

from golden.config import preset

__all__ = ["EDGE_CONFIGS", "REFUSED_CONFIGS", "DEFAULT_SUBSET", "admit", "random_overrides",
           "verify", "main"]

# name -> overrides of the "digits" preset (seed 0 unless given)
EDGE_CONFIGS = {
    # the issue-19 configuration: a hidden layer of one neuron, P = 1, T = 2
    "one_neuron_last_layer": dict(n_inputs=20, hidden=(15, 16, 1), n_outputs=6, lanes=1,
                                  timesteps=2, feedback_init="random"),
    "one_input": dict(n_inputs=1, hidden=(5,), n_outputs=3, lanes=2, timesteps=3,
                      feedback_init="random"),
    "one_neuron_everywhere": dict(n_inputs=1, hidden=(1, 1, 1), n_outputs=2, lanes=1,
                                  timesteps=2, feedback_init="random"),
    # P = 32 lanes, wider than every layer: one partial word per layer
    "lanes_wider_than_layers": dict(n_inputs=3, hidden=(2, 5), n_outputs=2, lanes=32,
                                    timesteps=2, feedback_init="random"),
    "lanes_8_layer_of_1": dict(n_inputs=6, hidden=(1,), n_outputs=4, lanes=8, timesteps=3,
                               feedback_init="random"),
    "one_timestep": dict(n_inputs=9, hidden=(7,), n_outputs=4, lanes=4, timesteps=1,
                         feedback_init="random"),
    "longest_sample": dict(n_inputs=2, hidden=(3,), n_outputs=2, lanes=2, timesteps=256,
                           output_bits=23, feedback_init="random"),
    "two_classes": dict(n_inputs=7, hidden=(6,), n_outputs=2, lanes=2, timesteps=2,
                        feedback_init="random"),
    "max_classes_32": dict(n_inputs=5, hidden=(6,), n_outputs=32, lanes=4, timesteps=2,
                           feedback_init="random"),
    "inputs_one_word": dict(n_inputs=32, hidden=(4,), n_outputs=3, lanes=4, timesteps=2,
                            feedback_init="random"),
    "inputs_past_one_word": dict(n_inputs=33, hidden=(4,), n_outputs=3, lanes=4, timesteps=2,
                                 feedback_init="random"),
    "three_unequal_layers": dict(n_inputs=11, hidden=(9, 3, 14), n_outputs=5, lanes=4,
                                 timesteps=3, feedback_init="random"),
    # every width at the smallest value the validators accept
    "narrowest_widths": dict(n_inputs=6, hidden=(5,), n_outputs=3, lanes=2, timesteps=3,
                             weight_bits=4, frac_bits=1, membrane_bits=5, output_bits=5,
                             trace_frac_bits=1, leak_shift=1, trace_bits=2,
                             surrogate_frac_bits=1, error_frac_bits=1, feedback_bits=4,
                             signal_bits=4, signal_frac_bits=0, noise_shift=0,
                             feedback_input_shift=0, baseline_shift=1, feedback_decay_shift=1,
                             hidden_lr_shift=0, readout_lr_shift=0, lfsr_bits=16,
                             feedback_init="random"),
    # every width at the largest value the validators accept
    "widest_widths": dict(n_inputs=6, hidden=(5,), n_outputs=3, lanes=2, timesteps=3,
                          weight_bits=18, frac_bits=16, membrane_bits=40, output_bits=30,
                          trace_frac_bits=10, leak_shift=8, trace_bits=18,
                          surrogate_frac_bits=12, error_frac_bits=16, feedback_bits=18,
                          signal_bits=18, signal_frac_bits=16, noise_shift=16,
                          feedback_input_shift=29, baseline_shift=16, feedback_decay_shift=16,
                          hidden_lr_shift=21, readout_lr_shift=21, feedback_init="random"),
    # learning-rate shifts at both ends of their range (total shift 0 and 31)
    "lr_shift_low": dict(n_inputs=8, hidden=(6,), n_outputs=3, lanes=2, timesteps=3,
                         hidden_lr_shift=3, readout_lr_shift=0, signal_frac_bits=4,
                         feedback_init="random"),
    "lr_shift_high": dict(n_inputs=8, hidden=(6,), n_outputs=3, lanes=2, timesteps=3,
                          hidden_lr_shift=24, readout_lr_shift=24, feedback_init="random"),
}
# (signal_frac_bits 4: hidden base 4 + 6 - 13 = -3, so hidden_lr_shift 3 is a total shift of 0;
# readout base 8 + 6 - 13 = 1, readout_lr_shift 0 is a total of 1, the smallest it can be.)

# Configurations each validator must refuse, with the words its reason must contain.
REFUSED_CONFIGS = {
    "n_outputs_33": (dict(n_outputs=33), "n_outputs must be in [2, 32]"),
    "n_outputs_1": (dict(n_outputs=1), "n_outputs must be an integer in [2, 256]"),
    "no_hidden_layer": (dict(hidden=()), "hidden must list 1 to 3"),
    "four_hidden_layers": (dict(hidden=(2, 2, 2, 2)), "hidden must list 1 to 3"),
    "zero_inputs": (dict(n_inputs=0), "n_inputs must be an integer"),
    "lanes_3": (dict(lanes=3), "lanes must be a power of two"),
    "lanes_64": (dict(lanes=64), "lanes must be an integer in [1, 32]"),
    "timesteps_0": (dict(timesteps=0), "timesteps must be an integer"),
    "weight_bits_3": (dict(weight_bits=3, frac_bits=1, membrane_bits=5, output_bits=5),
                      "weight_bits must be an integer in [4, 18]"),
    "weight_bits_19": (dict(weight_bits=19), "weight_bits must be an integer in [4, 18]"),
    "membrane_narrower_than_weight": (dict(membrane_bits=16), "membrane_bits must be"),
    "output_total_past_32_bits": (dict(output_bits=40), "output_bits must be at most 28"),
    "trace_too_narrow": (dict(trace_bits=6), "trace_bits must be"),
    "feedback_bits_19": (dict(feedback_bits=19), "feedback_bits must be"),
    "hidden_shift_negative": (dict(hidden_lr_shift=0, signal_frac_bits=4),
                              "hidden_lr_shift"),
    "readout_total_shift_past_31": (dict(readout_lr_shift=24, error_frac_bits=13, frac_bits=13,
                                         trace_frac_bits=16, trace_bits=17),
                                    "readout_lr_shift must be in"),
}

# The default suite's short representative subset (the whole list is opt-in).
DEFAULT_SUBSET = ("one_neuron_everywhere", "narrowest_widths")


def admit(name, overrides, seed=0):
    """``(cfg, None)`` when both validators accept, else ``(None, reason)``."""
    from rtl.core import check_rtl_config
    try:
        # antithetic noise off unless an entry sets it: the preset has it on, and it needs an
        # even T, which most of these shapes do not have
        cfg = preset("digits", seed=seed, **{"antithetic": False, **overrides})
        cfg = cfg.with_(name=name if name.isidentifier() else "edge")
        check_rtl_config(cfg)
    except ValueError as exc:
        return None, str(exc)
    return cfg, None


def random_overrides(seed):
    """Overrides of the ``digits`` preset drawn to reach corners: each size and width is its
    smallest legal value, its largest, or in between (a third each), the widths drawn in the
    order of their dependencies so that most draws are legal; about one in ten is pushed just
    past a limit and must be refused."""
    rng = np.random.default_rng(seed)

    def pick(lo, hi):
        hi = max(lo, hi)
        r = rng.random()
        return int(lo if r < 1 / 3 else hi if r < 2 / 3 else rng.integers(lo, hi + 1))

    L = int(rng.integers(1, 4))
    T = int(rng.choice([1, 1, 2, 3, 4, 6, 8]))
    o = {"n_inputs": pick(1, 40), "hidden": tuple(pick(1, 20) for _ in range(L)),
         "n_outputs": pick(2, 32), "lanes": int(2 ** rng.integers(0, 6)), "timesteps": T,
         "feedback_init": "random"}
    wb = pick(4, 18)
    fb = pick(1, wb - 2)
    o.update(weight_bits=wb, frac_bits=fb, membrane_bits=pick(wb + 1, 40),
             output_bits=pick(wb + 1, 32 - T.bit_length()))
    tfb = pick(1, 16)
    leak = pick(1, min(8, 18 - tfb))
    o.update(trace_frac_bits=tfb, leak_shift=leak, trace_bits=pick(tfb + leak, 18),
             surrogate_frac_bits=pick(1, min(12, fb)), error_frac_bits=pick(1, min(16, fb)),
             feedback_bits=pick(4, 18))
    sb = pick(4, 18)
    o.update(signal_bits=sb, signal_frac_bits=pick(0, sb - 2), noise_shift=pick(0, fb),
             feedback_decay_shift=pick(1, 16), feedback_input_shift=pick(0, o["output_bits"] - 1),
             baseline_shift=pick(1, 16), lfsr_bits=int(rng.choice([16, 32])))
    hb = o["signal_frac_bits"] + tfb - fb
    rb = o["error_frac_bits"] + tfb - fb
    o["hidden_lr_shift"] = pick(max(0, -hb), min(24, 31 - hb))
    o["readout_lr_shift"] = pick(max(0, -rb), min(24, 31 - rb))
    if rng.random() < 0.1:                     # just past one limit: must be refused
        key, value = [("n_outputs", 33), ("output_bits", 33 - T.bit_length()),
                      ("trace_bits", tfb + leak - 1), ("membrane_bits", wb),
                      ("hidden_lr_shift", min(24, 31 - hb) + 1), ("lanes", 64)][int(rng.integers(6))]
        o[key] = value
    return o


def verify(name, overrides, *, seed=0, samples=4, check="step", build_base=None, **kw):
    """Admit the configuration and, if admitted, run the cocotb comparison on it (random
    spikes at varied rates, malformed commands and host accesses between samples, the final
    state also read back through READ commands).  Returns a record: ``name``, ``outcome``
    (``"verified"``, ``"refused"`` or ``"FAILED"``), ``reason`` / ``mismatches`` /
    ``error``, ``cycles``, ``seconds``, ``coverage``."""
    from sim.compare import DEFAULT_BUILD, compare
    cfg, reason = admit(name, overrides, seed)
    record = {"name": name, "overrides": {k: list(v) if isinstance(v, tuple) else v
                                          for k, v in overrides.items()}, "seed": seed}
    if cfg is None:
        return {**record, "outcome": "refused", "reason": reason}
    t0 = time.perf_counter()
    args = dict(samples=samples, source="random", seed=seed, check=check, errors=True,
                reads=True, host=0.5, rates=[0.0, 0.1, 0.4, 0.9, 1.0],
                build_base=build_base or DEFAULT_BUILD)
    args.update(kw)
    try:
        r = compare(cfg, **args)
    except Exception as exc:                       # a harness crash is a failure, not a refusal
        return {**record, "outcome": "FAILED", "error": f"{type(exc).__name__}: {exc}",
                "seconds": time.perf_counter() - t0}
    ok = r["mismatches"] == 0 and "error" not in r and r["words_checked"] > 0 and r["state_checks"] > 0
    return {**record, "outcome": "verified" if ok else "FAILED", "mismatches": r["mismatches"],
            "error": r.get("error"), "report": None if ok else r["report"],
            "words_checked": r["words_checked"], "state_checks": r["state_checks"],
            "cycles": r["cycles"], "seconds": round(time.perf_counter() - t0, 1),
            "coverage": r["coverage"], "mutant_mismatches": r["mutant_mismatches"]}


def markdown(records):
    """The records of a run as a markdown table, then the refused list's outcomes."""
    lines = ["| configuration | outcome | words checked | state checks | cycles | seconds | note |",
             "|---|---|---|---|---|---|---|"]
    for r in records:
        note = r.get("reason") or r.get("error") or ""
        lines.append(f"| `{r['name']}` | {r['outcome']} | {r.get('words_checked', '')} | "
                     f"{r.get('state_checks', '')} | {r.get('cycles', '')} | {r.get('seconds', '')} | {note} |")
    lines += ["", "| refused configuration | reason given |", "|---|---|"]
    for name, (overrides, _) in REFUSED_CONFIGS.items():
        cfg, reason = admit(name, overrides)
        lines.append(f"| `{name}` | {reason if cfg is None else 'ACCEPTED (wrong)'} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sim.edge_configs", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="names from EDGE_CONFIGS (default: all)")
    p.add_argument("--random", nargs=2, type=int, metavar=("FIRST", "STOP"),
                   help="generator seeds FIRST .. STOP-1 instead of the directed list")
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--build-dir")
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--md", metavar="PATH", help="also write the records as a markdown table")
    args = p.parse_args(argv)
    if args.random:
        todo = [(f"random_{s}", random_overrides(s), s) for s in range(*args.random)]
    else:
        names = args.only or list(EDGE_CONFIGS)
        todo = [(n, EDGE_CONFIGS[n], 0) for n in names]
    records = []
    for name, overrides, seed in todo:
        rec = verify(name, overrides, seed=seed, samples=args.samples,
                     **({"build_base": args.build_dir} if args.build_dir else {}))
        records.append(rec)
        extra = rec.get("reason") or rec.get("error") or f"{rec.get('cycles')} cycles, {rec.get('seconds')} s"
        print(f"{name}: {rec['outcome']} ({extra})", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(records, f, indent=1)
        if args.md:
            with open(args.md, "w") as f:
                f.write(markdown(records) + "\n")
    return 1 if any(r["outcome"] == "FAILED" for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
