"""The command line of the host driver (:mod:`boards.ulx3s.driver`) for the OPZO board.

Examples::

    python -m boards.ulx3s.host ping  --port /dev/ttyUSB0
    python -m boards.ulx3s.host train --port /dev/ttyUSB0 --data digits --epochs 5
    python -m boards.ulx3s.host eval  --port /dev/ttyUSB0 --data digits
    python -m boards.ulx3s.host infer --port /dev/ttyUSB0 --data digits --index 3
    python -m boards.ulx3s.host dump  --port /dev/ttyUSB0 --out ckpt.npz
    python -m boards.ulx3s.host load  --port /dev/ttyUSB0 --ckpt ckpt.npz
    python -m boards.ulx3s.host train --port /dev/ttyUSB0 --data digits --resident --epochs 5
    python -m boards.ulx3s.host train --port /dev/ttyUSB0 --data digits --lanes 32  # rtl.build --lanes 32

``--sim`` replaces the serial port by :class:`SimTransport` (the link model in front of the
golden model), which runs everything without a board.  Samples are encoded exactly as
``tools.train`` encodes them (same encoding seeds, data order and learning-rate halvings,
which the host applies by writing the learning-rate shift parameters), so training on the
board reproduces ``python -m tools.train --model fixed`` for the same seed: the board's
``PONG`` names the gateware and the initial state it was built from (fingerprints and seed),
a bitstream of other gateware is refused, and ``train`` writes ``--seed``'s initial state
first when the bitstream started from another one (``--keep-state`` trains on from what the
board holds).

The packet format is in ``docs/host_protocol.md``.
"""

import argparse
import sys
import time

import numpy as np

from .driver import DEFAULT_BAUD, LinkFailure, OpzoHost, SerialTransport, SimTransport, Transport
from .resident_host import ResidentError, store_info, train_resident, upload

__all__ = ["Transport", "SerialTransport", "SimTransport", "OpzoHost", "LinkFailure", "main"]


# --- CLI ---------------------------------------------------------------------------------

def _config(args):
    from golden.config import preset
    extra = {"encoding": "lfsr_rate"} if args.resident else {}
    if args.lanes is not None:
        extra["lanes"] = args.lanes
    return preset(args.config or args.data, seed=args.seed, **extra)


def _sim_store_rows(args):
    """The simulated board's store for ``--resident --sim``: the data set's training rows and
    room for its validation or test split."""
    from golden.data import load_dataset
    ds = load_dataset(args.data)
    n_train = len(ds.x_train[:args.limit_train])
    return n_train, max(len(ds.x_val[:args.limit_val]), len(ds.x_test[:args.limit_test]))


def _check_device(host, cfg):
    """PING the board; refuse a bitstream whose gateware is not ``cfg``'s."""
    from golden.config import gateware_fingerprint
    info = host.resync()
    want = {"n_inputs": cfg.n_inputs, "n_outputs": cfg.n_outputs, "hidden": list(cfg.hidden),
            "timesteps": cfg.timesteps, "lanes": cfg.lanes}
    got = {k: info[k] for k in want}
    if got != want:
        raise LinkFailure(f"the bitstream's configuration {got} differs from {cfg.name!r} {want}")
    if info["gateware_fingerprint"] != gateware_fingerprint(cfg):
        raise LinkFailure(f"the bitstream was built from another configuration than {cfg.name!r} "
                          f"(gateware fingerprint 0x{info['gateware_fingerprint']:08x}, expected "
                          f"0x{gateware_fingerprint(cfg):08x}: a width, shift or size differs); "
                          f"build it with python -m rtl.build --config {cfg.name} "
                          f"--lanes {cfg.lanes}")
    return info


def _prepare_training_state(host, cfg, info, keep_state):
    """Training starts from ``cfg``'s initial state (its seed's weights, M and LFSR seeds):
    when the bitstream was built from another one, write ``cfg``'s, unless ``keep_state``
    (train on from whatever the board holds, e.g. after ``load``)."""
    from golden.config import initial_state_fingerprint
    if info["initial_state_fingerprint"] == initial_state_fingerprint(cfg) or keep_state:
        return 0
    n = host.program_initial_state(cfg)
    print(f"note: the bitstream starts from seed {info['seed']}'s state; wrote seed {cfg.seed}'s "
          f"initial weights, feedback matrices, LFSR seeds and learning-rate shifts ({n} entries)",
          file=sys.stderr)
    return n


