"""The comparison report's measured parts: each ``part_*`` runs what its section tables
(:mod:`sim.compare` for ``rtl``, :func:`tools.train.train` for ``learning`` and ``inside``,
:func:`tools.cpu_bench.bench` for ``throughput``) or reads a named artifact (the ULX3S build
summaries for ``fpga``, the committed soak record), and returns plain data for
:mod:`sim.report` to keep in ``report.json``.
"""

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

__all__ = ["METHOD_RUNS", "part_rtl", "part_learning", "part_inside", "part_fpga",
           "part_throughput", "read_soak"]

METHOD_RUNS = (("fixed", "opzo"), ("fixed", "readout"), ("float", "opzo"), ("float", "bp"),
               ("float", "dfa"), ("float", "zo"), ("float", "readout"))


def _compare_command(cfg, base_name, samples, source):
    """The sim.compare command line that reproduces one comparison."""
    from golden.config import PRESETS
    base = PRESETS[base_name]
    args = [f"--config {base_name}", f"--samples {samples}", "--check sample"]
    if source == "random":
        args.append("--source random")
    for key, value in cfg.to_dict().items():
        if key == "name" or value == base.to_dict()[key]:
            continue
        if key == "hidden":
            args.append("--hidden " + ",".join(map(str, value)))
        elif key == "lanes":
            args.append(f"--lanes {value}")
        else:
            args.append(f"--set {key}={value}")
    return "python -m sim.compare " + " ".join(args)


def _rtl_config(name):
    from golden.config import preset
    if name == "tiny":
        return preset("digits").with_(name="tiny", n_inputs=8, hidden=(6,), n_outputs=3, lanes=2,
                      timesteps=3, feedback_init="random", hidden_lr_shift=3,
                      antithetic=False)
    if name == "awkward":
        return preset("yinyang").with_(name="awkward", n_inputs=21, hidden=(13, 7), n_outputs=3,
                      lanes=4, timesteps=4, feedback_init="random", hidden_lr_shift=3)
    return preset(name)


def part_rtl(size, build_base):
    from sim.compare import compare
    rows = []
    for name in size["rtl_configs"]:
        cfg = _rtl_config(name)
        source = name if name in ("digits", "yinyang") else "random"
        r = compare(cfg, samples=size["rtl_samples"], source=source, check="sample",
                    build_base=build_base)
        base = name if name in ("digits", "yinyang") else ("digits" if name == "tiny" else "yinyang")
        r["command"] = _compare_command(cfg, base, size["rtl_samples"], source)
        rows.append(r)
    return rows


# module level, so that the process pool of part_learning can pickle it
def _train_one(args):
    from tools.train import train
    data, model, method, seed, epochs, limit_train, limit_test = args
    r = train(data, method, model, epochs=epochs, seed=seed, limit_train=limit_train,
              limit_test=limit_test, test=True, progress=False)
    r.pop("config_fields", None)
    return r


def part_learning(size, workers):
    jobs = [(data, model, method, seed, size["epochs"], size["limit_train"][data],
             size["limit_test"][data])
            for data in ("digits", "yinyang") for model, method in METHOD_RUNS
            for seed in size["seeds"]]
    with ProcessPoolExecutor(workers) as pool:
        runs = list(pool.map(_train_one, jobs))
    table = []
    for data in ("digits", "yinyang"):
        for model, method in METHOD_RUNS:
            rs = [r for r in runs if (r["data"], r["model"], r["method"]) == (data, model, method)]
            acc = np.array([100 * r["test_accuracy"] for r in rs])
            curve = np.mean([[100 * h["val_accuracy"] for h in r["history"]] for r in rs], axis=0)
            table.append({"data": data, "model": model, "method": method,
                          "seeds": [r["seed"] for r in rs], "mean": float(acc.mean()),
                          "std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                          "min": float(acc.min()), "max": float(acc.max()),
                          "curve": curve.tolist(),
                          "samples_per_second": float(np.mean([r["samples_per_second"] for r in rs])),
                          "confusion": rs[-1]["confusion"]})
    limits = " ".join(f"--limit-train {v}" for v in [size["limit_train"]["digits"]] if v)
    command = (f"python -m tools.train --data D --model M --method X --epochs {size['epochs']} "
               f"--seed S {limits}").strip()
    return {"table": table, "command": command}


def part_inside(size):
    from golden.analysis import SignalProbe
    from golden.config import preset
    from tools.train import train
    out = {}
    for data in ("digits", "yinyang"):
        net = SignalProbe.from_config(preset(data))
        train(data, "opzo", "float", epochs=size["inside_epochs"], progress=False, net=net,
              limit_train=size["limit_train"][data], limit_val=size["limit_test"][data])
        steps = len(net.records) // net.n_hidden
        out[data] = {"summary": net.summary(max(1, steps // 40)), "spread": net.spread(),
                     "steps": steps, "epochs": size["inside_epochs"]}
    return out


def part_fpga(builds):
    rows = []
    for path in sorted(Path(builds).glob("*/summary.json")) if builds else []:
        s = json.loads(path.read_text())
        s["artifact"] = str(path)
        rows.append(s)
    return rows


def part_throughput(rtl_rows, fpga_rows):
    from tools.cpu_bench import bench
    cpu = bench("digits", samples=200, repeats=2)
    digits = next((r for r in rtl_rows if r["config"] == "digits"), None)
    if digits is None:
        digits = next((r for r in rtl_rows if r["cycles_per_timestep"]), None)
    build = next((b for b in fpga_rows if b.get("config") == (digits or {}).get("config")), None)
    out = {"cpu": cpu, "rtl": None}
    if digits:
        per_sample = digits["cycles_per_timestep"] * digits["config_fields"]["timesteps"]
        out["rtl"] = {"config": digits["config"], "cycles_per_timestep": digits["cycles_per_timestep"],
                      "cycles_per_sample": per_sample}
        if build and build.get("fmax_mhz"):
            sps = build["fmax_mhz"] * 1e6 / per_sample
            out["chip"] = {"fmax_mhz": build["fmax_mhz"], "samples_per_second": sps,
                           "speedup_vs_cpu": sps / cpu["train_samples_per_second"],
                           "artifact": build["artifact"]}
    return out


def read_soak(path):
    """The committed soak record (``python -m sim.soak --out``), or None."""
    path = Path(path)
    if not path.is_file():
        return None
    d = json.loads(path.read_text())
    return {"command": d["command"], "cycles": d["cycles"], "verified": d["verified"],
            "coverage": d["coverage"], "artifact": str(path)}

