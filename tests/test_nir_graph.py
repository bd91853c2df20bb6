"""NIR export and import (golden/nir_graph.py, nir_export.py, nir_import.py, tools/nir_convert.py, host load --nir).

One short training run (digits, one epoch, ``tools.train --ckpt``) is shared by the module;
the round trip, the independent interpreter and the host load all use its checkpoint.
"""

import json
import re

import nir
import numpy as np
import pytest

from golden.checkpoint import checkpoint_weights, load_checkpoint
from golden.core import FixedCore
from golden.data import load_dataset
from golden.encoding import TEST, encode
from golden.float_reference import FloatNetwork
from golden.nir_export import to_nir
from golden.nir_graph import DEFAULT_DT, NirFormatError, NirImportError, read_graph
from golden.nir_import import from_nir
from tools import nir_convert


# --- an independent interpreter: NIR's node equations, one Euler step of dt per time step ----

def run_nir(graph, spikes, *, dt=None, reset=None, spike_condition=None):
    """Step a feed-forward NIR graph over ``spikes`` (``N x T x n``); returns the Output's
    last value (``N x m``).  Reads nothing but the graph: ``dt``, the reset and the spike
    condition come from its metadata unless given (NIR's own semantics: reset to v_reset,
    spike when v > v_threshold)."""
    meta = graph.metadata or {}
    dt = float(meta["dt"]) if dt is None else dt
    reset = reset or meta.get("reset", "v_reset")
    at_or_above = (spike_condition or meta.get("spike_condition", ">")) == ">="
    after = dict(graph.edges)
    order = [next(k for k, v in graph.nodes.items() if isinstance(v, nir.Input))]
    while order[-1] in after:
        order.append(after[order[-1]])
    spikes = np.asarray(spikes, dtype=np.float64)
    state = {}
    for t in range(spikes.shape[1]):
        val = spikes[:, t]
        for name in order[1:]:
            node = graph.nodes[name]
            if isinstance(node, (nir.Linear, nir.Affine)):
                val = val @ node.weight.T + (node.bias if isinstance(node, nir.Affine) else 0.0)
            elif isinstance(node, (nir.LIF, nir.CubaLIF)):
                if isinstance(node, nir.CubaLIF):   # current after this step's Euler update
                    i = state.get(name + ".i", 0.0)
                    i = i + dt / node.tau_syn * (-i + node.w_in * val)
                    state[name + ".i"], val, tau = i, i, node.tau_mem
                else:
                    tau = node.tau
                v = state.get(name, 0.0)
                v = v + dt / tau * (node.v_leak - v + node.r * val)
                z = v >= node.v_threshold if at_or_above else v > node.v_threshold
                v = v - node.v_threshold * z if reset == "subtract" else np.where(z, node.v_reset, v)
                state[name], val = v, z.astype(np.float64)
            elif isinstance(node, nir.I):
                state[name] = state.get(name, 0.0) + dt * node.r * val
                val = state[name]
    return val


# --- the shared checkpoint --------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tools.train import main as train_main
    d = tmp_path_factory.mktemp("nir")
    ckpt = d / "ckpt.npz"
    assert train_main(["--data", "digits", "--epochs", "1", "--no-progress",
                       "--ckpt", str(ckpt)]) == 0
    cfg, data = load_checkpoint(ckpt)
    ds = load_dataset("digits")
    spikes = encode(cfg.encoding, ds.x_test, cfg.timesteps, seed=cfg.seed, split=TEST)
    return dict(dir=d, ckpt=ckpt, cfg=cfg, weights=checkpoint_weights(cfg, data), ds=ds,
                spikes=spikes)


def fixed_predictions(cfg, weights, spikes):
    core = FixedCore(cfg)
    core.weights = [w.copy() for w in weights]
    return np.array([core.run_sample(x) for x in spikes])


def test_checkpoint_from_train_holds_the_trained_core(trained):
    cfg, w = trained["cfg"], trained["weights"]
    assert cfg.sizes == (64, 128, 10) and cfg.name == "digits"
    assert [x.shape for x in w] == [(128, 64), (10, 128)]
    # one epoch of OPZO moved the weights away from the seeded initial ones
    init = FixedCore(cfg).weights
    assert all(np.count_nonzero(a != b) > 0.5 * a.size for a, b in zip(w, init))
    acc = np.mean(fixed_predictions(cfg, w, trained["spikes"]) == trained["ds"].y_test)
    # digits trains on 1,257 images since the validation split; chance is 0.10
    assert acc > 0.80


