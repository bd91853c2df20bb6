"""Export (:func:`to_nir`): ``Input -> Linear -> LIF -> ... -> Linear -> I -> Output``,
weights ``W_int / 2^frac_bits`` (exact in float64), and the graph's metadata saying what
NIR's node equations cannot: the subtractive reset, the ``>=`` spike condition, the
readout summed over ``timesteps`` steps and its argmax, the input encoding, the training
noise, the fixed-point rounding (see :data:`SEMANTICS` and docs/nir.md).

The graph's conventions are in :mod:`golden.nir_graph` (docs/nir.md).
"""

import json

import numpy as np

import nir

from .nir_graph import DEFAULT_DT, FORMAT, SEMANTICS

__all__ = ["to_nir", "write_nir"]


def _encoding_text(cfg):
    if cfg.encoding == "rate":
        return ("rate: spike[t, i] = U[t, i] < x_i for features x in [0, 1] (digits: pixel / 16), "
                "U = numpy.random.default_rng([seed, split, epoch]).random((N, T, F)); "
                "split 0 train, 1 test (epoch 0); golden/encoding.py")
    return (f"thermometer: spike[t, f * {cfg.encoding_levels} + k] = x_f * "
            f"{cfg.encoding_levels} >= k + 0.5, the same bits at every step; golden/encoding.py")


def to_nir(cfg, weights, dt=DEFAULT_DT):
    """The network of ``cfg`` with integer ``weights`` ``[W1 .. WL, W_out]`` as a NIR graph."""
    if len(weights) != cfg.n_hidden_layers + 1:
        raise ValueError(f"need {cfg.n_hidden_layers + 1} weight matrices for {list(cfg.sizes)}, "
                         f"got {len(weights)}")
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt!r}")
    scale = float(1 << cfg.frac_bits)
    k = cfg.leak_shift
    nodes = {"input": nir.Input(input_type={"input": np.array([cfg.n_inputs])})}
    edges = []
    prev = "input"
    for l, n in enumerate(cfg.hidden):
        w = np.asarray(weights[l])
        if w.shape != (n, cfg.sizes[l]):
            raise ValueError(f"W{l + 1} has shape {w.shape}, expected {(n, cfg.sizes[l])}")
        fc, lif = f"fc{l + 1}", f"lif{l + 1}"
        nodes[fc] = nir.Linear(weight=w.astype(np.float64) / scale)
        # tau = dt / (1 - lambda) = dt * 2^k; r = tau / dt makes the input gain dt*r/tau = 1.
        nodes[lif] = nir.LIF(tau=np.full(n, dt * 2.0 ** k), r=np.full(n, 2.0 ** k),
                             v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n),
                             metadata={"leak_shift": k, "lambda": 1.0 - 2.0 ** -k})
        edges += [(prev, fc), (fc, lif)]
        prev = lif
    w = np.asarray(weights[-1])
    m = cfg.n_outputs
    if w.shape != (m, cfg.hidden[-1]):
        raise ValueError(f"W_out has shape {w.shape}, expected {(m, cfg.hidden[-1])}")
    nodes["fc_out"] = nir.Linear(weight=w.astype(np.float64) / scale)
    # dv/dt = r I with r = 1 / dt: one Euler step adds exactly this step's readout.
    nodes["readout"] = nir.I(r=np.full(m, 1.0 / dt))
    nodes["output"] = nir.Output(output_type={"output": np.array([m])})
    edges += [(prev, "fc_out"), ("fc_out", "readout"), ("readout", "output")]
    metadata = {"producer": "opzo-core", "format": FORMAT, "dt": float(dt),
                "timesteps": cfg.timesteps, **SEMANTICS,
                "input_encoding": _encoding_text(cfg),
                "opzo_config": json.dumps(cfg.to_dict())}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def write_nir(path, cfg, weights, dt=DEFAULT_DT):
    """Export and write with ``nir.write``; returns the graph."""
    graph = to_nir(cfg, weights, dt)
    nir.write(path, graph)
    return graph
