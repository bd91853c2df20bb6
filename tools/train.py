"""Train the online SNN on digits, Yin-Yang or MNIST, float or fixed point, and report accuracy.

Example::

    python -m tools.train --data digits --method opzo --model fixed --epochs 20 --test --json out.json

Every epoch reports the validation accuracy; the test split is evaluated only with
``--test`` (once, after the last epoch).  Unless ``--untuned`` is given, the
hyperparameters chosen on validation for this data set, model and method
(``tools/tuned.py``) are applied on top of the preset; ``--set`` overrides both.

The fixed-point model is the chip (bit-exact with the RTL); the float model is the
reference with its baselines.  Both are built from the same configuration preset
(``--config``, default: the preset named like ``--data``), use the same encoding, data
order and learning-rate schedule, and are trained online, one sample at a time, with
weight updates at every time step.

Schedule: ``--lr-decay-epochs 10,15`` halves both learning rates at the start of epochs
10 and 15 (on the chip: each learning-rate shift grows by one, a parameter the host writes).
"""

import argparse
import json
import sys
import time

import numpy as np

from golden.config import PRESETS, CoreConfig, parse_overrides, preset
from golden.core import FIXED_METHODS, FixedCore
from golden.data import DATASETS, load_dataset
from golden.encoding import TEST, TRAIN, VAL, encode
from golden.float_reference import METHODS as FLOAT_METHODS, FloatNetwork
from golden.input_encoding import encoder_lanes, encoder_seeds, quantise_pixels, spikes_from_states
from golden.sample_order import SampleOrder
from tools.tuned import tuned_overrides

METHODS = tuple(dict.fromkeys(FLOAT_METHODS + FIXED_METHODS))

__all__ = ["train", "main", "build_model"]

DEFAULT_DECAY = (10, 15)


def build_model(cfg, method, model):
    if model == "fixed":
        return FixedCore(cfg, method)
    if model == "float":
        return FloatNetwork.from_config(cfg, method)
    raise ValueError(f"model must be 'float' or 'fixed', got {model!r}")


def _scale_learning_rates(net, cfg, halvings, model):
    """Apply ``halvings`` halvings of both learning rates to a model built from ``cfg``."""
    if model == "fixed":
        net.cfg = cfg.with_(hidden_lr_shift=cfg.hidden_lr_shift + halvings,
                            readout_lr_shift=cfg.readout_lr_shift + halvings)
    else:
        base = FloatNetwork.from_config(cfg, net.method)
        net.set_learning_rates(base.lr_hidden / 2 ** halvings, base.lr_readout / 2 ** halvings)