def test_export_writes_the_documented_graph(trained, tmp_path):
    cfg, w = trained["cfg"], trained["weights"]
    path = tmp_path / "net.nir"
    assert nir_convert.main(["export", "--ckpt", str(trained["ckpt"]), "--nir", str(path)]) == 0
    g = nir.read(path)
    assert sorted(g.edges) == sorted([("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc_out"),
                                      ("fc_out", "readout"), ("readout", "output")])
    assert [type(g.nodes[n]).__name__ for n in ("input", "fc1", "lif1", "fc_out", "readout",
                                                "output")] == ["Input", "Linear", "LIF", "Linear",
                                                               "I", "Output"]
    # weights de-quantised exactly: W_int / 2^13
    assert np.array_equal(g.nodes["fc1"].weight * 8192, w[0])
    assert np.array_equal(g.nodes["fc_out"].weight * 8192, w[1])
    lif = g.nodes["lif1"]
    dt = g.metadata["dt"]
    assert dt == DEFAULT_DT
    # lambda = 1/2: tau = dt / (1 - lambda) = 2 dt, r = tau / dt = 2, v_leak = 0, V_th = 1
    assert np.all(lif.tau == 2 * dt) and np.all(lif.r == 2.0)
    assert np.all(lif.v_leak == 0) and np.all(lif.v_threshold == 1.0)
    assert np.all(1 - dt / lif.tau == 0.5)
    assert np.all(g.nodes["readout"].r * dt == 1.0)
    meta = g.metadata
    assert (meta["reset"], meta["spike_condition"], meta["readout"]) == ("subtract", ">=", "sum")
    assert meta["timesteps"] == 8 and meta["input_encoding"].startswith("rate:")
    assert "training only" in meta["noise"]
    assert json.loads(meta["opzo_config"]) == cfg.to_dict()


def test_round_trip_gives_back_weights_configuration_and_predictions(trained, tmp_path, capsys):
    cfg, w, spikes = trained["cfg"], trained["weights"], trained["spikes"]
    net, back = tmp_path / "net.nir", tmp_path / "back.npz"
    assert nir_convert.main(["export", "--ckpt", str(trained["ckpt"]), "--nir", str(net)]) == 0
    assert nir_convert.main(["import", "--nir", str(net), "--ckpt", str(back)]) == 0
    out = capsys.readouterr().out
    assert "fc1 -> lif1" in out and "fc_out -> readout" in out
    cfg2, data2 = load_checkpoint(back)
    assert cfg2 == cfg
    w2 = checkpoint_weights(cfg2, data2)
    assert all(np.array_equal(a, b) for a, b in zip(w, w2))
    result = from_nir(net)
    assert [(r.max_abs_error, r.rms_error, r.saturated) for r in result.layers] == [(0.0, 0.0, 0)] * 2
    before = fixed_predictions(cfg, w, spikes)
    after = fixed_predictions(cfg2, w2, spikes)
    assert len(before) == 360 and np.array_equal(before, after)
    # the import's own core (a fresh FixedCore holding the weights) predicts the same
    _, preds = result.core().evaluate(spikes, trained["ds"].y_test)
    assert np.array_equal(preds, before)


def test_independent_interpreter_reproduces_the_float_reference(trained):
    cfg, w, spikes, y = trained["cfg"], trained["weights"], trained["spikes"], trained["ds"].y_test
    g = to_nir(cfg, w)
    # the float reference on the exported (de-quantised) network, inference, same spikes
    ref = FloatNetwork.from_config(cfg, "opzo")
    ref.weights = [x / float(1 << cfg.frac_bits) for x in w]
    ref_totals, ref_pred = [], []
    for x in spikes:
        ref_pred.append(ref.run_sample(x))
        ref_totals.append(ref.total.copy())
    ref_pred, ref_totals = np.array(ref_pred), np.array(ref_totals)
    totals = run_nir(g, spikes)
    agree = np.mean(totals.argmax(1) == ref_pred)
    assert agree >= 0.99
    # not just the argmax: the summed readouts are the same numbers
    assert np.allclose(totals, ref_totals, rtol=0, atol=1e-9)
    # NIR's node equations alone (reset to v_reset = 0, spike when v > V_th) are not the
    # core: the metadata's subtractive reset is what closes the gap.
    strict = run_nir(g, spikes, reset="v_reset", spike_condition=">").argmax(1)
    assert np.mean(strict == ref_pred) < agree
    # and the chip itself (floored leak, saturation) against the float reference
    fixed = fixed_predictions(cfg, w, spikes)
    print(f"interpreter vs float {100 * agree:.2f} %, strict NIR vs float "
          f"{100 * np.mean(strict == ref_pred):.2f} %, fixed vs float "
          f"{100 * np.mean(fixed == ref_pred):.2f} %, accuracy interpreter "
          f"{100 * np.mean(totals.argmax(1) == y):.2f} %")
    assert np.mean(fixed == ref_pred) >= 0.97


