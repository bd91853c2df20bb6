"""Convert between the core's checkpoints and NIR graphs (docs/nir.md).

Examples::

    python -m tools.nir_convert export --ckpt ckpt.npz --nir net.nir
    python -m tools.nir_convert import --nir net.nir --ckpt out.npz --eval digits

``export`` reads a checkpoint from ``python -m tools.train --ckpt`` or ``python -m
boards.ulx3s.host dump`` (a board dump holds no configuration: give the bitstream's with
``--config`` and ``--set``) and writes the network as a NIR graph.  ``import`` reads a NIR
graph, quantises it to the core's widths, prints the error per layer and writes a
checkpoint that ``python -m boards.ulx3s.host load --ckpt`` writes to a board;
``--eval DATA`` also runs it in the golden model on that data set's test split.
"""

import argparse
import sys


from golden.checkpoint import (checkpoint_weights, core_checkpoint, load_checkpoint,
                               save_checkpoint)
from golden.config import PRESETS, parse_overrides, preset
from golden.nir_export import write_nir
from golden.nir_graph import DEFAULT_DT
from golden.nir_import import format_report, from_nir

__all__ = ["main", "evaluate"]


def evaluate(cfg, weights, data, seed=None):
    """Test accuracy of ``weights`` in the golden fixed-point model, the split encoded as
    ``tools.train`` encodes it; returns ``(accuracy, predictions)``."""
    from golden.core import FixedCore
    from golden.data import load_dataset
    from golden.encoding import TEST, encode
    ds = load_dataset(data)
    seed = cfg.seed if seed is None else seed
    spikes = encode(cfg.encoding, ds.x_test, cfg.timesteps, seed=seed, split=TEST,
                    levels=cfg.encoding_levels)
    if spikes.shape[-1] != cfg.n_inputs or ds.n_classes != cfg.n_outputs:
        raise ValueError(f"data {data!r} ({spikes.shape[-1]} inputs, {ds.n_classes} classes) does "
                         f"not fit the network {list(cfg.sizes)}")
    core = FixedCore(cfg, "opzo")
    core.weights = [w.copy() for w in weights]
    return core.evaluate(spikes, ds.y_test)


def _base(args):
    if args.config is None and not args.set:
        return None
    return preset(args.config or "digits", **parse_overrides(args.set))


def cmd_export(args):
    cfg, data = load_checkpoint(args.ckpt, _base(args))
    weights = checkpoint_weights(cfg, data)
    write_nir(args.nir, cfg, weights, dt=args.dt)
    print(f"wrote {args.nir}: {' -> '.join(map(str, cfg.sizes))}, leak_shift {cfg.leak_shift}, "
          f"T = {cfg.timesteps}, dt = {args.dt:g} s")
    if args.eval:
        acc, _ = evaluate(cfg, weights, args.eval)
        print(f"golden fixed-point model on {args.eval} test: {100 * acc:.2f} %")


def cmd_import(args):
    result = from_nir(args.nir, _base(args), dt=args.dt, timesteps=args.timesteps,
                      approx_leak=args.approx_leak)
    print(format_report(result))
    save_checkpoint(args.ckpt, core_checkpoint(result.cfg, result.weights))
    print(f"wrote {args.ckpt}")
    if args.eval:
        acc, _ = evaluate(result.cfg, result.weights, args.eval)
        print(f"golden fixed-point model on {args.eval} test: {100 * acc:.2f} %")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.nir_convert", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("export", "import"))
    p.add_argument("--ckpt", required=True, help="export: checkpoint to read; import: to write")
    p.add_argument("--nir", required=True, help="export: NIR file to write; import: to read")
    p.add_argument("--config", choices=sorted(PRESETS), default=None,
                   help="export: the configuration of a checkpoint without CONFIG (a board "
                        "dump); import: the widths and shifts to quantise to (default: the "
                        "graph's own opzo_config metadata, else digits)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="override a field of --config (repeatable)")
    p.add_argument("--dt", type=float, default=None,
                   help=f"time step in seconds (export default {DEFAULT_DT:g}; import default: "
                        f"the graph's metadata, else tau / r of its first LIF)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="import: time steps per sample (default: the graph's metadata, else "
                        "the base configuration's)")
    p.add_argument("--approx-leak", action="store_true",
                   help="import: map a time constant that is not a power-of-two leak (or an IF) "
                        "to the nearest leak_shift instead of refusing it")
    p.add_argument("--eval", metavar="DATA", choices=("digits", "yinyang"), default=None,
                   help="also report the golden fixed-point model's accuracy on this test split")
    args = p.parse_args(argv)
    try:
        if args.action == "export":
            if args.dt is None:
                args.dt = DEFAULT_DT
            cmd_export(args)
        else:
            cmd_import(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
