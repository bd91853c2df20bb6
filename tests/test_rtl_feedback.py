"""rtl.feedback's split of the class unit's negated step, against its definition.

The class unit registers ``negated_step_bias(o)`` before ``b`` is known and adds ``b``
in the next stage; the pair must equal ``-feedback_step(o - b)`` for every ``o`` and
``b`` of the output width (the functions are plain integer arithmetic, so Python ints
exercise the same expressions the gateware builds)."""

import numpy as np
import pytest

from golden.config import preset
from rtl.feedback import feedback_step, negated_feedback_step, negated_step_bias


@pytest.mark.parametrize("shift", [0, 1, 9, 23])
def test_negated_step_is_the_negation_of_the_step(shift):
    cfg = preset("digits", feedback_input_shift=shift)
    lo, hi = -(1 << (cfg.output_bits - 1)), (1 << (cfg.output_bits - 1)) - 1
    rng = np.random.default_rng(shift)
    edges = [lo, lo + 1, -1, 0, 1, hi - 1, hi, (1 << shift) - 1, -(1 << shift)]
    values = [int(v) for v in rng.integers(lo, hi + 1, 400)] + [v for v in edges if lo <= v <= hi]
    for o in values:
        for b in values[::7]:
            assert negated_feedback_step(cfg, b, negated_step_bias(cfg, o)) == -feedback_step(cfg, o - b)