# --- graphs from elsewhere ---------------------------------------------------------------

def snntorch_like(sizes, beta, seed=0, dt=1e-4, bias=False, scale=0.6, readout="I"):
    """A graph as snnTorch exports it: tau = dt / (1 - beta), r = tau / dt, no metadata."""
    rng = np.random.default_rng(seed)
    nodes = {"input": nir.Input(input_type={"input": np.array([sizes[0]])})}
    edges, prev = [], "input"
    for l, (a, b) in enumerate(zip(sizes[:-2], sizes[1:-1])):
        w = rng.normal(0, scale, (b, a))
        nodes[f"fc{l}"] = (nir.Affine(weight=w, bias=np.zeros(b)) if bias else nir.Linear(weight=w))
        tau = np.full(b, dt / (1 - beta))
        nodes[f"lif{l}"] = nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(b), v_threshold=np.ones(b))
        edges += [(prev, f"fc{l}"), (f"fc{l}", f"lif{l}")]
        prev = f"lif{l}"
    m = sizes[-1]
    nodes["fc_out"] = nir.Linear(weight=rng.normal(0, scale, (m, sizes[-2])))
    edges.append((prev, "fc_out"))
    prev = "fc_out"
    if readout == "I":
        nodes["ro"] = nir.I(r=np.full(m, 1 / dt))
        edges.append(("fc_out", "ro"))
        prev = "ro"
    nodes["output"] = nir.Output(output_type={"output": np.array([m])})
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges)


def test_import_foreign_graph_quantises_with_the_reported_error():
    g = snntorch_like((20, 16, 12, 4), beta=0.75, bias=True)
    res = from_nir(g)
    cfg = res.cfg
    assert cfg.sizes == (20, 16, 12, 4) and cfg.leak_shift == 2 and cfg.name == "nir"
    assert cfg.trace_bits == cfg.trace_frac_bits + 2        # widened for the longer leak
    assert res.dt == pytest.approx(1e-4)
    for node, w_int, row in zip(("fc0", "fc1", "fc_out"), res.weights, res.layers):
        w = g.nodes[node].weight              # gain dt r / tau = 1, V_th = 1: threshold units
        err = w_int / 8192 - w
        assert np.array_equal(w_int, np.rint(w * 8192))
        assert row.max_abs_error == pytest.approx(np.abs(err).max())
        assert row.rms_error == pytest.approx(np.sqrt(np.mean(err ** 2)))
        assert row.max_abs_error <= 2 ** -14 and row.saturated == 0
        # rounding to nearest: RMS error near LSB / sqrt(12)
        assert 0.5 * 2 ** -13 / 12 ** 0.5 < row.rms_error < 1.5 * 2 ** -13 / 12 ** 0.5
    # the golden core runs the imported network like the graph (subtractive reset, as
    # snnTorch's default) on random spikes; the floored leak and rounding cost a few ties
    rng = np.random.default_rng(5)
    spikes = rng.random((300, 8, 20)) < 0.3
    want = run_nir(g, spikes, dt=res.dt, reset="subtract", spike_condition=">=").argmax(1)
    got = fixed_predictions(cfg, res.weights, spikes)
    assert np.mean(got == want) >= 0.95


