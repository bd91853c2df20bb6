"""The on-chip spike code ``lfsr_rate`` (golden/input_encoding.py): hand-worked values."""

import numpy as np
import pytest

from golden.encoding import ENCODINGS, encode
from golden.input_encoding import (encode_lfsr_rate, encoder_lanes, encoder_seeds,
                                   quantise_pixels, spikes_from_states)
from golden.noise import LfsrBank


def test_quantisation_by_hand():
    # 255 * 1/16 = 15.9375 -> 16; 127.5 rounds half up to 128
    assert quantise_pixels([0.0, 1 / 16, 0.5, 1.0]).tolist() == [0, 16, 128, 255]
    assert quantise_pixels(np.arange(17) / 16).tolist()[8] == 128
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        quantise_pixels([1.01])


def test_one_lane_by_hand():
    # Lane state S = 1 (taps 0, 1, 2, 22): draw u = S & 0xFF, then eight steps
    # S = (S >> 8) | (f & 0xFF) << 24 with f = S ^ S>>1 ^ S>>2 ^ S>>22:
    #   S = 0x00000001 -> u = 1, f & 0xFF = 0x01 -> S = 0x01000000
    #   S = 0x01000000 -> u = 0, f & 0xFF = 0x04 -> S = 0x04010000
    #   S = 0x04010000 -> u = 0, f & 0xFF = 0x10 (from S>>22) -> S = 0x10040100
    #   S = 0x10040100 -> u = 0
    q = np.array([[1], [2], [0]], dtype=np.uint8)
    s, _ = spikes_from_states(q[:1], 4, [1])
    assert s[0, :, 0].tolist() == [False, True, True, True]       # u < 1
    s, _ = spikes_from_states(q[1:2], 4, [1])
    assert s[0, :, 0].tolist() == [True, True, True, True]        # u < 2
    _, after = spikes_from_states(q[:1], 3, [1])
    assert int(after[0]) == 0x10040100
    s, _ = spikes_from_states(q[2:], 4, [1])
    assert not s.any()                                             # q = 0 never spikes
    # two samples in a row continue the same lane: u = 1, 0 | 0, 0
    s, _ = spikes_from_states(q[:2], 2, [1])
    assert s[:, :, 0].tolist() == [[False, True], [True, True]]


def test_two_words_share_a_lane():
    # 33 inputs: 32 lanes; input 32 is lane 0 of word 1, so lane 0's draws alternate
    # between input 0 (word 0) and input 32 (word 1): u = 1 (in 0), 0 (in 32), 0 (in 0), 0 (in 32)
    q = np.zeros((1, 33), dtype=np.uint8)
    q[0, 0] = q[0, 32] = 1
    states = [1] + [0xFFFF_FFFF] * 31
    s, _ = spikes_from_states(q, 2, states)
    assert s[0, :, 0].tolist() == [False, True]
    assert s[0, :, 32].tolist() == [True, True]
    assert encoder_lanes(33) == 32 and encoder_lanes(8) == 8


def test_matches_lfsr_bank_bit_by_bit():
    # The 8-bit draw is eight single steps of the golden LFSR, output j at bit j.
    rng = np.random.default_rng(3)
    states = [int(v) for v in rng.integers(1, 2**32, 5)]
    q = rng.integers(0, 256, (3, 5)).astype(np.uint8)
    got, _ = spikes_from_states(q, 4, states)
    bank = LfsrBank(32, states)
    for n in range(3):
        for t in range(4):
            bits = np.stack([bank.step() for _ in range(8)], axis=1)     # lane x 8
            u = (bits.astype(int) << np.arange(8)).sum(axis=1)
            assert (got[n, t] == (u < q[n])).all()


def test_seeds_epochs_and_registry():
    x = np.random.default_rng(0).random((6, 40))
    e0 = encode_lfsr_rate(x, 3, seed=7)
    both = encode_lfsr_rate(np.concatenate([x, x]), 3, seed=7)
    e1 = encode_lfsr_rate(x, 3, seed=7, epoch=1)
    # epoch 1 continues the train bank where epoch 0 of the same split ended
    assert (both[:6] == e0).all() and (both[6:] == e1).all() and (e0 != e1).any()
    t0 = encode_lfsr_rate(x, 3, seed=7, split=1, epoch=5)
    assert (t0 == encode_lfsr_rate(x, 3, seed=7, split=1)).all() and (t0 != e0).any()
    assert (encode("lfsr_rate", x, 3, seed=7, epoch=1) == e1).all()
    assert "lfsr_rate" in ENCODINGS and encoder_seeds(7, 0, 3) != encoder_seeds(7, 1, 3)
    # the rate follows the pixel: mean spike rate close to q / 256
    r = encode_lfsr_rate(np.full((200, 32), 0.25), 8, seed=1).mean()
    assert abs(r - 64 / 256) < 0.01
