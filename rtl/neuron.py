"""LIF neuron lane datapath (twin of :mod:`golden.neuron`), as Amaranth expressions.

``reset_leak`` starts a neuron's accumulator: ``decay(u_prev - V_th * s_prev, leak_shift)``;
the FSM then adds one weight per active input and calls ``fire`` on the exact sum.
"""

from amaranth.hdl import Mux

from .arith import decay, saturate

__all__ = ["reset_leak", "fire", "surrogate"]


def reset_leak(cfg, u_prev, s_prev):
    """Start value of the input-current accumulator."""
    return decay(u_prev - Mux(s_prev, cfg.threshold, 0), cfg.leak_shift)


def fire(cfg, acc, noise_on, z_positive):
    """``(u, s)`` from the exact accumulator: saturate, add +/-sigma when ``noise_on``, compare."""
    u = saturate(acc, cfg.membrane_bits)
    sigma = cfg.sigma
    noisy = u + Mux(noise_on, Mux(z_positive, sigma, -sigma), 0)
    return u, noisy >= cfg.threshold


def surrogate(cfg, u):
    """Triangle surrogate ``max(0, V_th - |u - V_th|) >> (frac_bits - surrogate_frac_bits)``."""
    vth = cfg.threshold
    diff = u - vth
    t = vth - Mux(diff < 0, -diff, diff)
    shift = cfg.frac_bits - cfg.surrogate_frac_bits
    return Mux(t > 0, t >> shift, 0)[:cfg.surrogate_frac_bits + 1]