def test_import_folds_threshold_gain_and_cubalif_current_into_the_weights():
    dt = 1e-3
    rng = np.random.default_rng(1)
    w1, wo = rng.normal(0, 1, (6, 5)), rng.normal(0, 1, (3, 6))
    vth = np.linspace(0.5, 2.0, 6)
    nodes = {"input": nir.Input(input_type={"input": np.array([5])}),
             "fc": nir.Linear(weight=w1),
             # tau_syn = dt: the current is this step's input; tau_mem = 4 dt: lambda = 3/4
             "cuba": nir.CubaLIF(tau_syn=np.full(6, dt), tau_mem=np.full(6, 4 * dt),
                                 r=np.full(6, 2.0), v_leak=np.zeros(6), v_threshold=vth,
                                 w_in=np.full(6, 3.0)),
             "fc_out": nir.Linear(weight=wo), "ro": nir.I(r=np.full(3, 500.0)),
             "output": nir.Output(output_type={"output": np.array([3])})}
    edges = [("input", "fc"), ("fc", "cuba"), ("cuba", "fc_out"), ("fc_out", "ro"), ("ro", "output")]
    g = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt})
    res = from_nir(g)
    assert res.cfg.leak_shift == 2
    gain = 3.0 * dt * 2.0 / (4 * dt)                          # w_in * dt * r / tau_mem
    assert np.array_equal(res.weights[0], np.rint(w1 * gain / vth[:, None] * 8192))
    assert np.array_equal(res.weights[1], np.rint(wo * 500.0 * dt * 8192))   # I's r * dt
    spikes = np.random.default_rng(2).random((200, 8, 5)) < 0.5
    want = run_nir(g, spikes, reset="subtract", spike_condition=">=").argmax(1)
    assert np.mean(fixed_predictions(res.cfg, res.weights, spikes) == want) >= 0.95


def test_large_readout_is_scaled_by_a_power_of_two_not_saturated():
    g = snntorch_like((8, 6, 3), beta=0.5, scale=1.0)
    g.nodes["fc_out"].weight[0, 0] = 9.0              # beyond +/-4 V_th
    res = from_nir(g)
    assert res.layers[-1].saturated == 0
    assert any("readout scaled by 2^-2" in n for n in res.notes)
    assert res.weights[1][0, 0] == round(9.0 / 4 * 8192)


# --- refusals ----------------------------------------------------------------------------

def _replace(g, name, node):
    nodes = dict(g.nodes)
    nodes[name] = node
    return nir.NIRGraph(nodes=nodes, edges=list(g.edges), type_check=False)


def _lif(n, tau, dt=1e-4, **kw):
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n),
                   v_threshold=np.ones(n), **kw)


