import numpy as np

from golden.arith import decay, round_shift, saturate, saturate_unsigned, smax, smin


def test_saturate_extremes():
    x = np.array([-(1 << 40), smin(16) - 1, smin(16), -1, 0, smax(16), smax(16) + 1, 1 << 40])
    assert saturate(x, 16).tolist() == [-32768, -32768, -32768, -1, 0, 32767, 32767, 32767]
    assert saturate_unsigned(np.array([-5, 0, 255, 256]), 8).tolist() == [0, 0, 255, 255]


def test_decay_rounds_down():
    # floor(x * (1 - 2^-k)): exact values by hand
    x = np.array([-11, -3, -1, 0, 1, 2, 3, 4, 127, 128])
    assert decay(x, 1).tolist() == [-6, -2, -1, 0, 0, 1, 1, 2, 63, 64]
    assert decay(np.array([1, 4, 5, 1000, -1000]), 2).tolist() == [0, 3, 3, 750, -750]
    assert decay(np.array([1023, 1024, -1]), 10).tolist() == [1022, 1023, -1]


def test_decay_matches_floor_definition():
    x = np.arange(-5000, 5000)
    for k in (1, 2, 3, 10):
        assert np.array_equal(decay(x, k), np.floor(x * (1 - 2.0 ** -k)).astype(np.int64))


def test_round_shift_nearest_ties_up():
    x = np.array([-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 5, 6])
    assert round_shift(x, 1).tolist() == [-3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 3, 3]
    assert round_shift(np.array([88, -40, 16, -4]), 5).tolist() == [3, -1, 1, 0]
    assert round_shift(np.array([-3, 3]), 0).tolist() == [-3, 3]
