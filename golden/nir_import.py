"""Import (:func:`from_nir`): a chain of ``Linear``/``Affine`` (zero bias) layers with
``LIF``, ``IF`` or ``CubaLIF`` neurons and a readout (``I``, or none) becomes a
:class:`~golden.config.CoreConfig` and integer weights; each real weight is scaled into
threshold units (``W * dt * r / tau / v_threshold`` per neuron), rounded to nearest and
saturated, and the error is reported per layer.  Whatever the core cannot hold is refused
with :class:`NirImportError` naming the node.

The graph's conventions are in :mod:`golden.nir_graph` (docs/nir.md).
"""

import math
from dataclasses import dataclass, field

import numpy as np

import nir

from .arith import saturate, smax
from .checkpoint import config_from_json
from .config import PRESETS
from .nir_graph import (LEAK_SHIFTS, MAX_HIDDEN_LAYERS, MAX_LAYER, MAX_OUTPUTS, MIN_OUTPUTS,
                        NEURONS, WEIGHTS, NirFormatError, NirImportError, TOL, node_chain, read_graph, refuse)

__all__ = ["LayerError", "ImportResult", "from_nir", "format_report"]


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


def _vector(name, node, attr, n):
    """A neuron parameter as a length-``n`` float vector (scalars broadcast)."""
    v = np.asarray(getattr(node, attr), dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.full(n, v[0])
    if v.size != n:
        refuse(name, f"{attr} has {v.size} entries, the layer {n} neurons")
    if not np.all(np.isfinite(v)):
        refuse(name, f"{attr} is not finite")
    return v


def _uniform(name, what, v):
    if not np.allclose(v, v[0], rtol=TOL, atol=0.0):
        refuse(name, f"{what} differs between its neurons ({v.min():.6g} .. {v.max():.6g}): "
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
        refuse(name, "v_threshold must be > 0 (the core's threshold is positive)")
    if np.any(r <= 0):
        refuse(name, "r must be > 0")
    v_reset = _vector(name, node, "v_reset", n)
    if isinstance(node, nir.IF):
        if not approx_leak:
            refuse(name, "IF has no leak; the core's membrane always leaks by "
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
            if abs(tau_syn - dt) > TOL * dt:
                refuse(name, f"synaptic current with tau_syn = {tau_syn:.6g} s (alpha = "
                              f"{1 - dt / tau_syn:.6g} at dt = {dt:.6g}): the core has no synaptic "
                              f"state, only tau_syn = dt maps")
            tau = _vector(name, node, "tau_mem", n)
            w_in = _vector(name, node, "w_in", n)
        else:
            tau = _vector(name, node, "tau", n)
            w_in = np.ones(n)
        v_leak = _vector(name, node, "v_leak", n)
        if np.any(v_leak != 0):
            refuse(name, f"v_leak = {v_leak[v_leak != 0][0]:.6g}: the core's membrane leaks "
                          f"toward 0")
        if np.any(tau <= 0):
            refuse(name, "tau must be > 0")
        t = _uniform(name, "tau", tau)
        frac = dt / t                        # 1 - lambda of the Euler step
        k_real = -math.log2(frac) if frac > 0 else math.inf
        k = int(round(k_real))
        exact = abs(frac - 2.0 ** -k) <= TOL * frac and k in LEAK_SHIFTS
        if not exact:
            why = (f"tau = {t:.6g} s at dt = {dt:.6g} s is lambda = 1 - dt / tau = {1 - frac:.6g}, "
                   f"not 1 - 2^-k for an integer k in [1, 8]: the core's leak is a shift")
            if not approx_leak:
                refuse(name, why + " (allow the nearest with approx_leak / --approx-leak)")
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
    chain = node_chain(graph)
    weight_nodes = [n for n in chain if isinstance(graph.nodes[n], WEIGHTS)]
    if not weight_nodes:
        refuse(chain[-1], "no weight layer between the input and the output")
    if not any(isinstance(graph.nodes[n], NEURONS) for n in chain):
        refuse(weight_nodes[0], "the core needs at least one hidden LIF layer")
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
            refuse(name, f"follows the readout integrator {readout_gain[0]!r}: only the output "
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
                refuse(name, "Flatten after a weight layer: the core's layers are vectors")
            continue
        if isinstance(node, WEIGHTS):
            if pending is not None:
                refuse(name, f"follows the weight layer {pending[0]!r} without neurons between: "
                              f"the core alternates weights and LIF neurons")
            w = np.asarray(node.weight, dtype=np.float64)
            if w.ndim != 2:
                refuse(name, f"weight has shape {w.shape}: the core's layers are 2-D matrices")
            if w.shape[1] != size:
                refuse(name, f"weight has {w.shape[1]} inputs, the previous layer {size} outputs")
            if not np.all(np.isfinite(w)):
                refuse(name, "weight is not finite")
            if isinstance(node, nir.Affine):
                b = np.asarray(node.bias, dtype=np.float64).reshape(-1)
                if np.any(b != 0):
                    refuse(name, f"bias up to {np.abs(b).max():.6g}: the core has no bias")
            pending = (name, w)
            size = w.shape[0]
            continue
        if isinstance(node, NEURONS):
            if pending is None:
                refuse(name, "a neuron layer without a weight layer before it")
            k, gain = _neuron(name, node, size, dt, approx_leak, notes)
            if leak is not None and k != leak[1]:
                refuse(name, f"leak_shift {k}, but {leak[0]!r} has {leak[1]}: the core has one "
                              f"leak for all layers")
            leak = leak or (name, k)
            layers.append((pending[0], name, pending[1] * gain[:, None]))
            pending = None
            continue
        if isinstance(node, nir.I):
            if pending is None:
                refuse(name, "an integrator without a weight layer before it")
            r = _vector(name, node, "r", size)
            if np.any(r <= 0):
                refuse(name, "r must be > 0 (a negative gain would flip the argmax)")
            readout_gain = (name, r * dt)
            continue
        if isinstance(node, nir.Output):
            if pending is None:
                prev = chain[chain.index(name) - 1]
                refuse(prev, "the last layer must be a non-spiking readout (Linear -> I -> "
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
        refuse(layers[-1][0], "the core needs at least one hidden LIF layer")
    if len(hidden) > MAX_HIDDEN_LAYERS:
        refuse(hidden[MAX_HIDDEN_LAYERS][1], f"a hidden layer beyond the core's "
                                              f"{MAX_HIDDEN_LAYERS}")
    n_in = layers[0][2].shape[1]
    if n_in > MAX_LAYER:
        refuse(chain[0], f"{n_in} inputs: the core takes at most {MAX_LAYER}")
    for wname, nname, w in hidden:
        if w.shape[0] > MAX_LAYER:
            refuse(nname, f"{w.shape[0]} neurons: the core holds at most {MAX_LAYER} per layer")
    m = layers[-1][2].shape[0]
    if not MIN_OUTPUTS <= m <= MAX_OUTPUTS:
        refuse(layers[-1][0], f"{m} outputs: the core has {MIN_OUTPUTS} to {MAX_OUTPUTS}")

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