def train(data="digits", method="opzo", model="fixed", *, config=None, epochs=20, seed=0,
          overrides=None, lr_decay_epochs=DEFAULT_DECAY, limit_train=None, limit_val=None,
          limit_test=None, test=False, tuned=True, progress=True, on_epoch=None, dataset=None,
          net=None, refit=False):
    """Train, validate every epoch, and (``test=True``) evaluate the test split once at the end.

    Returns the result dictionary written by ``--json``.  ``tuned``: apply the validation-
    chosen fields of ``tools/tuned.py`` under ``overrides``.  ``progress``: True for a
    progress bar, ``"lines"`` for one line per epoch on stderr, False for silence.  ``net``:
    a ready model to train instead of building one from the configuration (used by analyses
    that instrument the model).  ``refit``: after the hyperparameters were chosen on
    validation, train on the training and validation splits together and evaluate the test
    split (needs ``test``); no validation accuracy is reported (``val_accuracy`` None).
    """
    if data not in DATASETS:
        raise ValueError(f"data must be one of {DATASETS}, got {data!r}")
    if model not in ("float", "fixed"):
        raise ValueError(f"model must be 'float' or 'fixed', got {model!r}")
    if model == "fixed" and method not in FIXED_METHODS:
        raise ValueError(f"the fixed-point model implements only {FIXED_METHODS}, got method {method!r}")
    if model == "float" and method not in FLOAT_METHODS:
        raise ValueError(f"the float model implements only {FLOAT_METHODS}, got method {method!r}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if refit and not test:
        raise ValueError("refit trains on the validation split too, so it needs test=True "
                         "(--test): there is nothing held out to validate on")
    fields = tuned_overrides(data, model, method) if tuned else {}
    fields.update(overrides or {})
    cfg = preset(config or data, seed=seed, **fields)
    ds = dataset or load_dataset(data)
    width = ds.n_features * (cfg.encoding_levels if cfg.encoding == "thermometer" else 1)
    if cfg.encoding == "thermometer" and "encoding_levels" in fields and "n_inputs" not in fields:
        # a thermometer code's resolution is a searched choice (tools.tune --grid
        # encoding_levels=...): the input layer is as wide as the code it is given
        cfg = cfg.with_(n_inputs=width)
    if width != cfg.n_inputs:
        raise ValueError(f"config {cfg.name!r} has n_inputs = {cfg.n_inputs} but data {data!r} "
                         f"encodes to {width} inputs")
    if ds.n_classes != cfg.n_outputs:
        raise ValueError(f"config {cfg.name!r} has n_outputs = {cfg.n_outputs} but data {data!r} "
                         f"has {ds.n_classes} classes")
    x_train, y_train = ds.x_train[:limit_train], ds.y_train[:limit_train]
    x_val, y_val = ds.x_val[:limit_val], ds.y_val[:limit_val]
    if refit:
        x_train, y_train = np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])
    enc = dict(seed=seed, levels=cfg.encoding_levels)
    # lfsr_rate is the resident board's code: its training order is the on-chip shuffle,
    # its train bank draws in feed order, and every evaluation uses the evaluation (test) bank
    resident = cfg.encoding == "lfsr_rate"
    eval_split = TEST if resident else VAL
    val_spikes = encode(cfg.encoding, x_val, cfg.timesteps, split=eval_split, **enc)
    if resident:
        board_order = SampleOrder(len(x_train), cfg.seed)
        q_train = quantise_pixels(x_train)
        bank = encoder_seeds(cfg.seed, TRAIN, encoder_lanes(cfg.n_inputs))
    if net is None:
        net = build_model(cfg, method, model)
    order_rng = np.random.default_rng([seed, 3])
    history = []
    train_time = 0.0
    n_trained = 0
    bar = None
    if progress is True:
        from tqdm import tqdm
        bar = tqdm(total=epochs * len(x_train), unit="sample", file=sys.stderr,
                   desc=f"{model} {method} {data}")
    for epoch in range(epochs):
        halvings = sum(epoch >= e for e in lr_decay_epochs)
        _scale_learning_rates(net, cfg, halvings, model)
        if resident:
            order = board_order.shuffle(len(x_train)).copy()
            fed, bank = spikes_from_states(q_train[order], cfg.timesteps, bank)
            spikes = {int(i): fed[j] for j, i in enumerate(order)}
        else:
            spikes = encode(cfg.encoding, x_train, cfg.timesteps, split=TRAIN, epoch=epoch, **enc)
            order = order_rng.permutation(len(x_train))
        correct = 0
        t0 = time.perf_counter()
        for i in order:
            correct += net.run_sample(spikes[i], int(y_train[i]), train=True) == y_train[i]
            if bar is not None:
                bar.update(1)
        train_time += time.perf_counter() - t0
        n_trained += len(order)
        val_acc = None if refit else net.evaluate(val_spikes, y_val)[0]
        record = {"epoch": epoch + 1, "val_accuracy": val_acc,
                  "train_accuracy": correct / len(order)}
        history.append(record)
        line = (f"epoch {epoch + 1:3d}/{epochs}: "
                + ("" if refit else f"validation {100 * val_acc:6.2f} %  ")
                + f"train (online) {100 * record['train_accuracy']:6.2f} %")
        if bar is not None and not refit:
            bar.set_postfix(val=f"{val_acc:.4f}")
        if bar is not None:
            bar.write(line, file=sys.stderr)
        elif progress == "lines":
            print(line, file=sys.stderr, flush=True)
        if on_epoch is not None:
            on_epoch(record, net)
    if bar is not None:
        bar.close()
    result = {
        "data": data, "method": method, "model": model, "config": cfg.name,
        "epochs": epochs, "seed": seed,
        "val_accuracy": history[-1]["val_accuracy"],
        "train_accuracy": history[-1]["train_accuracy"],
        "samples_per_second": n_trained / train_time if train_time > 0 else float("inf"),
        "n_train": len(x_train), "n_val": 0 if refit else len(x_val), "refit": bool(refit),
        "lr_decay_epochs": list(lr_decay_epochs),
        "tuned_fields": tuned_overrides(data, model, method) if tuned else {},
        "history": history,
        "config_fields": cfg.to_dict(),
    }
    if test:
        x_test, y_test = ds.x_test[:limit_test], ds.y_test[:limit_test]
        test_spikes = encode(cfg.encoding, x_test, cfg.timesteps, split=TEST, **enc)
        test_acc, preds = net.evaluate(test_spikes, y_test)
        result.update(test_accuracy=test_acc, n_test=len(x_test),
                      confusion=_confusion(y_test, preds, cfg.n_outputs))
    return result


