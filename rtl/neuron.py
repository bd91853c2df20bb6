"""LIF neuron lane datapath (twin of :mod:`golden.neuron`), as Amaranth expressions.

``reset_leak`` starts a neuron's accumulator: ``decay(u_prev - V_th * s_prev, leak_shift)``;
the FSM then adds one weight per active input and calls ``fire`` on the exact sum.
"""

from amaranth.hdl import Mux

from golden.arith import smax, smin

from .arith import decay, saturate

__all__ = ["reset_leak", "soft_reset", "reset_leak_decay", "fire_level", "fire", "check_fire_range", "surrogate",
           "surrogate_distance", "surrogate_from_distance"]


def reset_leak(cfg, u_prev, s_prev):
    """Start value of the input-current accumulator."""
    return reset_leak_decay(cfg, soft_reset(cfg, u_prev, s_prev))


def soft_reset(cfg, u_prev, s_prev):
    """``u_prev - V_th * s_prev``: the first half of :func:`reset_leak`."""
    return u_prev - Mux(s_prev, cfg.threshold, 0)


def reset_leak_decay(cfg, reset):
    """``decay(reset, leak_shift)``: the second half of :func:`reset_leak`."""
    return decay(reset, cfg.leak_shift)


def fire_level(cfg, noise_on, z_positive):
    """``V_th - noise``: the level :func:`fire` compares the accumulator with (``noise`` is
    ``+sigma`` for a positive noise sign, ``-sigma`` for a negative one, 0 without noise)."""
    sigma = cfg.sigma
    return Mux(noise_on, Mux(z_positive, cfg.threshold - sigma, cfg.threshold + sigma), cfg.threshold)


def fire(cfg, acc, level):
    """``(u, s)`` from the exact accumulator: ``u = sat(acc)``, ``s = u + noise >= V_th``,
    with ``level = fire_level(...)`` (the core registers it before the compare).

    The spike compares ``acc`` itself with ``V_th - noise`` (one carry chain, not three in
    a row).  That is the same bit: saturation is monotone and ``V_th - noise`` lies strictly
    inside the membrane range (:func:`check_fire_range`), so ``sat(acc) >= c`` exactly when
    ``acc >= c``.
    """
    return saturate(acc, cfg.membrane_bits), acc >= level


def check_fire_range(cfg):
    """Refuse a configuration whose firing levels ``V_th`` and ``V_th +- sigma`` do not lie
    in ``(smin, smax]`` of the membrane width (then :func:`fire`'s shortcut would differ)."""
    lo, hi = smin(cfg.membrane_bits), smax(cfg.membrane_bits)
    for name, level in (("threshold", cfg.threshold), ("threshold - sigma", cfg.threshold - cfg.sigma),
                        ("threshold + sigma", cfg.threshold + cfg.sigma)):
        if not lo < level <= hi:
            raise ValueError(f"{name} = {level} must lie in ({lo}, {hi}] for membrane_bits = "
                             f"{cfg.membrane_bits}")


def surrogate(cfg, u):
    """Triangle surrogate ``max(0, V_th - |u - V_th|) >> (frac_bits - surrogate_frac_bits)``."""
    return surrogate_from_distance(cfg, surrogate_distance(cfg, u))


def surrogate_distance(cfg, u):
    """``|u - V_th|`` (both differences side by side, one chain deep; the sign of one picks,
    so no third chain compares ``u`` with ``V_th``)."""
    vth = cfg.threshold
    above = u - vth
    return Mux(above[-1], vth - u, above)


def surrogate_from_distance(cfg, dist):
    """``max(0, V_th - dist) >> (frac_bits - surrogate_frac_bits)``, in ``surrogate_frac_bits + 1`` bits."""
    t = cfg.threshold - dist
    shift = cfg.frac_bits - cfg.surrogate_frac_bits
    positive = ~t[-1] & t.any()           # t > 0 without a carry chain
    return Mux(positive, t >> shift, 0)[:cfg.surrogate_frac_bits + 1]
