"""Spike encodings: one binary vector per time step, exactly what is streamed to the core.

``rate`` (used for digits and MNIST)
    Bernoulli rate code.  For features ``x`` in ``[0, 1]`` (shape ``N x F``), spike
    ``s[n, t, f] = U[n, t, f] < x[n, f]`` where ``U`` is
    ``numpy.random.default_rng([seed, split, epoch]).random((N, T, F))`` (PCG64, float64).
    ``split`` is 0 for the training set, 1 for the test set and 2 for the validation set;
    the validation and test sets always use ``epoch = 0``, so every evaluation sees the
    same spikes.
``thermometer`` (used for Yin-Yang)
    Deterministic level code with ``levels`` inputs per feature:
    ``s[n, t, f * levels + k] = x[n, f] * levels >= k + 0.5`` for every time step ``t``.
    Yin-Yang's four features (x, y, 1-x, 1-y) become ``4 * levels`` inputs, half of them
    active for any point, so the input activity does not depend on the position.
``lfsr_rate`` (the resident feeder's code, generated on chip)
    8-bit pixels ``floor(255 x + 1/2)`` against 8-bit LFSR draws; defined in
    :mod:`golden.input_encoding` (``encode`` passes ``seed``, ``split``, ``epoch``).
"""

import numpy as np

__all__ = ["ENCODINGS", "encode", "encode_rate", "encode_thermometer"]

ENCODINGS = ("rate", "thermometer", "lfsr_rate")
TRAIN, TEST, VAL = 0, 1, 2


def _check_features(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"features must be a 2-D array (samples x features), got shape {x.shape}")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError("features must lie in [0, 1]")
    return x


def encode_rate(x, timesteps, seed, split=TRAIN, epoch=0):
    """Bernoulli rate code, ``(N, T, F)`` bool; see the module docstring."""
    x = _check_features(x)
    rng = np.random.default_rng([seed, split, epoch])
    u = rng.random((x.shape[0], timesteps, x.shape[1]))
    return u < x[:, None, :]


def encode_thermometer(x, timesteps, levels):
    """Thermometer code, ``(N, T, F * levels)`` bool; see the module docstring."""
    x = _check_features(x)
    k = np.arange(levels) + 0.5
    bits = (x[:, :, None] * levels >= k).reshape(x.shape[0], -1)
    return np.repeat(bits[:, None, :], timesteps, axis=1)


def encode(kind, x, timesteps, *, seed=0, split=TRAIN, epoch=0, levels=16):
    """Encode features with the named encoding."""
    if kind == "rate":
        return encode_rate(x, timesteps, seed, split, epoch)
    if kind == "thermometer":
        return encode_thermometer(x, timesteps, levels)
    if kind == "lfsr_rate":
        from .input_encoding import encode_lfsr_rate
        return encode_lfsr_rate(x, timesteps, seed, split, epoch)
    raise ValueError(f"encoding must be one of {ENCODINGS}, got {kind!r}")
