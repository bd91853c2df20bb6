"""Checks of the keyword-only parameters the units' components are built from (in the
style of amaranth-soc: a wrong type raises ``TypeError``, a wrong value ``ValueError``)."""

from golden.config import CoreConfig

__all__ = ["check_config", "check_int"]


def check_config(cfg):
    """``cfg`` must be a :class:`golden.config.CoreConfig`; returns it."""
    if not isinstance(cfg, CoreConfig):
        raise TypeError(f"cfg must be a CoreConfig, not {cfg!r}")
    return cfg


def check_int(name, value, lo, hi=None):
    """``value`` must be an integer in ``[lo, hi]`` (no upper bound when ``hi`` is None)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"at least {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value