REFUSALS = {
    "beta 0.9": (lambda g: _replace(g, "lif0", _lif(16, 1e-4 / 0.1)), "lif0", "not 1 - 2^-k"),
    "IF": (lambda g: _replace(g, "lif0", nir.IF(r=np.ones(16), v_threshold=np.ones(16))),
           "lif0", "IF has no leak"),
    "tau per neuron": (lambda g: _replace(g, "lif0", nir.LIF(
        tau=np.linspace(2e-4, 4e-4, 16), r=np.full(16, 2.0), v_leak=np.zeros(16),
        v_threshold=np.ones(16))), "lif0", "one leak"),
    "v_leak": (lambda g: _replace(g, "lif0", nir.LIF(
        tau=np.full(16, 2e-4), r=np.full(16, 2.0), v_leak=np.full(16, 0.1),
        v_threshold=np.ones(16))), "lif0", "leaks toward 0"),
    "two leaks": (lambda g: _replace(g, "lif1", _lif(12, 8e-4)), "lif1", "one leak for all"),
    "bias": (lambda g: _replace(g, "fc0", nir.Affine(weight=g.nodes["fc0"].weight,
                                                     bias=np.full(16, 0.2))), "fc0", "no bias"),
    "cuba tau_syn": (lambda g: _replace(g, "lif0", nir.CubaLIF(
        tau_syn=np.full(16, 5e-4), tau_mem=np.full(16, 2e-4), r=np.full(16, 2.0),
        v_leak=np.zeros(16), v_threshold=np.ones(16))), "lif0", "no synaptic state"),
    "delay": (lambda g: _replace(g, "ro", nir.Delay(delay=np.ones(4))), "ro", "delay"),
    "scale": (lambda g: _replace(g, "ro", nir.Scale(scale=np.ones(4))), "ro", "scaling"),
    "conv": (lambda g: _replace(g, "fc0", nir.Conv1d(
        input_shape=20, weight=np.ones((16, 1, 3)), stride=1, padding=1, dilation=1, groups=1,
        bias=np.zeros(16))), "fc0", "convolution"),
    "leaky readout": (lambda g: _replace(g, "ro", nir.LI(tau=np.ones(4), r=np.ones(4),
                                                         v_leak=np.zeros(4))), "ro", "leak"),
    "spiking output": (lambda g: _replace(g, "ro", _lif(4, 2e-4)), "ro", "non-spiking readout"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_with_the_node_named(case):
    make, node, reason = REFUSALS[case]
    g = make(snntorch_like((20, 16, 12, 4), beta=0.5))
    with pytest.raises(NirImportError, match=re.escape(reason)) as info:
        from_nir(g)
    assert info.value.node == node and f"node {node!r}" in str(info.value)


def test_recurrent_edge_is_refused():
    g = snntorch_like((20, 16, 4), beta=0.5)
    nodes = dict(g.nodes)
    nodes["rec"] = nir.Linear(weight=np.eye(16))
    edges = list(g.edges) + [("lif0", "rec"), ("rec", "fc0")]
    g = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    with pytest.raises(NirImportError, match="recurrent edge") as info:
        from_nir(g)
    assert info.value.node in ("fc0", "lif0", "rec")


def test_sizes_over_the_limits_are_refused():
    with pytest.raises(NirImportError, match="at most 4096 per layer") as info:
        from_nir(snntorch_like((10, 4097, 3), beta=0.5, scale=0.01))
    assert info.value.node == "lif0"
    with pytest.raises(NirImportError, match="beyond the core's 3") as info:
        from_nir(snntorch_like((6, 5, 5, 5, 5, 3), beta=0.5))
    assert info.value.node == "lif3"
    with pytest.raises(NirImportError, match="1 outputs"):
        from_nir(snntorch_like((6, 5, 1), beta=0.5))


def test_approximations_only_when_asked():
    g = snntorch_like((20, 16, 4), beta=0.9)               # dt / tau = 0.1: k = 3.32
    res = from_nir(g, approx_leak=True)
    assert res.cfg.leak_shift == 3 and any("approximated by k = 3" in n for n in res.notes)
    g = _replace(snntorch_like((20, 16, 4), beta=0.5), "lif0",
                 nir.IF(r=np.full(16, 1e4), v_threshold=np.ones(16)))
    res = from_nir(g, approx_leak=True)
    assert res.cfg.leak_shift == 8 and res.dt == pytest.approx(1e-4)


# --- files ----------------------------------------------------------------------------

def test_corrupt_and_foreign_files_give_a_clear_error(trained, tmp_path, capsys):
    good = tmp_path / "good.nir"
    nir.write(good, to_nir(trained["cfg"], trained["weights"]))
    cut = tmp_path / "cut.nir"
    cut.write_bytes(good.read_bytes()[:1000])
    junk = tmp_path / "junk.nir"
    junk.write_bytes(b"this is not HDF5 at all\n" * 20)
    import h5py
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=[1, 2, 3])
    for path, why in ((cut, "not a NIR file"), (junk, "not a NIR file"),
                      (other, "not a NIR graph"), (tmp_path / "none.nir", "no such file")):
        with pytest.raises(NirFormatError, match=why) as info:
            read_graph(path)
        assert str(path) in str(info.value)
    assert nir_convert.main(["import", "--nir", str(junk), "--ckpt", str(tmp_path / "x.npz")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a NIR file" in err and "Traceback" not in err
    assert not (tmp_path / "x.npz").exists()


# --- the board driver ----------------------------------------------------------------------

def test_host_load_nir_writes_the_weights_into_the_simulated_board(trained, tmp_path, capsys):
    from boards.ulx3s.host import OpzoHost, SimTransport, cmd_load_nir, main as host_main
    cfg, w, spikes = trained["cfg"], trained["weights"], trained["spikes"]
    path = tmp_path / "net.nir"
    nir.write(path, to_nir(cfg, w))
    host = OpzoHost(SimTransport(cfg))
    host.ping()
    cmd_load_nir(host, cfg, path)
    dump = host.dump()
    assert np.array_equal(dump["W1"], w[0]) and np.array_equal(dump["W_OUT"], w[1])
    assert not dump["M1"].any() and not dump["BASELINE"].any()
    # the loaded board predicts what the golden model predicts
    got = [p for p, _ in host.run_samples((spikes[i], 0, False) for i in range(20))]
    assert got == list(fixed_predictions(cfg, w, spikes[:20]))
    # the CLI, with --sim, and its refusal of a network the bitstream does not hold
    assert host_main(["load", "--sim", "--nir", str(path), "--no-progress"]) == 0
    assert "loaded" in capsys.readouterr().out
    assert host_main(["load", "--sim", "--nir", str(path), "--config", "yinyang"]) == 1
    assert "bitstream's configuration 'yinyang'" in capsys.readouterr().err


def test_structure_errors_name_the_node():
    g = snntorch_like((20, 16, 4), beta=0.5)
    # an integrator in the middle of the chain: the neuron after it is refused
    nodes = dict(g.nodes)
    nodes["mid"] = nir.I(r=np.full(16, 1e4))
    edges = [e for e in g.edges if e != ("fc0", "lif0")] + [("fc0", "mid"), ("mid", "lif0")]
    with pytest.raises(NirImportError, match="follows the readout integrator 'mid'") as info:
        from_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    assert info.value.node == "lif0"
    # input straight to output
    bare = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([4])}),
                               "output": nir.Output(output_type={"output": np.array([4])})},
                        edges=[("input", "output")])
    with pytest.raises(NirImportError, match="no weight layer") as info:
        from_nir(bare)
    assert info.value.node == "output"


