import numpy as np
import pytest

from golden.config import LFSR_TAPS, preset
from golden.noise import LfsrBank, lane_seeds


def _polymulmod(a, b, poly, deg):
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if a >> deg & 1:
            a ^= poly
    return r


def _polypowmod(e, poly, deg):
    result, base = 1, 2  # the polynomial "x"
    while e:
        if e & 1:
            result = _polymulmod(result, base, poly, deg)
        base = _polymulmod(base, base, poly, deg)
        e >>= 1
    return result


def _prime_factors(n):
    out, p = set(), 2
    while p * p <= n:
        while n % p == 0:
            out.add(p)
            n //= p
        p += 1
    if n > 1:
        out.add(n)
    return out


@pytest.mark.parametrize("width", sorted(LFSR_TAPS))
def test_characteristic_polynomial_is_primitive(width):
    # x has order 2^W - 1 modulo the characteristic polynomial <=> maximal period
    poly = (1 << width) | sum(1 << t for t in LFSR_TAPS[width])
    order = (1 << width) - 1
    assert _polypowmod(order, poly, width) == 1
    for q in _prime_factors(order):
        assert _polypowmod(order // q, poly, width) != 1


def test_period_16_bit_by_brute_force():
    bank = LfsrBank(16, [1])
    start = int(bank.states[0])
    bits = bank.draw(65535)
    assert int(bank.states[0]) == start          # back after 2^16 - 1 steps...
    seen = LfsrBank(16, [1])
    states = set()
    for _ in range(4096):                         # ...and no earlier repeat in a long prefix
        states.add(int(seen.states[0]))
        seen.step()
    assert len(states) == 4096
    assert int(bits.sum()) == 32768               # an m-sequence has 2^(W-1) ones


def test_step_by_hand():
    bank = LfsrBank(32, [2, 3])
    assert bank.step().tolist() == [0, 1]
    # lane 0: taps {0,1,2,22} of 0b10 -> feedback 1 enters at bit 31
    assert bank.states.tolist() == [1 | 1 << 31, 1]


def test_draw_equals_step():
    seeds = [1, 0xDEADBEEF, 0x80000000, 12345]
    a, b = LfsrBank(32, seeds), LfsrBank(32, seeds)
    ref = np.stack([a.step() for _ in range(257)], axis=1)
    fast = np.concatenate([b.draw(n) for n in (1, 9, 10, 11, 100, 126)], axis=1)
    assert np.array_equal(ref, fast)
    assert np.array_equal(a.states, b.states)


def test_rademacher_lane_order():
    a, b = LfsrBank(32, [5, 6, 7, 8]), LfsrBank(32, [5, 6, 7, 8])
    z = a.rademacher(10)                          # 3 words of 4 lanes
    bits = np.stack([b.step() for _ in range(3)])  # word c, lane p
    want = (bits.reshape(-1)[:10].astype(int) * 2 - 1)
    assert z.tolist() == want.tolist()
    assert np.array_equal(a.states, b.states)     # padding lanes stepped too


def test_lane_seeds():
    cfg = preset("digits")
    s = lane_seeds(cfg)
    assert len(s) == cfg.lanes and all(0 < v < 1 << 32 for v in s) and len(set(s)) == cfg.lanes
    assert s == lane_seeds(cfg) and s != lane_seeds(cfg.with_(seed=1))


def test_bad_state():
    with pytest.raises(ValueError, match="nonzero"):
        LfsrBank(32, [0])