def _evaluate(host, cfg, ds, args, bar_desc="eval", split="test"):
    """Accuracy and predictions on the ``"val"`` or ``"test"`` split, encoded as
    ``tools.train`` encodes it."""
    from golden.encoding import TEST, VAL, encode
    if split == "val":
        x, y, code = ds.x_val[:args.limit_val], ds.y_val[:args.limit_val], VAL
    else:
        x, y, code = ds.x_test[:args.limit_test], ds.y_test[:args.limit_test], TEST
    spikes = encode(cfg.encoding, x, cfg.timesteps, seed=args.seed, split=code,
                    levels=cfg.encoding_levels)
    preds = []
    chunk = 32
    it = range(0, len(x), chunk)
    for start in _bar(it, args, len(x), bar_desc, chunk):
        preds += [p for p, _ in host.run_samples((spikes[i], 0, False)
                                                 for i in range(start, min(start + chunk, len(x))))]
    return float(np.mean(np.array(preds) == y)), preds


class _NoBar:
    def __init__(self, it):
        self.it = it

    def __iter__(self):
        return iter(self.it)


def _bar(it, args, total, desc, unit_per_item=1):
    if args.no_progress:
        return _NoBar(it)
    from tqdm import tqdm

    class _Bar:
        def __iter__(self):
            with tqdm(total=total, unit="sample", desc=desc, file=sys.stderr) as bar:
                for item in it:
                    yield item
                    bar.update(min(unit_per_item, total - bar.n))
    return _Bar()


def cmd_train(host, cfg, args):
    from golden.data import load_dataset
    from golden.encoding import TRAIN, encode
    ds = load_dataset(args.data)
    x, y = ds.x_train[:args.limit_train], ds.y_train[:args.limit_train]
    order_rng = np.random.default_rng([args.seed, 3])
    decay = [int(e) for e in args.lr_decay_epochs.split(",") if e.strip()]
    history = []
    for epoch in range(args.epochs):
        host.set_lr_halvings(cfg, sum(epoch >= e for e in decay))
        spikes = encode(cfg.encoding, x, cfg.timesteps, seed=args.seed, split=TRAIN, epoch=epoch,
                        levels=cfg.encoding_levels)
        order = order_rng.permutation(len(x))
        correct, t0 = 0, time.perf_counter()
        chunk = 16
        for start in _bar(range(0, len(order), chunk), args, len(order),
                          f"epoch {epoch + 1}/{args.epochs}", chunk):
            idx = order[start:start + chunk]
            res = host.run_samples((spikes[i], int(y[i]), True) for i in idx)
            correct += sum(int(p == y[i]) for (p, _), i in zip(res, idx))
        rate = len(order) / (time.perf_counter() - t0)
        acc, _ = _evaluate(host, cfg, ds, args, "validation", split="val")
        history.append({"epoch": epoch + 1, "val_accuracy": acc,
                        "train_accuracy": correct / len(order), "samples_per_second": rate})
        print(f"epoch {epoch + 1:3d}/{args.epochs}: validation {100 * acc:6.2f} %  train (online) "
              f"{100 * correct / len(order):6.2f} %  {rate:.1f} samples/s", flush=True)
    if args.test:            # the test split once, after training (as tools.train --test)
        acc, _ = _evaluate(host, cfg, ds, args, "test")
        history[-1]["test_accuracy"] = acc
        print(f"test {100 * acc:6.2f} %", flush=True)
    if args.ckpt_out:
        host.dump(args.ckpt_out)
    return history


def cmd_load_nir(host, cfg, path):
    """Write a NIR graph's network into the device (docs/nir.md): quantised to the device's
    widths, sizes and leak checked against the bitstream's configuration, feedback matrices
    and baseline zeroed so that on-chip training starts afresh from these weights."""
    from golden.checkpoint import core_checkpoint
    from golden.nir_graph import NirFormatError
    from golden.nir_import import format_report, from_nir
    try:
        result = from_nir(path, cfg)
    except NirFormatError as exc:       # its message names the file already
        raise LinkFailure(str(exc)) from None
    except ValueError as exc:
        raise LinkFailure(f"{path}: {exc}") from None
    got, want = result.cfg, cfg
    if (got.sizes, got.leak_shift) != (want.sizes, want.leak_shift):
        raise LinkFailure(f"{path}: network {list(got.sizes)} with leak_shift {got.leak_shift}, "
                          f"but the bitstream's configuration {want.name!r} is {list(want.sizes)} "
                          f"with leak_shift {want.leak_shift}")
    print(format_report(result))
    data = core_checkpoint(want, result.weights)
    host.load({k: v for k, v in data.items() if k not in ("LFSR", "PARAM", "CONFIG")})
    return result


