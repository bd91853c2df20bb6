"""The core's network as a NIR graph (Neuromorphic Intermediate Representation), both ways.

NIR (https://neuroir.org, package ``nir``) describes a spiking network in continuous time;
every simulator or chip that reads it discretises it with its own time step ``dt``.  The
core is discrete: per hidden layer and time step (docs/fixed_point.md, real units with
``V_th = 1``)::

    u = lambda * (u - s) + W s_prev,   lambda = 1 - 2^-leak_shift,   s = (u >= 1)

The forward-Euler step of NIR's LIF, ``tau dv/dt = (v_leak - v) + r I``, is
``v += dt / tau * (v_leak - v + r I)``; with ``tau = dt / (1 - lambda)``, ``r = tau / dt``
and ``v_leak = 0`` it is ``v = lambda v + I``, the core's update (the convention snnTorch
uses for its exports).  The readout ``total += W_out s_L`` is NIR's integrator ``I`` with
``r = 1 / dt``.

Export (:func:`to_nir`): ``Input -> Linear -> LIF -> ... -> Linear -> I -> Output``,
weights ``W_int / 2^frac_bits`` (exact in float64), and the graph's metadata saying what
NIR's node equations cannot: the subtractive reset, the ``>=`` spike condition, the
readout summed over ``timesteps`` steps and its argmax, the input encoding, the training
noise, the fixed-point rounding (see :data:`SEMANTICS` and docs/nir.md).

Import (:func:`from_nir`): a chain of ``Linear``/``Affine`` (zero bias) layers with
``LIF``, ``IF`` or ``CubaLIF`` neurons and a readout (``I``, or none) becomes a
:class:`~golden.config.CoreConfig` and integer weights; each real weight is scaled into
threshold units (``W * dt * r / tau / v_threshold`` per neuron), rounded to nearest and
saturated, and the error is reported per layer.  Whatever the core cannot hold is refused
with :class:`NirImportError` naming the node.
"""

import json
import math
from dataclasses import dataclass, field

import numpy as np

import nir

from .arith import saturate, smax
from .checkpoint import config_from_json
from .config import PRESETS

__all__ = ["DEFAULT_DT", "SEMANTICS", "NirFormatError", "NirImportError", "LayerError",
           "ImportResult", "to_nir", "write_nir", "read_graph", "from_nir", "format_report"]

# dt of the exported graph.  The core's time step has no physical duration; only the ratios
# tau / dt matter.  1e-4 s is snnTorch's export default, so its importer sees familiar values.
DEFAULT_DT = 1e-4
FORMAT = "opzo-core/nir 1"
MAX_LAYER = 4096        # CoreConfig.validate: n_inputs and hidden sizes
MAX_HIDDEN_LAYERS = 3
MAX_OUTPUTS = 256
MIN_OUTPUTS = 2
LEAK_SHIFTS = range(1, 9)   # CoreConfig.validate: leak_shift in [1, 8]
_TOL = 1e-6             # relative tolerance for "this time constant is a power of two"

# What the node equations of NIR cannot say about the core, written into the metadata of
# every exported graph (a reader that honours these keys reproduces the core exactly, up to
# the fixed-point rounding named in "fixed_point").
SEMANTICS = {
    "reset": "subtract",
    "reset_note": ("at a spike the membrane drops by v_threshold (v -= v_threshold), it is "
                   "not set to v_reset; v_reset is unused"),
    "spike_condition": ">=",
    "spike_note": "a neuron spikes when v >= v_threshold (NIR's node equations say v > v_threshold)",
    "readout": "sum",
    "readout_note": ("the readout integrator I sums W_out s over the sample's timesteps, "
                     "starting from 0; the prediction is the index of the largest sum "
                     "(lowest index wins a tie); every state starts at 0 for each sample"),
    "noise": ("training only: the core adds sigma * z (z = +/-1 from an LFSR bank, sigma = "
              "V_th >> noise_shift) to the membrane before the threshold; inference, which "
              "this graph describes, has no noise"),
    "fixed_point": ("weights are integers / 2^frac_bits exactly; the chip floors the leak "
                    "(u - ceil(u * 2^-leak_shift)), saturates the membrane to membrane_bits "
                    "and the readout to output_bits; the float graph does neither"),
}


