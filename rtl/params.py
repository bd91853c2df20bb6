"""Checks of the keyword-only parameters the units' components are built from (in the
style of amaranth-soc: a wrong type raises ``TypeError``, a wrong value ``ValueError``)."""

from golden.config import CoreConfig

__all__ = ["check_config", "check_int", "check_requesters"]


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


def check_requesters(requesters):
    """The requester names of a port multiplexer: a non-empty tuple of unique identifiers,
    none of them ``port`` (the multiplexer's own member); returns it as a tuple."""
    if isinstance(requesters, str) or not isinstance(requesters, (tuple, list)):
        raise TypeError(f"requesters must be a tuple of names, not {requesters!r}")
    requesters = tuple(requesters)
    if not requesters:
        raise ValueError("requesters must name at least one requester")
    for name in requesters:
        if not isinstance(name, str) or not name.isidentifier() or name == "port":
            raise ValueError(f"requester names must be identifiers other than 'port', got {name!r}")
    if len(set(requesters)) != len(requesters):
        raise ValueError(f"requester names must be unique, got {requesters!r}")
    return requesters
