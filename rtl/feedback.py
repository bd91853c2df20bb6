"""Feedback-matrix lane arithmetic (twin of :mod:`golden.feedback`).

One lane handles entry ``M[j, k]`` of the word being streamed through: it multiplies the
old entry by ``e_k`` into the top-down accumulator and writes back the momentum update.
"""

from amaranth.hdl import Mux

from .arith import decay, round_shift, saturate

__all__ = ["feedback_update", "feedback_decay", "feedback_step", "feedback_apply", "top_down_signal",
           "baseline_update", "negated_step_bias", "negated_feedback_step"]


def feedback_update(cfg, M, z_positive, oc):
    """``sat_fb(decay(M, kM) + z * (oc >> feedback_input_shift))``."""
    step = feedback_step(cfg, oc)
    return feedback_apply(cfg, feedback_decay(cfg, M), Mux(z_positive, step, -step))


def feedback_decay(cfg, M):
    """``decay(M, kM)``: the momentum part of :func:`feedback_update`."""
    return decay(M, cfg.feedback_decay_shift)


def feedback_step(cfg, oc):
    """``oc >> feedback_input_shift``: the new-information part, before its sign ``z``."""
    return oc >> cfg.feedback_input_shift


def negated_step_bias(cfg, o):
    """``2**s - 1 - o`` (``s = feedback_input_shift``): the first half of
    :func:`negated_feedback_step`, which can be registered before ``b`` is known."""
    return ((1 << cfg.feedback_input_shift) - 1) - o


def negated_feedback_step(cfg, b, bias):
    """``-feedback_step(o - b)`` as one addition: ``(b + negated_step_bias(o)) >> s``.

    ``-floor(x / 2**s) == floor((2**s - 1 - x) / 2**s)`` for every integer ``x``; with
    ``x = o - b`` the numerator is ``b + (2**s - 1 - o)``."""
    return (b + bias) >> cfg.feedback_input_shift


def feedback_apply(cfg, decayed, signed_step):
    """``sat_fb(decayed + signed_step)``."""
    return saturate(decayed + signed_step, cfg.feedback_bits)


def top_down_signal(cfg, acc):
    """``g = sat_sig(round_shift(sum_k M[j, k] e_k, ...))`` from the exact accumulator."""
    shift = cfg.feedback_scale_bits + cfg.error_frac_bits - cfg.signal_frac_bits
    return saturate(round_shift(acc, shift), cfg.signal_bits)


def baseline_update(cfg, b, oc):
    """``b + (oc >> baseline_shift)``; stays between ``b`` and ``o``, so it cannot overflow."""
    return (b + (oc >> cfg.baseline_shift))[:cfg.output_bits].as_signed()