def _confusion(y, preds, m):
    c = np.zeros((m, m), dtype=np.int64)
    np.add.at(c, (np.asarray(y), preds), 1)
    return c.tolist()


def _parse_epochs(text):
    return tuple(int(v) for v in text.split(",") if v.strip())


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=DATASETS, default="digits")
    p.add_argument("--method", choices=METHODS, default="opzo",
                   help="learning rule for the hidden layers (fixed model: opzo, readout and "
                        "the ablations m_random_frozen, m_zero_frozen)")
    p.add_argument("--model", choices=("float", "fixed"), default="fixed")
    p.add_argument("--config", choices=sorted(PRESETS), default=None,
                   help="configuration preset (default: the one named like --data)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="override a configuration field, e.g. --set hidden=64,64 (repeatable)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr-decay-epochs", type=_parse_epochs, default=DEFAULT_DECAY,
                   help="epochs (0-based) at whose start both learning rates halve; '' for none")
    p.add_argument("--limit-train", type=int, default=None, help="use only the first N training samples")
    p.add_argument("--limit-val", type=int, default=None, help="use only the first N validation samples")
    p.add_argument("--limit-test", type=int, default=None, help="use only the first N test samples")
    p.add_argument("--test", action="store_true",
                   help="evaluate the test split once after the last epoch (final tables only)")
    p.add_argument("--refit", action="store_true",
                   help="with --test: train on the training and validation splits together (the "
                        "hyperparameters stay the ones chosen on validation)")
    p.add_argument("--untuned", action="store_true",
                   help="use the preset as is, without the validation-chosen fields of tools/tuned.py")
    p.add_argument("--json", metavar="PATH", help="write the result dictionary here")
    p.add_argument("--ckpt", metavar="PATH",
                   help="fixed model: write the trained state as an .npz checkpoint (the keys of "
                        "'boards.ulx3s.host dump' plus CONFIG)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (one line per epoch instead)")
    args = p.parse_args(argv)
    if args.ckpt and args.model != "fixed":
        p.error("--ckpt needs --model fixed (a checkpoint holds the core's integer state)")
    last = {}
    try:
        result = train(args.data, args.method, args.model, config=args.config, epochs=args.epochs,
                       seed=args.seed, overrides=parse_overrides(args.set),
                       lr_decay_epochs=args.lr_decay_epochs, limit_train=args.limit_train,
                       limit_val=args.limit_val, limit_test=args.limit_test, test=args.test,
                       tuned=not args.untuned, progress="lines" if args.no_progress else True,
                       refit=args.refit,
                       on_epoch=lambda record, net: last.update(net=net))
    except (ValueError, ImportError) as exc:
        p.error(str(exc))
    if args.ckpt:
        from golden.checkpoint import core_checkpoint, save_checkpoint
        net = last["net"]
        save_checkpoint(args.ckpt, core_checkpoint(net.cfg, net.weights, net.feedback,
                                                   net.baseline, net.lfsr.states))
    test = f"test {100 * result['test_accuracy']:.2f} %, " if args.test else ""
    val = ("trained on train + validation" if args.refit
           else f"validation {100 * result['val_accuracy']:.2f} %")
    print(f"{args.model} {args.method} on {args.data} (seed {args.seed}): {val}, {test}"
          f"train {100 * result['train_accuracy']:.2f} %, {result['samples_per_second']:.1f} samples/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
