"""Analytic lower bound on cycles per time step, from the memory ports the core uses.

Every memory of the core (:mod:`rtl.core`) delivers one word per cycle through its single
read port, and each word holds ``P`` lanes.  For one time step with the activity the golden
model reports, the work that *must* pass through some read port is:

* receiving the spike vector: ``ceil(n_inputs / 32)`` words, one per cycle;
* forward pass, layer after layer (each needs the previous layer's spikes):
  ``G_l * |s_{l-1}|`` words of ``W_l`` and ``G_out * |s_L|`` words of the readout weights,
  where ``G_l = ceil(n_l / P)`` and ``|s|`` counts active inputs (silent ones cost nothing);
* learning (training steps only), in parallel across memories, so the slowest memory counts:
  ``G_l * m`` words of ``M_l``; ``(groups with some d != 0) * |a_{l-1} != 0|`` words of
  ``W_l``; ``G_out * |a_L != 0|`` words of the readout weights.

``bound = words_in + sum(forward) + max(learning)``.  It ignores the fixed latency of each
pass (pipeline fill, per-group set-up), which a design can hide but never remove entirely.
"""

import numpy as np

__all__ = ["busy_groups", "step_words", "step_bound"]


def busy_groups(cfg, d):
    """Word groups of a layer with some nonzero learning factor ``d`` (the engine's jobs)."""
    P = cfg.lanes
    return sum(1 for c in range(cfg.groups(len(d))) if np.any(d[c * P:(c + 1) * P]))


def step_words(cfg, x, core, train):
    """The words of the time step ``core`` (a FixedCore) has just computed, by read port:
    ``(words_in, forward, learning)``, where ``forward[l]`` is layer ``l``'s weight words
    (``L``: the readout) and ``learning`` (empty when not ``train``) lists ``M_0 .. M_{L-1}``,
    then ``W_1 .. W_L`` (busy groups times nonzero traces), then the readout weights."""
    L, m = cfg.n_hidden_layers, cfg.n_outputs
    groups = [cfg.groups(n) for n in cfg.sizes]
    words_in = -(-cfg.n_inputs // 32)
    active = [int(np.count_nonzero(x))] + [int(np.count_nonzero(s)) for s in core.spikes]
    forward = [groups[l + 1] * active[l] for l in range(L + 1)]
    if not train:
        return words_in, forward, []
    nz = [int(np.count_nonzero(a)) for a in core.traces]
    learning = [groups[l + 1] * m for l in range(L)]
    learning += [busy_groups(cfg, core.factors[l]) * nz[l] for l in range(L)]
    learning.append(groups[L + 1] * nz[L])
    return words_in, forward, learning


def step_bound(cfg, x, core, train):
    """Lower bound in cycles for the time step ``core`` (a FixedCore) has just computed."""
    words_in, forward, learning = step_words(cfg, x, core, train)
    return words_in + sum(forward) + max(learning, default=0)
