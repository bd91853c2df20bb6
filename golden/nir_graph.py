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

This module holds what both directions share: the constants and :data:`SEMANTICS`, the
errors, :func:`read_graph` and :func:`node_chain` (the graph checked to be a plain chain of
nodes the core knows).  Export is :mod:`golden.nir_export`, import :mod:`golden.nir_import`.
"""

import nir

__all__ = ["DEFAULT_DT", "FORMAT", "SEMANTICS", "NirFormatError", "NirImportError", "read_graph",
           "node_chain", "refuse"]

# dt of the exported graph.  The core's time step has no physical duration; only the ratios
# tau / dt matter.  1e-4 s is snnTorch's export default, so its importer sees familiar values.
DEFAULT_DT = 1e-4
FORMAT = "opzo-core/nir 1"
MAX_LAYER = 4096        # CoreConfig.validate: n_inputs and hidden sizes
MAX_HIDDEN_LAYERS = 3
MAX_OUTPUTS = 256
MIN_OUTPUTS = 2
LEAK_SHIFTS = range(1, 9)   # CoreConfig.validate: leak_shift in [1, 8]
TOL = 1e-6             # relative tolerance for "this time constant is a power of two"

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



# --- structure ---------------------------------------------------------------------------

NEURONS = (nir.LIF, nir.IF, nir.CubaLIF)
WEIGHTS = (nir.Linear, nir.Affine)
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


def refuse(node, reason):
    """Raise :class:`NirImportError` for ``node``."""
    raise NirImportError(node, reason)


def node_chain(graph):
    """The node names from Input to Output, after checking the graph is a plain chain."""
    nodes = graph.nodes
    for name in sorted(nodes):
        node = nodes[name]
        if isinstance(node, nir.NIRGraph):
            refuse(name, "a subgraph (recurrent layers are exported as subgraphs): the core "
                          "has only feed-forward layers")
        for cls, reason in _REFUSED.items():
            if type(node) is cls:
                refuse(name, f"{type(node).__name__} is {reason}")
        if not isinstance(node, (nir.Input, nir.Output, nir.Flatten, nir.I) + NEURONS + WEIGHTS):
            refuse(name, f"node type {type(node).__name__} is unknown to the core's mapping")
    succ = {n: [] for n in nodes}
    pred = {n: [] for n in nodes}
    for a, b in graph.edges:
        for end in (a, b):
            if end not in nodes:
                refuse(end, f"edge ({a!r}, {b!r}) names a node the graph does not have")
        succ[a].append(b)
        pred[b].append(a)
    # A cycle is a recurrent connection; name the edge that closes it.
    state = dict.fromkeys(nodes, 0)

    def visit(n):
        state[n] = 1
        for m in succ[n]:
            if state[m] == 1:
                refuse(m, f"recurrent edge {n!r} -> {m!r}: the core has only feed-forward layers")
            if state[m] == 0:
                visit(m)
        state[n] = 2
    for n in sorted(nodes):
        if state[n] == 0:
            visit(n)
    inputs = [n for n in sorted(nodes) if isinstance(nodes[n], nir.Input)]
    outputs = [n for n in sorted(nodes) if isinstance(nodes[n], nir.Output)]
    if len(inputs) != 1:
        refuse(",".join(inputs) or "(none)", f"the core has one input, the graph {len(inputs)}")
    if len(outputs) != 1:
        refuse(",".join(outputs) or "(none)", f"the core has one output, the graph {len(outputs)}")
    for n in sorted(nodes):
        if len(pred[n]) > 1:
            refuse(n, f"{len(pred[n])} incoming edges ({', '.join(pred[n])}): the core's layers "
                       f"form a chain, one input each")
        if len(succ[n]) > 1:
            refuse(n, f"{len(succ[n])} outgoing edges ({', '.join(succ[n])}): the core's layers "
                       f"form a chain")
    chain = [inputs[0]]
    while succ[chain[-1]]:
        chain.append(succ[chain[-1]][0])
    if chain[-1] != outputs[0]:
        refuse(chain[-1], f"the chain from {inputs[0]!r} ends here, not at the output {outputs[0]!r}")
    extra = sorted(set(nodes) - set(chain))
    if extra:
        refuse(extra[0], "not on the path from the input to the output")
    return chain