def main(argv=None):
    from golden.config import PRESETS
    from golden.data import DATASETS

    p = argparse.ArgumentParser(prog="python -m boards.ulx3s.host", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("ping", "train", "eval", "infer", "dump", "load", "upload"))
    p.add_argument("--port", help="serial port of the ULX3S FTDI (e.g. /dev/ttyUSB0)")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="default 1000000 (the bitstream's)")
    p.add_argument("--sim", action="store_true", help="no board: simulate the device in Python "
                   "(a bitstream as python -m rtl.build builds it: the preset with --sim-seed)")
    p.add_argument("--sim-seed", type=int, default=0,
                   help="--sim: the seed the simulated bitstream was built from (default 0, "
                        "as rtl.build)")
    p.add_argument("--data", choices=DATASETS, default="digits")
    p.add_argument("--config", choices=sorted(PRESETS), default=None,
                   help="the bitstream's configuration preset (default: named like --data)")
    p.add_argument("--lanes", type=int, default=None, metavar="P",
                   help="the bitstream's lane count (rtl.build --lanes; default the preset's)")
    p.add_argument("--seed", type=int, default=0,
                   help="encoding/order seed, and for train the configuration seed whose initial "
                        "state training starts from (written to the board when the bitstream's "
                        "differs)")
    p.add_argument("--keep-state", action="store_true",
                   help="train: start from the state the board holds (e.g. after load), do not "
                        "write --seed's initial state")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr-decay-epochs", default="10,15",
                   help="epochs at whose start both learning rates halve (as tools.train)")
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--limit-val", type=int, default=None)
    p.add_argument("--limit-test", type=int, default=None)
    p.add_argument("--test", action="store_true",
                   help="train: evaluate the test split once after the last epoch (each epoch "
                        "reports the validation split)")
    p.add_argument("--index", type=int, default=0, help="infer: test sample index")
    p.add_argument("--out", help="dump: checkpoint file (.npz) to write")
    p.add_argument("--ckpt", help="load: checkpoint file (.npz) to write to the device")
    p.add_argument("--nir", help="load: NIR graph to quantise and write to the device (docs/nir.md)")
    p.add_argument("--ckpt-out", help="train: dump the trained state here afterwards")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--resident", action="store_true",
                   help="train: the data set goes to the board's store once and whole epochs run "
                        "on the board (a bitstream built with --resident; docs/resident.md)")
    args = p.parse_args(argv)
    if args.action == "upload":
        args.resident = True
    cfg = _config(args)
    if not (args.sim or args.port):
        p.error("give --port (or --sim)")
    transport = None
    try:
        if args.sim:
            transport = SimTransport(cfg.with_(seed=args.sim_seed),
                                     _sim_store_rows(args) if args.resident else None)
        else:
            transport = SerialTransport(args.port, args.baud)
        host = OpzoHost(transport)
        info = _check_device(host, cfg)
        if args.action == "ping":
            print(info)
        elif args.action == "train" and args.resident:
            from golden.data import load_dataset
            _prepare_training_state(host, cfg, info, args.keep_state)
            train_resident(host, cfg, load_dataset(args.data), args)
        elif args.action == "train":
            _prepare_training_state(host, cfg, info, args.keep_state)
            cmd_train(host, cfg, args)
        elif args.action == "upload":
            from golden.data import load_dataset
            ds = load_dataset(args.data)
            n_train, _, _ = store_info(host)
            n = upload(host, ds.x_train[:args.limit_train], ds.y_train[:args.limit_train], 0)
            n += upload(host, ds.x_val[:args.limit_val], ds.y_val[:args.limit_val], n_train)
            print(f"uploaded {args.data}: training and validation rows, {n} STORE commands, "
                  f"checksums verified")
        elif args.action == "eval":
            from golden.data import load_dataset
            acc, _ = _evaluate(host, cfg, load_dataset(args.data), args)
            print(f"test accuracy {100 * acc:.2f} %")
        elif args.action == "infer":
            from golden.data import load_dataset
            from golden.encoding import TEST, encode
            ds = load_dataset(args.data)
            x = ds.x_test[args.index:args.index + 1]
            spikes = encode(cfg.encoding, x, cfg.timesteps, seed=args.seed, split=TEST,
                            levels=cfg.encoding_levels)
            pred, totals = host.run_sample(spikes[0])
            print(f"test sample {args.index}: predicted {pred}, label {ds.y_test[args.index]}, "
                  f"totals {totals}")
        elif args.action == "dump":
            if not args.out:
                p.error("dump needs --out")
            host.dump(args.out)
            print(f"wrote {args.out}")
        elif args.action == "load" and args.nir:
            cmd_load_nir(host, cfg, args.nir)
            print(f"loaded {args.nir}")
        elif args.action == "load":
            if not args.ckpt:
                p.error("load needs --ckpt (or --nir)")
            host.load(args.ckpt)
            print(f"loaded {args.ckpt}")
    except (LinkFailure, ResidentError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if transport is not None:
            transport.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
