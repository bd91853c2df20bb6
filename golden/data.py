"""Offline, seeded data sets and their spike encodings.

Two data sets, both available without any download:

* ``digits`` -- scikit-learn's ``load_digits()`` (1,797 real 8x8 handwritten digits, pixel
  values 0..16).  Split once, stratified, 20 % test, ``random_state=0``: 1,437 train /
  360 test samples.  This split never depends on the training seed, so every run and every
  seed is evaluated on the same test images.
* ``yinyang`` -- the Yin-Yang data set of Kriener et al. (2021), generated from a seed:
  points in the unit square inside a disc of radius 0.5, three classes (yin, yang, dots),
  class-balanced by drawing a target class first and rejecting points until one of that
  class is found.  Features are ``(x, y, 1 - x, 1 - y)``.  Train and test sets use
  different generator seeds (``seed`` and ``seed + 1_000_003``).

The encodings turn a sample into ``T`` binary spike vectors, one per time step: exactly
the bits that are streamed into the hardware.  They are defined in :mod:`golden.encoding`.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "load_digits_split", "make_yinyang", "load_dataset", "DATASETS"]

DATASETS = ("digits", "yinyang")


@dataclass(frozen=True)
class Dataset:
    """Features in ``[0, 1]`` (float64) with integer labels, train and test."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self):
        return self.x_train.shape[1]


def load_digits_split():
    """scikit-learn digits, pixels scaled to [0, 1], fixed stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0)
    return Dataset("digits", x_train, y_train, x_test, y_test, 10)


# Yin-Yang geometry (Kriener et al. 2021): big radius 0.5 centred at (0.5, 0.5),
# dots of radius 0.1 at (0.25, 0.5) and (0.75, 0.5).
_R_BIG = 0.5
_R_SMALL = 0.1


def _yinyang_class(x, y):
    """Class of points (vectorised): 0 = yin, 1 = yang, 2 = dots."""
    d_right = np.hypot(x - 1.5 * _R_BIG, y - _R_BIG)
    d_left = np.hypot(x - 0.5 * _R_BIG, y - _R_BIG)
    yin = ((d_right <= _R_SMALL)
           | ((d_left > _R_SMALL) & (d_left <= 0.5 * _R_BIG))
           | ((y > _R_BIG) & (d_right > 0.5 * _R_BIG)))
    dots = (d_right < _R_SMALL) | (d_left < _R_SMALL)
    cls = np.where(yin, 0, 1)
    return np.where(dots, 2, cls)


def _yinyang_points(n, seed):
    rng = np.random.default_rng(seed)
    xs = np.empty(n)
    ys = np.empty(n)
    labels = np.empty(n, dtype=np.int64)
    goals = rng.integers(0, 3, size=n)
    for k in range(n):
        while True:
            x, y = rng.random(2)
            if np.hypot(x - _R_BIG, y - _R_BIG) > _R_BIG:
                continue
            c = int(_yinyang_class(x, y))
            if c == goals[k]:
                break
        xs[k], ys[k], labels[k] = x, y, c
    feats = np.stack([xs, ys, 1.0 - xs, 1.0 - ys], axis=1)
    return feats, labels


def make_yinyang(seed=42, n_train=5000, n_test=1000):
    """Generate the Yin-Yang data set from ``seed`` (no download)."""
    if n_train < 1 or n_test < 1:
        raise ValueError(f"n_train and n_test must be >= 1, got {n_train}, {n_test}")
    x_train, y_train = _yinyang_points(n_train, seed)
    x_test, y_test = _yinyang_points(n_test, seed + 1_000_003)
    return Dataset("yinyang", x_train, y_train, x_test, y_test, 3)


def load_dataset(name, seed=42):
    """Load a data set by name (``digits`` or ``yinyang``)."""
    if name == "digits":
        return load_digits_split()
    if name == "yinyang":
        return make_yinyang(seed=seed)
    raise ValueError(f"data must be one of {DATASETS}, got {name!r}")
