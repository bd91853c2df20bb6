"""The analytic memory-port bound, worked by hand on the hand-checked time step."""

import numpy as np

from sim.bounds import step_bound
from tests.test_core import _tiny_core


def test_bound_by_hand():
    core = _tiny_core()
    x = np.array([1, 0, 1])
    core.step(x, label=1, train=True)
    # 1 input word; forward: W1 1 group x 2 active inputs + W_out 1 group x 1 spike = 3;
    # learning: M 1 x 2 classes = 2, W1 1 busy group (d = [0, -1]) x 2 nonzero input traces
    # = 2, W_out 1 group x 2 nonzero traces = 2 -> max 2
    assert step_bound(core.cfg, x, core, True) == 1 + 3 + 2
    assert step_bound(core.cfg, x, core, False) == 1 + 3
