"""A directed scenario that drives every saturating quantity of the core to both of its
limits (docs/fixed_point.md), for :func:`sim.compare.compare` (``prelude`` and ``plan``).

The configuration has the narrowest widths that still leave room for every rule (4-bit
weights, M, g and d; 5-bit membranes and readout; ``V_th = 2``), and the prelude writes the
extreme weights and baselines through the host port (WRITE commands), so the limits are
reached in the first samples instead of after thousands:

* ``W_1`` rows 0-2 at +7, rows 3-5 at -8: with every input on, three membranes see a current
  of +28 (clamped at +15) and three of -32 (clamped at -16); the first three neurons spike
  every step, so their traces sit at the trace maximum (3) and the others at 0;
* ``W_out`` row 0 at +7 and row 1 at -8: ``o = (+21, -24)``, clamped at ``(+15, -16)`` in
  every step, so an inference sample's totals are ``T * 15`` and ``T * -16``;
* both baselines at +15 (the largest value): class 0 holds it (``o - b = 0``), class 1's
  centred output is ``-16 - 15 = -31``, the most negative there is;
* feedback_input_shift 0 and feedback_decay_shift 1: ``M`` moves by ``+-(o - b)`` per step and
  clamps at once; learning-rate shifts 0 and signal_frac_bits 2: ``g``, the weights clamp.

:func:`plan` then rewrites the weights between samples so that the readout and hidden
weight updates push weights past their limits (see there).
"""

import numpy as np

from golden.config import preset
from golden.protocol import Mem, Op, command_words

__all__ = ["SATURATION_CONFIG", "saturation_config", "prelude", "plan", "golden_run", "TRAIN_SAMPLES"]

SATURATION_CONFIG = dict(
    n_inputs=4, hidden=(6,), n_outputs=2, lanes=2, timesteps=4, weight_bits=4, frac_bits=1,
    membrane_bits=5, output_bits=5, trace_frac_bits=1, leak_shift=1, trace_bits=2,
    surrogate_frac_bits=1, error_frac_bits=1, feedback_bits=4, signal_bits=4,
    signal_frac_bits=2, noise_shift=0, feedback_input_shift=0, baseline_shift=1,
    feedback_decay_shift=1, hidden_lr_shift=0, readout_lr_shift=0, feedback_init="random")

TRAIN_SAMPLES = 12


def saturation_config(seed=0, **changes):
    return preset("digits", seed=seed, **{**SATURATION_CONFIG, **changes}).with_(name="saturation")


def prelude(cfg):
    """WRITE commands that put the weights and baselines at their limits."""
    hi, lo = (1 << (cfg.weight_bits - 1)) - 1, -(1 << (cfg.weight_bits - 1))
    n, m, h = cfg.n_inputs, cfg.n_outputs, cfg.hidden[0]
    out = []
    for j in range(h):
        for i in range(n):
            out.append(command_words(Op.WRITE, mem=Mem.W1, row=j, col=i, value=hi if j < h // 2 else lo))
    for k in range(m):
        for j in range(h):
            out.append(command_words(Op.WRITE, mem=Mem.W_OUT, row=k, col=j, value=hi if k == 0 else lo))
        out.append(command_words(Op.WRITE, mem=Mem.BASELINE, row=k, col=0,
                                 value=(1 << (cfg.output_bits - 1)) - 1))
    return out


def _writes(mem, rows):
    return [command_words(Op.WRITE, mem=mem, row=j, col=i, value=v & 0xFFFF_FFFF)
            for j, row in enumerate(rows) for i, v in enumerate(row)]


def edge_hidden_weights(cfg):
    """``W_1`` rows with one weight at each limit and a current of ``V_th`` when every input
    is on (row j: +max at input j, min at j+1, V_th - max - min at j+2, 0 elsewhere, inputs
    mod n): the neuron hovers at the threshold, so its surrogate and ``d`` are not zero,
    and whatever the sign of ``d``, one of the two extreme weights is pushed past its limit."""
    n, h = cfg.n_inputs, cfg.hidden[0]
    hi, lo = (1 << (cfg.weight_bits - 1)) - 1, -(1 << (cfg.weight_bits - 1))
    rows = []
    for j in range(h):
        row = [0] * n
        row[j % n], row[(j + 1) % n], row[(j + 2) % n] = hi, lo, cfg.threshold - hi - lo
        rows.append(row)
    return _writes(Mem.W1, rows)


def plan(cfg, seed=0, train_samples=TRAIN_SAMPLES):
    """The samples after :func:`prelude`, items ``{"spikes", "label", "train"}`` or
    ``{"commands"}`` (sent between samples):

    1. an inference sample with every input on: membranes, readout and totals at both limits;
       two training samples of label 0 with every input on: the errors are 0 (the weights
       stay), class 0's baseline holds its maximum, class 1's falls from its maximum
       (``o - b = -31``) to its minimum;
    2. ``W_out`` rows ``[max, min, min, 0, ...]`` and ``[min, max, max, 0, ...]`` and a
       training sample of label 0 with every input on: the first three neurons spike, class 0's
       error is negative and class 1's positive, so ``W_out[0, 0]`` is pushed above the
       maximum and ``W_out[1, 0]`` below the minimum;
    3. ``train_samples`` times: :func:`edge_hidden_weights`, then a training sample with every
       input on and a random label (the hidden weights' clamps, ``g``, ``d``, M);
    4. ``train_samples`` training samples of random inputs (rates 0.3 to 1) and labels."""
    rng = np.random.default_rng([seed, 19])
    T, n, h = cfg.timesteps, cfg.n_inputs, cfg.hidden[0]
    hi, lo = (1 << (cfg.weight_bits - 1)) - 1, -(1 << (cfg.weight_bits - 1))
    ones = np.ones((T, n), dtype=int).tolist()
    pad = [0] * (h - 3)
    out = [{"spikes": ones, "label": 0, "train": False},
           {"spikes": ones, "label": 0, "train": True},
           {"spikes": ones, "label": 0, "train": True},
           {"commands": _writes(Mem.W_OUT, [[hi, lo, lo] + pad, [lo, hi, hi] + pad])},
           {"spikes": ones, "label": 0, "train": True}]
    for _ in range(train_samples):
        out.append({"commands": edge_hidden_weights(cfg)})
        out.append({"spikes": ones, "label": int(rng.integers(cfg.n_outputs)), "train": True})
    for _ in range(train_samples):
        rate = rng.uniform(0.3, 1.0)
        out.append({"spikes": (rng.random((T, n)) < rate).astype(int).tolist(),
                    "label": int(rng.integers(cfg.n_outputs)), "train": True})
    return out


def golden_run(cfg, seed=0, train_samples=TRAIN_SAMPLES, check=None):
    """The scenario in the golden model alone (the scoreboard's view): returns the model.
    ``check(model)`` is called after every time step."""
    from golden.command_model import CoreModel
    from golden.protocol import sample_commands
    model = CoreModel(cfg)
    for c in prelude(cfg):
        for w in c:
            model.feed(w)
    for p in plan(cfg, seed, train_samples):
        if "commands" in p:
            for c in p["commands"]:
                for w in c:
                    model.feed(w)
            continue
        cmds = sample_commands(np.array(p["spikes"]), p["label"], p["train"])
        for c in cmds:
            for w in c:
                model.feed(w)
            if check and c[0] >> 28 == Op.STEP:
                check(model)
    return model
