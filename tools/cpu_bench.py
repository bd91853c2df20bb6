"""CPU benchmark of the fixed-point model: the software baseline the FPGA is compared with.

Example::

    python -m tools.cpu_bench --config digits --samples 500 --json bench.json

Trains the bit-exact fixed-point model (the same code the tests check by hand and the RTL
is compared with) online on real encoded data, in one process on one core, and reports
training and inference samples per second.  BLAS threads are pinned to one before NumPy
loads, so the number is a one-core number.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from golden.config import PRESETS, preset  # noqa: E402
from golden.core import FixedCore  # noqa: E402
from golden.data import load_dataset  # noqa: E402
from golden.encoding import TRAIN, encode  # noqa: E402

__all__ = ["bench", "main"]

_DATA_OF = {"digits": "digits", "yinyang": "yinyang", "mnist": "mnist"}


def bench(config="digits", samples=500, warmup=20, repeats=3, method="opzo"):
    """Best-of-``repeats`` samples/s for training and inference on ``samples`` samples."""
    cfg = preset(config)
    ds = load_dataset(_DATA_OF.get(config, "digits"))
    n = min(samples, len(ds.x_train))
    spikes = encode(cfg.encoding, ds.x_train[:n], cfg.timesteps, seed=cfg.seed, split=TRAIN,
                    levels=cfg.encoding_levels)
    labels = [int(v) for v in ds.y_train[:n]]

    def timed(train):
        core = FixedCore(cfg, method)
        for i in range(min(warmup, n)):
            core.run_sample(spikes[i], labels[i], train=train)
        t0 = time.perf_counter()
        for i in range(n):
            core.run_sample(spikes[i], labels[i], train=train)
        return n / (time.perf_counter() - t0)

    train_sps = max(timed(True) for _ in range(repeats))
    infer_sps = max(timed(False) for _ in range(repeats))
    return {
        "config": cfg.name, "method": method, "samples": n, "timesteps": cfg.timesteps,
        "train_samples_per_second": train_sps,
        "train_timesteps_per_second": train_sps * cfg.timesteps,
        "infer_samples_per_second": infer_sps,
        "cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
        "numpy": np.__version__, "threads": 1,
    }


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.cpu_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", choices=sorted(PRESETS), default="digits")
    p.add_argument("--samples", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    if args.samples < 1 or args.repeats < 1:
        p.error("--samples and --repeats must be >= 1")
    r = bench(args.config, args.samples, repeats=args.repeats)
    print(f"fixed-point model, config {r['config']}, one core: "
          f"train {r['train_samples_per_second']:.1f} samples/s "
          f"({r['train_timesteps_per_second']:.0f} time steps/s), "
          f"inference {r['infer_samples_per_second']:.1f} samples/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
