"""Opt-in (``--runslow``): the accuracy bars of the golden model, trained in full.

The measured tables (three seeds, every method) are produced by ``python -m tools.sweep``
and recorded in docs/fixed_point.md; these tests re-check the bars for one seed.
"""

import pytest

from tools.train import train

pytestmark = pytest.mark.slow


def test_fixed_opzo_digits_bar():
    opzo = train("digits", "opzo", "fixed", epochs=20, progress=False)
    readout = train("digits", "readout", "fixed", epochs=20, progress=False)
    assert opzo["test_accuracy"] >= 0.95
    assert opzo["test_accuracy"] - readout["test_accuracy"] >= 0.015


def test_float_opzo_digits_bar():
    assert train("digits", "opzo", "float", epochs=20, progress=False)["test_accuracy"] >= 0.96


def test_fixed_opzo_yinyang_two_hidden_layers_bar():
    r = train("yinyang", "opzo", "fixed", epochs=20, progress=False)
    assert len(r["config_fields"]["hidden"]) == 2 and r["test_accuracy"] >= 0.93
