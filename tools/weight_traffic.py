"""How far can the chip's training rate go?  The memory-port bound at each lane count, for the
core as it schedules a step and with the next step's first-layer sums folded into the update.

Example::

    python -m tools.weight_traffic --config digits --lanes 8,16,32 --samples 300 \\
        --rate 42480 --json results/weight_traffic.json

A training step of the core costs at least the words its memories' single read ports must
deliver (:func:`sim.bounds.step_bound`): the input words, the forward pass (``G_l`` words a
layer per active input) and the slowest memory's learning words, where ``W_1`` carries
``busy * |a_0 != 0|`` (the word groups with some ``d != 0`` times the inputs with a nonzero
trace).  The forward pass of step ``t + 1`` then reads ``W_1`` again, after step ``t``'s
update has written it: the same words wherever ``x_{t+1}[i]`` is on and ``a_0[i] != 0``.

*Fused* is the schedule that reads each of those words once: step ``t``'s ``W_1``
read-modify-write also adds the new weight to step ``t + 1``'s layer-1 sums wherever
``x_{t+1}[i]`` is on (``busy * |a_0 != 0 or x_{t+1}|`` words, plus ``(G - busy) * |x_{t+1}|``
reads for the groups without an update), so the next forward pass starts at layer 2 (the
readout in a one-hidden-layer core).  The golden order of updates is unchanged: every sum
still adds the weights after step ``t``'s update.  A sample's first step has nothing to fold
into (its full forward pass is counted) and its last step folds nothing (the next sample's
spikes are not assumed known).

Both figures come from the golden fixed-point model trained online on real encoded samples
(the activity the chip would see); neither counts the fixed latency of a pass.  With
``--rate`` the table gives the clock each bound would need for that many training samples a
second: a lower limit, since the core itself runs above its bound (1.13 to 1.2 times at P = 8
and 16, results/bench_rtl.json).
"""

import argparse
import json
import sys

import numpy as np

from golden.config import PRESETS, preset
from golden.core import FixedCore, sample_noise
from golden.data import load_dataset
from golden.encoding import TRAIN, encode
from sim.bounds import busy_groups, step_words

__all__ = ["traffic", "main"]


def traffic(cfg, spikes, labels, lanes):
    """Mean bound cycles per training sample, as scheduled and fused, at each lane count.

    The model is trained online on ``spikes`` (``N x T x n_inputs``) at the configuration's
    own lane count; the activity of each step (spikes, nonzero traces, learning factors) is
    then costed at every ``P`` in ``lanes`` (a lane count changes the noise streams, not how
    much fires, to the precision of this estimate).

    Returns
    -------
    dict
        Per lane count: ``bound_cycles_per_sample`` (scheduled), ``fused_cycles_per_sample``,
        and the mean ``W_1`` words a step of each (``w1_words``, ``w1_fused_words``).
    """
    core = FixedCore(cfg)
    T = cfg.timesteps
    at = {P: cfg.with_(lanes=P) for P in lanes}
    sums = {P: np.zeros(4) for P in lanes}
    for x, label in zip(spikes, labels):
        core.reset_sample()
        noise = sample_noise(cfg, core.lfsr, T)
        for t in range(T):
            core._step(x[t].astype(np.int64), int(label), True, noise[t])
            nxt = x[t + 1] if t + 1 < T else None
            for P in lanes:
                sums[P] += _step_costs(at[P], x[t], nxt, core, first=t == 0)
    n = len(spikes)
    return {P: {"bound_cycles_per_sample": s[0] / n, "fused_cycles_per_sample": s[1] / n,
                "w1_words": s[2] / (n * T), "w1_fused_words": s[3] / (n * T)}
            for P, s in sums.items()}


def _step_costs(cfg, x, nxt, core, first):
    """``(bound, fused bound, W_1 words, fused W_1 words)`` of the step ``core`` has just run."""
    L = cfg.n_hidden_layers
    words_in, forward, learning = step_words(cfg, x, core, True)
    bound = words_in + sum(forward) + max(learning)
    # W_1's update is learning[L] (after the M_l words): busy groups x nonzero input traces
    G, update_w1 = cfg.groups(cfg.sizes[1]), learning[L]
    busy = busy_groups(cfg, core.factors[0])
    if nxt is None:
        fused_w1 = update_w1
    else:
        nxt = np.asarray(nxt, dtype=bool)
        fused_w1 = (busy * int(np.count_nonzero((core.traces[0] != 0) | nxt))
                    + (G - busy) * int(np.count_nonzero(nxt)))
    # the forward pass loses its W_1 reads except on the sample's first step
    own_forward = forward[0] if first else 0
    fused = words_in + sum(forward[1:]) + own_forward + max(fused_w1, *learning[:L], *learning[L + 1:])
    return np.array([bound, fused, forward[0] + update_w1, fused_w1 + own_forward], dtype=float)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.weight_traffic", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="digits", choices=sorted(PRESETS))
    p.add_argument("--lanes", default="8,16,32", help="lane counts, comma-separated (default 8,16,32)")
    p.add_argument("--samples", type=int, default=300, help="training samples (default 300)")
    p.add_argument("--rate", type=float, default=None,
                   help="training samples/s: the clock each bound needs for it")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args(argv)
    try:
        lanes = [int(v) for v in args.lanes.split(",")]
    except ValueError:
        p.error(f"--lanes must be integers separated by commas, got {args.lanes!r}")
    if args.samples < 1:
        p.error(f"--samples must be at least 1, got {args.samples}")
    cfg = preset(args.config)
    for P in lanes:
        try:
            cfg.with_(lanes=P)
        except ValueError as exc:
            p.error(str(exc))
    ds = load_dataset(cfg.name)             # a preset is named after its data set
    n = min(args.samples, len(ds.x_train))
    spikes = encode(cfg.encoding, ds.x_train[:n], cfg.timesteps, seed=cfg.seed, split=TRAIN,
                    levels=cfg.encoding_levels)
    result = traffic(cfg, spikes, ds.y_train[:n], lanes)
    if args.rate:
        for r in result.values():
            r["mhz_for_rate"] = args.rate * r["bound_cycles_per_sample"] / 1e6
            r["fused_mhz_for_rate"] = args.rate * r["fused_cycles_per_sample"] / 1e6
    print(f"{cfg.name}, {n} training samples, T = {cfg.timesteps}: memory-port bound per sample")
    print(f"{'P':>3} {'W_1 words/step':>15} {'fused':>7} {'bound/sample':>13} {'fused':>7}"
          + (f" {'MHz for rate':>13} {'fused':>7}" if args.rate else ""))
    for P, r in result.items():
        line = (f"{P:>3} {r['w1_words']:>15.1f} {r['w1_fused_words']:>7.1f} "
                f"{r['bound_cycles_per_sample']:>13.1f} {r['fused_cycles_per_sample']:>7.1f}")
        if args.rate:
            line += f" {r['mhz_for_rate']:>13.1f} {r['fused_mhz_for_rate']:>7.1f}"
        print(line)
    if args.json:
        cmd = "python -m tools.weight_traffic " + " ".join(argv if argv is not None else sys.argv[1:])
        with open(args.json, "w") as f:
            json.dump({"config": cfg.name, "samples": n, "rate": args.rate, "command": cmd,
                       "lanes": {str(P): r for P, r in result.items()}}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
