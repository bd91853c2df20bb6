"""Saturation, reached and checked on the RTL (issue 19 item 2).

One cocotb run of the directed scenario of :mod:`sim.saturation` (narrowest widths, extreme
weights and baselines written through the host port, random stalls on both streams): every
response word and the complete RTL state after every time step are compared with the golden
model (0 mismatches), and for each saturating quantity of docs/fixed_point.md the test shows

* that its limits were reached: the smallest and largest values in RTL state (registers and
  memories, read at every step) equal the quantity's limits, or, for ``o``, ``g`` and ``d``,
  which are not stored, in the golden model whose words and state the RTL matches;
* that the clamp acted (elements the golden clamp changed, on both sides), and that the
  check can fail: a golden model run beside the real one *without* that clamp disagrees
  with the RTL (``mutant_mismatches``).

Two clamps can never act, and the tests prove it instead: the trace's (a trace's largest
value is reached, not exceeded) and ``d``'s (``|d| <= |g|`` as ``psi <= 1``).
"""

import numpy as np
import pytest

from golden.arith import decay, round_shift, smax, smin
from sim import coverage
from sim.compare import compare
from sim.saturation import plan, prelude, saturation_config

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CLAMPED = ("membrane", "readout o", "M", "g", "hidden weight", "readout weight")
STORED = {"membrane": "membranes", "M": "feedback", "hidden weight": "hidden weights",
          "readout weight": "readout weights", "trace": "traces", "baseline": "baseline",
          "total": "total"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cfg = saturation_config()
    r = compare(cfg, prelude=prelude(cfg), plan=plan(cfg), check="step", idle=0.3, stall=0.3,
                mutants=list(coverage.SATURATING), build_base=tmp_path_factory.mktemp("sat"))
    assert "error" not in r, r["error"]
    assert r["mismatches"] == 0, r["report"]
    assert r["state_checks"] > 100 and r["words_checked"] > 100
    print(coverage.format_table(r["coverage"]))                 # shown with pytest -s
    print("extremes in RTL state:", r["coverage"]["extremes"])
    print("extremes in golden:", r["coverage"]["golden_extremes"])
    print("mismatches against golden models without one clamp:", r["mutant_mismatches"])
    return cfg, r


def limits(cfg, quantity):
    w = (smin(cfg.weight_bits), smax(cfg.weight_bits))
    sig = (smin(cfg.signal_bits), smax(cfg.signal_bits))
    out = (smin(cfg.output_bits), smax(cfg.output_bits))
    return {"membrane": (smin(cfg.membrane_bits), smax(cfg.membrane_bits)),
            "readout o": out, "baseline": out, "M": (smin(cfg.feedback_bits), smax(cfg.feedback_bits)),
            "g": sig, "d": sig, "hidden weight": w, "readout weight": w,
            "trace": (0, (1 << cfg.trace_bits) - 1),
            "total": (cfg.timesteps * out[0], cfg.timesteps * out[1])}[quantity]


@pytest.mark.parametrize("quantity", ["membrane", "M", "hidden weight", "readout weight",
                                      "trace", "baseline", "total"])
def test_stored_quantity_reaches_both_limits_in_rtl_state(run, quantity):
    cfg, r = run
    seen = r["coverage"]["extremes"][STORED[quantity]]
    assert tuple(seen) == limits(cfg, quantity), (quantity, seen)


@pytest.mark.parametrize("quantity", ["readout o", "d"])
def test_unstored_quantity_reaches_both_limits(run, quantity):
    """``o`` and ``d`` are not architectural state: their extremes are the golden model's,
    whose every word and state entry the RTL matched in the same run."""
    cfg, r = run
    assert tuple(r["coverage"]["golden_extremes"][quantity]) == limits(cfg, quantity)


@pytest.mark.parametrize("quantity", CLAMPED)
def test_clamp_acts_on_both_sides_and_the_rtl_clamps_the_same(run, quantity):
    cfg, r = run
    clamps = r["coverage"]["clamps"]
    assert clamps[f"{quantity} low"] > 0 and clamps[f"{quantity} high"] > 0, clamps
    # the same run against a golden model without this clamp: the RTL disagrees with it
    assert r["mutant_mismatches"][quantity] > 0, r["mutant_mismatches"]


@pytest.mark.parametrize("quantity", ["trace", "d"])
def test_unreachable_clamp_never_acts(run, quantity):
    cfg, r = run
    clamps = r["coverage"]["clamps"]
    assert clamps[f"{quantity} low"] == 0 and clamps[f"{quantity} high"] == 0
    assert r["mutant_mismatches"][quantity] == 0


def test_trace_clamp_is_unreachable_for_every_legal_width():
    """``decay(a, k) + 2^A`` is non-decreasing in ``a``, so its largest value is at the
    largest trace, ``2^bits - 1``, and it fits whenever ``bits >= A + k`` (the validator's
    rule), for every ``A`` in 1..16, ``k`` in 1..8, ``bits`` up to 18."""
    for A in range(1, 17):
        for k in range(1, 9):
            for bits in range(A + k, 19):
                top = (1 << bits) - 1
                assert decay(np.int64(top), k) + (1 << A) <= top, (A, k, bits)
    # and the largest value is reached with leak_shift 1, bits = A + 1: a spike every step
    a = 0
    for _ in range(40):
        a = decay(a, 1) + (1 << 3)            # A = 3, bits = 4: no clamp applied
        assert a <= 15
    assert a == 15


def test_d_clamp_is_unreachable_for_every_legal_width():
    """``psi <= 2^sf``, so ``|round_shift(g psi, sf)| <= |g|`` for ``g`` in its range: at the
    extremes of ``g`` and ``psi`` (the product is monotone in each) it stays in range."""
    for sb in range(4, 19):
        for sf in range(1, 13):
            g = np.array([smin(sb), smax(sb)], dtype=np.int64)
            for psi in (0, 1, (1 << sf) - 1, 1 << sf):
                d = round_shift(g * psi, sf)
                assert smin(sb) <= d.min() and d.max() <= smax(sb), (sb, sf, psi)
