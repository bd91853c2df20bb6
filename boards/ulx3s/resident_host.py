"""Host side of resident training: upload the data set once, then whole epochs on the board.

The board (a bitstream built with ``--resident``) holds the data set in its store
(golden/resident_protocol.py); per epoch the host sends four short commands (CLEAR, SHUFFLE,
RUN train, RUN on the validation rows) plus the learning-rate shifts, and reads the counters:
no sample crosses the link after the upload.  Training reproduces
``python -m tools.train --model fixed --set encoding=lfsr_rate`` for the same data, seed and
epochs (the same on-chip order and spike draws).
"""

import sys
import time

from golden.input_encoding import quantise_pixels
from golden.protocol import Status, parse_response
from golden.resident_protocol import ResOp, expected_checksum, header, store_commands

from .driver import LinkFailure

__all__ = ["ResidentError", "store_info", "upload", "run", "counters", "train_resident"]


class ResidentError(RuntimeError):
    """The board cannot do what was asked (no store, data set too large, bad checksum)."""


def _ok(rsp, what):
    op, status, count = parse_response(rsp[0])
    if status != Status.OK:
        raise ResidentError(f"{what}: the board answered {status.name}")
    return rsp[1:1 + count]


def store_info(host):
    """``(n_train, n_test, n_inputs)`` rows of the board's store; refuses a board without one."""
    rsp = host.command([header(ResOp.STORE_INFO)])
    if parse_response(rsp[0])[1] != Status.OK:
        raise ResidentError("this bitstream has no data set store (STORE_INFO answered "
                            f"{parse_response(rsp[0])[1].name}); build it with "
                            "python -m rtl.build --resident DATA")
    n_train, n_test, n_inputs = rsp[1:4]
    return n_train, n_test, n_inputs


def upload(host, x, y, first_row, *, progress=None, retries=3):
    """Write rows ``first_row ..`` (features ``x`` in [0, 1], labels ``y``) and verify the
    board's checksum of what it stored.  Returns the number of STORE commands.

    A packet the link rejects (corrupted on the way: it changes nothing, and the driver
    resynchronises) restarts the upload, checksum included, at most ``retries`` times: the
    packets before it were stored and counted, so only a whole second pass gives a checksum
    the host can predict."""
    q = quantise_pixels(x)
    cmds = store_commands(q, y, first_row)
    s1, s2 = expected_checksum(q, y, first_row)
    for attempt in range(retries + 1):
        try:
            host.command([header(ResOp.CHECKSUM, flag=True)])      # zero the running checksum
            chunk = 512
            for start in range(0, len(cmds), chunk):
                for rsp in host.execute(cmds[start:start + chunk]):
                    _ok(rsp, f"STORE into rows {first_row}..{first_row + len(q) - 1}")
                if progress:
                    progress(min(start + chunk, len(cmds)), len(cmds))
            (got,) = _ok(host.command([header(ResOp.CHECKSUM)]), "CHECKSUM")
            break
        except LinkFailure:
            if attempt == retries:
                raise
    if got != (s2 << 16 | s1):
        raise ResidentError(f"store checksum 0x{got:08x} differs from the data sent "
                            f"(0x{s2 << 16 | s1:08x}): upload again")
    return len(cmds)


def run(host, train, count):
    """One run of ``count`` samples; waits for the board (the link timeout grows with it)."""
    saved = host.timeout
    host.timeout = max(saved, 2.0 + count * 0.01)
    try:
        _ok(host.command([header(ResOp.RUN, count, flag=train)]),
            f"RUN {'train' if train else 'test'} {count}")
    finally:
        host.timeout = saved


def counters(host):
    keys = ("train_seen", "train_correct", "test_seen", "test_correct", "errors")
    return dict(zip(keys, _ok(host.command([header(ResOp.COUNTERS)]), "COUNTERS")))


def train_resident(host, cfg, ds, args, out=None):
    """Upload train and validation rows, train ``args.epochs`` epochs on the board, report
    validation and online training accuracy per epoch (and test once with ``args.test``)."""
    out = out or sys.stdout
    if cfg.encoding != "lfsr_rate":
        raise ResidentError(f"resident training encodes on chip (lfsr_rate); the configuration "
                            f"uses {cfg.encoding!r}: pass --set encoding=lfsr_rate")
    x, y = ds.x_train[:args.limit_train], ds.y_train[:args.limit_train]
    xv, yv = ds.x_val[:args.limit_val], ds.y_val[:args.limit_val]
    xt, yt = ds.x_test[:args.limit_test], ds.y_test[:args.limit_test]
    n_train, n_test, n_inputs = store_info(host)
    if n_inputs != cfg.n_inputs:
        raise ResidentError(f"the store holds {n_inputs} inputs per row, the configuration {cfg.n_inputs}")
    need_test = max(len(xv), len(xt) if args.test else 0)
    if len(x) > n_train or need_test > n_test:
        raise ResidentError(f"the data set does not fit the board's store: {len(x)} training rows "
                            f"(store: {n_train}) and {need_test} validation/test rows (store: "
                            f"{n_test}); nothing was written")
    t0 = time.perf_counter()
    n = upload(host, x, y, 0) + upload(host, xv, yv, n_train)
    print(f"uploaded {len(x)} training and {len(xv)} validation rows ({n} STORE commands, "
          f"checksums verified) in {time.perf_counter() - t0:.1f} s", file=out, flush=True)
    decay = [int(e) for e in args.lr_decay_epochs.split(",") if e.strip()]
    history = []
    for epoch in range(args.epochs):
        host.set_lr_halvings(cfg, sum(epoch >= e for e in decay))
        first = epoch == 0           # epoch 0 starts from the seeds: identity order, train bank
        host.command([header(ResOp.CLEAR, flag=first)])
        host.command([header(ResOp.SHUFFLE, len(x), flag=first)])
        t1 = time.perf_counter()
        run(host, True, len(x))
        rate = len(x) / (time.perf_counter() - t1)
        run(host, False, len(xv))
        c = counters(host)
        rec = {"epoch": epoch + 1, "val_accuracy": c["test_correct"] / len(xv),
               "train_accuracy": c["train_correct"] / len(x), "samples_per_second": rate,
               "errors": c["errors"]}
        history.append(rec)
        print(f"epoch {epoch + 1:3d}/{args.epochs}: validation {100 * rec['val_accuracy']:6.2f} %  "
              f"train (online) {100 * rec['train_accuracy']:6.2f} %  {rate:.1f} samples/s",
              file=out, flush=True)
    if args.test:                    # the test split once, after training, into the same rows
        upload(host, xt, yt, n_train)
        host.command([header(ResOp.CLEAR)])
        run(host, False, len(xt))
        acc = counters(host)["test_correct"] / len(xt)
        history[-1]["test_accuracy"] = acc
        print(f"test {100 * acc:6.2f} %", file=out, flush=True)
    return history
