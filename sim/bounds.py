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

__all__ = ["step_bound"]


def step_bound(cfg, x, core, train):
    """Lower bound in cycles for the time step ``core`` (a FixedCore) has just computed."""
    P, L, m = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
    groups = [cfg.groups(n) for n in cfg.sizes]
    words_in = -(-cfg.n_inputs // 32)
    active = [int(np.count_nonzero(x))] + [int(np.count_nonzero(s)) for s in core.spikes]
    forward = sum(groups[l + 1] * active[l] for l in range(L + 1))
    if not train:
        return words_in + forward
    nz = [int(np.count_nonzero(a)) for a in core.traces]
    learning = [groups[l + 1] * m for l in range(L)]
    for l in range(L):
        d = core.factors[l]
        busy = sum(1 for c in range(groups[l + 1]) if np.any(d[c * P:(c + 1) * P]))
        learning.append(busy * nz[l])
    learning.append(groups[L + 1] * nz[L])
    return words_in + forward + max(learning)