class NirFormatError(ValueError):
    """The file is not a readable NIR graph."""


class NirImportError(ValueError):
    """A NIR graph the core cannot hold; ``node`` names the node at fault."""

    def __init__(self, node, reason):
        self.node = node
        self.reason = reason
        super().__init__(f"node {node!r}: {reason}")


# --- export ------------------------------------------------------------------------------

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


# --- reading -----------------------------------------------------------------------------

def read_graph(path):
    """``nir.read`` with one clear error (:class:`NirFormatError`) for whatever is not a graph."""
    try:
        graph = nir.read(path)
    except FileNotFoundError:
        raise NirFormatError(f"{path}: no such file") from None
    except KeyError as exc:
        raise NirFormatError(f"{path}: an HDF5 file but not a NIR graph (missing {exc})") from None
    except OSError as exc:
        raise NirFormatError(f"{path}: not a NIR file (NIR files are HDF5, written by nir.write; "
                             f"{exc})") from None
    except Exception as exc:      # noqa: BLE001 -- nir raises anything from a damaged graph
        raise NirFormatError(f"{path}: a corrupt or unsupported NIR graph "
                             f"({type(exc).__name__}: {exc})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise NirFormatError(f"{path}: holds a single {type(graph).__name__} node, not a NIRGraph")
    return graph


# --- import ------------------------------------------------------------------------------

@dataclass
class LayerError:
    """Quantisation error of one weight matrix, in threshold units (V_th = 1)."""

    name: str
    shape: tuple
    max_abs_weight: float
    max_abs_error: float
    rms_error: float
    saturated: int


@dataclass
class ImportResult:
    cfg: object
    weights: list
    layers: list
    dt: float
    notes: list = field(default_factory=list)

    def core(self, method="opzo"):
        """A :class:`~golden.core.FixedCore` of this configuration holding these weights
        (feedback, baseline and LFSRs as a fresh core's), ready to evaluate or train on."""
        from .core import FixedCore
        core = FixedCore(self.cfg, method)
        core.weights = [w.copy() for w in self.weights]
        return core


_NEURONS = (nir.LIF, nir.IF, nir.CubaLIF)
_WEIGHTS = (nir.Linear, nir.Affine)
_REFUSED = {
    nir.Conv1d: "convolution: the core has only fully connected layers",
    nir.Conv2d: "convolution: the core has only fully connected layers",
    nir.SumPool2d: "pooling: the core has only fully connected layers",
    nir.AvgPool2d: "pooling: the core has only fully connected layers",
    nir.Delay: "synaptic delay: the core's layers act within the same time step",
    nir.LI: ("a leaky integrator: the core's readout sums without leak (use I) and its "
             "hidden neurons spike (use LIF)"),
    nir.CubaLI: ("a leaky integrator with synaptic current: the core's readout sums without "
                 "leak (use I)"),
    nir.Threshold: "a bare threshold: the core's neurons are LIF (use LIF)",
    nir.Scale: "a scaling node: fold it into the weights of the next Linear layer",
}


def _refuse(node, reason):
    raise NirImportError(node, reason)


def _chain(graph):
    """The node names from Input to Output, after checking the graph is a plain chain."""
    nodes = graph.nodes
    for name in sorted(nodes):
        node = nodes[name]
        if isinstance(node, nir.NIRGraph):
            _refuse(name, "a subgraph (recurrent layers are exported as subgraphs): the core "
                          "has only feed-forward layers")
        for cls, reason in _REFUSED.items():
            if type(node) is cls:
                _refuse(name, f"{type(node).__name__} is {reason}")
        if not isinstance(node, (nir.Input, nir.Output, nir.Flatten, nir.I) + _NEURONS + _WEIGHTS):
            _refuse(name, f"node type {type(node).__name__} is unknown to the core's mapping")
    succ = {n: [] for n in nodes}
    pred = {n: [] for n in nodes}
    for a, b in graph.edges:
        for end in (a, b):
            if end not in nodes:
                _refuse(end, f"edge ({a!r}, {b!r}) names a node the graph does not have")
        succ[a].append(b)
        pred[b].append(a)
    # A cycle is a recurrent connection; name the edge that closes it.
    state = dict.fromkeys(nodes, 0)

    def visit(n):
        state[n] = 1
        for m in succ[n]:
            if state[m] == 1:
                _refuse(m, f"recurrent edge {n!r} -> {m!r}: the core has only feed-forward layers")
            if state[m] == 0:
                visit(m)
        state[n] = 2
    for n in sorted(nodes):
        if state[n] == 0:
            visit(n)
    inputs = [n for n in sorted(nodes) if isinstance(nodes[n], nir.Input)]
    outputs = [n for n in sorted(nodes) if isinstance(nodes[n], nir.Output)]
    if len(inputs) != 1:
        _refuse(",".join(inputs) or "(none)", f"the core has one input, the graph {len(inputs)}")
    if len(outputs) != 1:
        _refuse(",".join(outputs) or "(none)", f"the core has one output, the graph {len(outputs)}")
    for n in sorted(nodes):
        if len(pred[n]) > 1:
            _refuse(n, f"{len(pred[n])} incoming edges ({', '.join(pred[n])}): the core's layers "
                       f"form a chain, one input each")
        if len(succ[n]) > 1:
            _refuse(n, f"{len(succ[n])} outgoing edges ({', '.join(succ[n])}): the core's layers "
                       f"form a chain")
    chain = [inputs[0]]
    while succ[chain[-1]]:
        chain.append(succ[chain[-1]][0])
    if chain[-1] != outputs[0]:
        _refuse(chain[-1], f"the chain from {inputs[0]!r} ends here, not at the output {outputs[0]!r}")
    extra = sorted(set(nodes) - set(chain))
    if extra:
        _refuse(extra[0], "not on the path from the input to the output")
    return chain


def _vector(name, node, attr, n):
    """A neuron parameter as a length-``n`` float vector (scalars broadcast)."""
    v = np.asarray(getattr(node, attr), dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.full(n, v[0])
    if v.size != n:
        _refuse(name, f"{attr} has {v.size} entries, the layer {n} neurons")
    if not np.all(np.isfinite(v)):
        _refuse(name, f"{attr} is not finite")
    return v


def _uniform(name, what, v):
    if not np.allclose(v, v[0], rtol=_TOL, atol=0.0):
        _refuse(name, f"{what} differs between its neurons ({v.min():.6g} .. {v.max():.6g}): "
                      f"the core has one leak for every neuron")
    return float(v[0])


def _resolve_dt(graph, chain, dt):
    """dt: given, else the graph's metadata, else tau / r of the first LIF (the convention
    r = tau / dt of snnTorch and of this module's export), else 1 / r of the first IF."""
    if dt is not None:
        return float(dt), "given"
    meta = graph.metadata or {}
    if "dt" in meta:
        return float(meta["dt"]), "from the graph's metadata"
    for name in chain:
        node = graph.nodes[name]
        if isinstance(node, (nir.LIF, nir.CubaLIF)):
            tau = node.tau if isinstance(node, nir.LIF) else node.tau_mem
            tau = float(np.asarray(tau, dtype=np.float64).reshape(-1)[0])
            r = float(np.asarray(node.r, dtype=np.float64).reshape(-1)[0])
            if r > 0 and tau > 0:
                return tau / r, f"inferred as tau / r of {name!r} (r = tau / dt)"
        if isinstance(node, nir.IF):
            r = float(np.asarray(node.r, dtype=np.float64).reshape(-1)[0])
            if r > 0:
                return 1.0 / r, f"inferred as 1 / r of {name!r} (input gain 1)"
    raise NirImportError(chain[0], "no dt: the graph has no neuron to infer it from; give dt")


def _neuron(name, node, n, dt, approx_leak, notes):
    """``(leak_shift, gain per neuron)`` of a neuron node; ``gain`` turns the incoming
    weights into threshold units (``dt r / tau / v_threshold``)."""
    r = _vector(name, node, "r", n)
    vth = _vector(name, node, "v_threshold", n)
    if np.any(vth <= 0):
        _refuse(name, "v_threshold must be > 0 (the core's threshold is positive)")
    if np.any(r <= 0):
        _refuse(name, "r must be > 0")
    v_reset = _vector(name, node, "v_reset", n)
    if isinstance(node, nir.IF):
        if not approx_leak:
            _refuse(name, "IF has no leak; the core's membrane always leaks by "
                          "lambda = 1 - 2^-leak_shift, leak_shift <= 8 (allow the approximation "
                          "lambda = 1 - 2^-8 with approx_leak / --approx-leak)")
        k = LEAK_SHIFTS[-1]
        notes.append(f"{name}: IF approximated by lambda = 1 - 2^-{k} = {1 - 2.0 ** -k:.6g}")
        gain = dt * r
    else:
        if isinstance(node, nir.CubaLIF):
            tau_syn = _uniform(name, "tau_syn", _vector(name, node, "tau_syn", n))
            # With tau_syn = dt one Euler step sets the current to w_in * input: no memory,
            # which is all the core can do (it has no synaptic state).
            if abs(tau_syn - dt) > _TOL * dt:
                _refuse(name, f"synaptic current with tau_syn = {tau_syn:.6g} s (alpha = "
                              f"{1 - dt / tau_syn:.6g} at dt = {dt:.6g}): the core has no synaptic "
                              f"state, only tau_syn = dt maps")
            tau = _vector(name, node, "tau_mem", n)
            w_in = _vector(name, node, "w_in", n)
        else:
            tau = _vector(name, node, "tau", n)
            w_in = np.ones(n)
        v_leak = _vector(name, node, "v_leak", n)
        if np.any(v_leak != 0):
            _refuse(name, f"v_leak = {v_leak[v_leak != 0][0]:.6g}: the core's membrane leaks "
                          f"toward 0")
        if np.any(tau <= 0):
            _refuse(name, "tau must be > 0")
        t = _uniform(name, "tau", tau)
        frac = dt / t                        # 1 - lambda of the Euler step
        k_real = -math.log2(frac) if frac > 0 else math.inf
        k = int(round(k_real))
        exact = abs(frac - 2.0 ** -k) <= _TOL * frac and k in LEAK_SHIFTS
        if not exact:
            why = (f"tau = {t:.6g} s at dt = {dt:.6g} s is lambda = 1 - dt / tau = {1 - frac:.6g}, "
                   f"not 1 - 2^-k for an integer k in [1, 8]: the core's leak is a shift")
            if not approx_leak:
                _refuse(name, why + " (allow the nearest with approx_leak / --approx-leak)")
            k = min(max(k, LEAK_SHIFTS[0]), LEAK_SHIFTS[-1])
            notes.append(f"{name}: {why}; approximated by k = {k} (lambda = {1 - 2.0 ** -k:.6g})")
        gain = w_in * dt * r / tau
    if np.any(v_reset != 0):
        notes.append(f"{name}: v_reset = {v_reset[v_reset != 0][0]:.6g} ignored; the core resets "
                     f"by subtracting the threshold")
    return k, gain / vth


def _quantise(name, w_real, cfg):
    """Round to nearest, saturate; the error table row."""
    scale = float(1 << cfg.frac_bits)
    w_int = saturate(np.rint(w_real * scale).astype(np.int64), cfg.weight_bits)
    err = w_int / scale - w_real
    sat = int(np.count_nonzero(np.abs(w_real * scale) > smax(cfg.weight_bits) + 0.5))
    row = LayerError(name, tuple(w_real.shape), float(np.abs(w_real).max(initial=0.0)),
                     float(np.abs(err).max(initial=0.0)),
                     float(np.sqrt(np.mean(err ** 2))) if err.size else 0.0, sat)
    return w_int, row


def from_nir(graph, base=None, *, dt=None, timesteps=None, approx_leak=False):
    """A :class:`ImportResult` (configuration, integer weights, error table) from a NIR graph
    or a file path.

    ``base`` gives every field the graph does not (widths, shifts, learning rates, seed,
    encoding); by default the configuration written by :func:`to_nir` into the metadata,
    else the ``digits`` preset.  The graph gives the sizes and the leak; ``timesteps`` is
    the argument, else the metadata's, else the base's.
    """
    if not isinstance(graph, nir.NIRGraph):
        graph = read_graph(graph)
    meta = graph.metadata or {}
    notes = []
    if base is None:
        if "opzo_config" in meta:
            try:
                base = config_from_json(meta["opzo_config"])
            except (ValueError, TypeError) as exc:
                raise NirFormatError(f"the graph's opzo_config metadata is not a valid "
                                     f"configuration ({exc})") from None
        else:
            base = PRESETS["digits"]
            notes.append("widths, shifts and learning rates from the digits preset")
    chain = _chain(graph)
    weight_nodes = [n for n in chain if isinstance(graph.nodes[n], _WEIGHTS)]
    if not weight_nodes:
        _refuse(chain[-1], "no weight layer between the input and the output")
    if not any(isinstance(graph.nodes[n], _NEURONS) for n in chain):
        _refuse(weight_nodes[0], "the core needs at least one hidden LIF layer")
    dt, dt_source = _resolve_dt(graph, chain, dt)
    if not dt > 0 or not math.isfinite(dt):
        raise NirImportError(chain[0], f"dt must be a positive number, got {dt!r}")
    if dt_source != "from the graph's metadata":
        notes.append(f"dt = {dt:.6g} s {dt_source}")
    if meta.get("producer") != "opzo-core":
        if meta.get("reset") != "subtract":
            notes.append("NIR does not say how a neuron resets; the core subtracts the "
                         "threshold (snnTorch's default); a graph trained with a reset to "
                         "v_reset behaves differently")

    nodes = graph.nodes
    size = None
    layers = []          # (weight node name, neuron node name or None, real weights)
    leak = None
    pending = None       # (name, weight matrix) waiting for its neuron or readout
    readout_gain = None
    for name in chain:
        node = nodes[name]
        if readout_gain is not None and not isinstance(node, nir.Output):
            _refuse(name, f"follows the readout integrator {readout_gain[0]!r}: only the output "
                          f"may (the core's readout is its last stage)")
        if isinstance(node, nir.Input):
            shape = np.asarray(node.input_type["input"]).reshape(-1)
            size = int(np.prod(shape))
            if shape.size != 1:
                notes.append(f"{name}: input shape {tuple(shape)} taken as {size} inputs "
                             f"in C order")
            continue
        if isinstance(node, nir.Flatten):
            if pending is not None or layers:
                _refuse(name, "Flatten after a weight layer: the core's layers are vectors")
            continue
        if isinstance(node, _WEIGHTS):
            if pending is not None:
                _refuse(name, f"follows the weight layer {pending[0]!r} without neurons between: "
                              f"the core alternates weights and LIF neurons")
            w = np.asarray(node.weight, dtype=np.float64)
            if w.ndim != 2:
                _refuse(name, f"weight has shape {w.shape}: the core's layers are 2-D matrices")
            if w.shape[1] != size:
                _refuse(name, f"weight has {w.shape[1]} inputs, the previous layer {size} outputs")
            if not np.all(np.isfinite(w)):
                _refuse(name, "weight is not finite")
            if isinstance(node, nir.Affine):
                b = np.asarray(node.bias, dtype=np.float64).reshape(-1)
                if np.any(b != 0):
                    _refuse(name, f"bias up to {np.abs(b).max():.6g}: the core has no bias")
            pending = (name, w)
            size = w.shape[0]
            continue
        if isinstance(node, _NEURONS):
            if pending is None:
                _refuse(name, "a neuron layer without a weight layer before it")
            k, gain = _neuron(name, node, size, dt, approx_leak, notes)
            if leak is not None and k != leak[1]:
                _refuse(name, f"leak_shift {k}, but {leak[0]!r} has {leak[1]}: the core has one "
                              f"leak for all layers")
            leak = leak or (name, k)
            layers.append((pending[0], name, pending[1] * gain[:, None]))
            pending = None
            continue
        if isinstance(node, nir.I):
            if pending is None:
                _refuse(name, "an integrator without a weight layer before it")
            r = _vector(name, node, "r", size)
            if np.any(r <= 0):
                _refuse(name, "r must be > 0 (a negative gain would flip the argmax)")
            readout_gain = (name, r * dt)
            continue
        if isinstance(node, nir.Output):
            if pending is None:
                prev = chain[chain.index(name) - 1]
                _refuse(prev, "the last layer must be a non-spiking readout (Linear -> I -> "
                              "Output): the core's readout sums W_out s over the steps")
            if readout_gain is None:
                notes.append(f"{pending[0]}: no integrator before the output; the core sums the "
                             f"readout over the timesteps and takes the argmax")
                gain = np.ones(size)
            else:
                gain = readout_gain[1]
            layers.append((pending[0], readout_gain[0] if readout_gain else None,
                           pending[1] * gain[:, None]))
            pending = None
    hidden = layers[:-1]
    if not hidden:
        _refuse(layers[-1][0], "the core needs at least one hidden LIF layer")
    if len(hidden) > MAX_HIDDEN_LAYERS:
        _refuse(hidden[MAX_HIDDEN_LAYERS][1], f"a hidden layer beyond the core's "
                                              f"{MAX_HIDDEN_LAYERS}")
    n_in = layers[0][2].shape[1]
    if n_in > MAX_LAYER:
        _refuse(chain[0], f"{n_in} inputs: the core takes at most {MAX_LAYER}")
    for wname, nname, w in hidden:
        if w.shape[0] > MAX_LAYER:
            _refuse(nname, f"{w.shape[0]} neurons: the core holds at most {MAX_LAYER} per layer")
    m = layers[-1][2].shape[0]
    if not MIN_OUTPUTS <= m <= MAX_OUTPUTS:
        _refuse(layers[-1][0], f"{m} outputs: the core has {MIN_OUTPUTS} to {MAX_OUTPUTS}")

    if timesteps is None:
        timesteps = int(meta["timesteps"]) if "timesteps" in meta else base.timesteps
    k = leak[1]
    changes = dict(n_inputs=int(n_in), hidden=tuple(int(w.shape[0]) for _, _, w in hidden),
                   n_outputs=int(m), leak_shift=int(k), timesteps=int(timesteps))
    # A trace settles at 2^(trace_frac_bits + k) - 1, so a longer leak needs a wider trace.
    if base.trace_bits < base.trace_frac_bits + k:
        changes["trace_bits"] = base.trace_frac_bits + k
        notes.append(f"trace_bits raised to {changes['trace_bits']} for leak_shift {k}")
    if any(getattr(base, f) != v for f, v in changes.items()):
        changes["name"] = "nir"
    try:
        cfg = base.with_(**changes)
    except ValueError as exc:
        raise NirImportError(chain[0], f"the resulting configuration is invalid: {exc}") from None

    weights, rows = [], []
    for l, (wname, nname, w) in enumerate(layers):
        if l == len(layers) - 1:
            # Only the argmax of the summed readout matters, so a readout too large for the
            # weight width is scaled down by a power of two instead of saturating.
            limit = smax(cfg.weight_bits) / float(1 << cfg.frac_bits)
            big = float(np.abs(w).max(initial=0.0))
            if big > limit:
                s = math.ceil(math.log2(big / limit))
                w = w * 2.0 ** -s
                notes.append(f"{wname}: readout scaled by 2^-{s} to fit {cfg.weight_bits}-bit "
                             f"weights (the argmax is unchanged)")
        label = f"{wname} -> {nname}" if nname else wname
        w_int, row = _quantise(label, w, cfg)
        weights.append(w_int)
        rows.append(row)
        if row.saturated:
            notes.append(f"{label}: {row.saturated} weights saturated at +/-"
                         f"{smax(cfg.weight_bits) / (1 << cfg.frac_bits):.4g} V_th")
    return ImportResult(cfg, weights, rows, dt, notes)


def format_report(result):
    """The quantisation error table (threshold units, V_th = 1) and the notes, as text."""
    cfg = result.cfg
    lsb = 1.0 / (1 << cfg.frac_bits)
    lines = [f"configuration {cfg.name!r}: {' -> '.join(map(str, cfg.sizes))}, "
             f"leak_shift {cfg.leak_shift} (lambda {1 - 2.0 ** -cfg.leak_shift:g}), "
             f"T = {cfg.timesteps}, dt = {result.dt:g} s",
             f"quantisation to {cfg.weight_bits}-bit weights, LSB = 2^-{cfg.frac_bits} V_th "
             f"= {lsb:.3g} (error in V_th):",
             f"  {'layer':<22} {'shape':>10} {'max |w|':>9} {'max err':>10} {'rms err':>10} "
             f"{'saturated':>9}"]
    for r in result.layers:
        shape = "x".join(map(str, r.shape))
        lines.append(f"  {r.name:<22} {shape:>10} {r.max_abs_weight:9.4f} {r.max_abs_error:10.3e} "
                     f"{r.rms_error:10.3e} {r.saturated:9d}")
    lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)