def test_export_of_a_board_dump_needs_the_bitstream_configuration(trained, tmp_path, capsys):
    from boards.ulx3s.host import OpzoHost, SimTransport
    cfg, w = trained["cfg"], trained["weights"]
    host = OpzoHost(SimTransport(cfg))
    host.ping()
    host.load({"W1": w[0], "W_OUT": w[1]})
    dump = tmp_path / "dump.npz"
    host.dump(dump)
    out = tmp_path / "dump.nir"
    assert nir_convert.main(["export", "--ckpt", str(dump), "--nir", str(out)]) == 1
    assert "holds no CONFIG" in capsys.readouterr().err and not out.exists()
    assert nir_convert.main(["export", "--ckpt", str(dump), "--nir", str(out),
                             "--config", "digits"]) == 0
    g = nir.read(out)
    assert np.array_equal(g.nodes["fc1"].weight * 8192, w[0])
    assert np.array_equal(g.nodes["fc_out"].weight * 8192, w[1])


def test_two_hidden_layers_thermometer_round_trip_and_interpreter(tmp_path):
    """Yin-Yang: 256 thermometer inputs -> 64 -> 64 -> 3, briefly trained."""
    from tools.train import train
    last = {}
    train("yinyang", "opzo", "fixed", epochs=1, limit_train=500, progress=False,
          on_epoch=lambda record, net: last.update(net=net))
    net = last["net"]
    cfg, w = net.cfg, [x.copy() for x in net.weights]
    path = tmp_path / "yy.nir"
    nir.write(path, to_nir(cfg, w))
    g = nir.read(path)
    assert [type(g.nodes[n]).__name__ for n in ("fc1", "lif1", "fc2", "lif2", "fc_out", "readout")] \
        == ["Linear", "LIF", "Linear", "LIF", "Linear", "I"]
    assert g.metadata["input_encoding"].startswith("thermometer")
    res = from_nir(path)
    assert res.cfg == cfg and all(np.array_equal(a, b) for a, b in zip(res.weights, w))
    ds = load_dataset("yinyang")
    spikes = encode(cfg.encoding, ds.x_test, cfg.timesteps, levels=cfg.encoding_levels)
    ref = FloatNetwork.from_config(cfg, "opzo")
    ref.weights = [x / float(1 << cfg.frac_bits) for x in w]
    ref_pred = np.array([ref.run_sample(x) for x in spikes])
    agree = np.mean(run_nir(g, spikes).argmax(1) == ref_pred)
    print(f"yinyang: interpreter vs float {100 * agree:.2f} % of {len(spikes)}")
    assert agree >= 0.99


def test_train_ckpt_needs_the_fixed_model(tmp_path, capsys):
    from tools.train import main as train_main
    with pytest.raises(SystemExit) as exc:
        train_main(["--model", "float", "--ckpt", str(tmp_path / "c.npz"), "--epochs", "1"])
    assert exc.value.code == 2 and "--ckpt needs --model fixed" in capsys.readouterr().err
    assert not (tmp_path / "c.npz").exists()
