import numpy as np
import pytest

from golden.data import load_dataset, load_digits_split, make_yinyang
from golden.encoding import encode, encode_rate, encode_thermometer


def test_digits_split_fixed_and_stratified():
    a, b = load_digits_split(), load_digits_split()
    assert a.x_train.shape == (1437, 64) and a.x_test.shape == (360, 64)
    assert np.array_equal(a.y_test, b.y_test) and np.array_equal(a.x_train, b.x_train)
    counts = np.bincount(a.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37      # 20 % of ~180 per class
    assert a.x_train.min() == 0.0 and a.x_train.max() == 1.0


def test_yinyang_seeded_balanced():
    d = make_yinyang(seed=42, n_train=600, n_test=300)
    assert d.x_train.shape == (600, 4) and d.n_classes == 3
    assert np.array_equal(d.x_train, make_yinyang(seed=42, n_train=600, n_test=300).x_train)
    assert not np.array_equal(d.x_train, make_yinyang(seed=7, n_train=600, n_test=300).x_train)
    counts = np.bincount(d.y_train, minlength=3)
    assert counts.min() > 150                                # balanced by construction
    # every point lies in the disc and features are (x, y, 1-x, 1-y)
    assert np.all(np.hypot(d.x_train[:, 0] - 0.5, d.x_train[:, 1] - 0.5) <= 0.5)
    assert np.allclose(d.x_train[:, 2], 1 - d.x_train[:, 0])


def test_yinyang_class_geometry():
    from golden.data import _yinyang_class
    # centre of the right dot is a dot; a point just above centre-left of the top is yin
    assert _yinyang_class(0.75, 0.5) == 2 and _yinyang_class(0.25, 0.5) == 2
    assert _yinyang_class(0.5, 0.9) == 0 and _yinyang_class(0.5, 0.1) == 1


def test_rate_encoding_deterministic_and_unbiased():
    x = np.full((50, 64), 0.25)
    a = encode_rate(x, 16, seed=3, epoch=1)
    assert a.shape == (50, 16, 64) and a.dtype == np.bool_
    assert np.array_equal(a, encode_rate(x, 16, seed=3, epoch=1))
    assert not np.array_equal(a, encode_rate(x, 16, seed=3, epoch=2))
    assert abs(a.mean() - 0.25) < 0.01
    assert not encode_rate(np.zeros((2, 3)), 4, 0).any() and encode_rate(np.ones((2, 3)), 4, 0).all()


def test_thermometer_by_hand():
    bits = encode_thermometer(np.array([[0.0, 0.5, 1.0]]), 2, levels=4)
    assert bits.shape == (1, 2, 12)
    assert bits[0, 0].astype(int).tolist() == [0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1]
    assert np.array_equal(bits[0, 0], bits[0, 1])


def test_encoding_refuses_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        encode("rate", np.zeros(5), 4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        encode("rate", np.full((1, 2), 1.5), 4)
    with pytest.raises(ValueError, match="encoding must be"):
        encode("poisson", np.zeros((1, 2)), 4)
    with pytest.raises(ValueError, match="data must be"):
        load_dataset("mnist")
