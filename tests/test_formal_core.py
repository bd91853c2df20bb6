"""Bounded proofs of the core's stream properties (sim/formal_core.py) with yowasp-sby and
boolector, and each property shown to fail on a mutant of the gateware.

The core is the smallest configuration (:func:`sim.formal_core.small_core_config`).  Depth 14
reaches the answers of NOP, START, END, READ and WRITE (and the errors of every kind) with
their bounds; ``--runslow`` adds depth 22.  The first mutation of each property runs in the
default suite at depth 12 (where the last of them, a missed end of a WRITE, first shows), the
others with ``--runslow``.  Measured on the shared, loaded build machine: the default tests of
this file about 60 s (the depth-14 proof 16 s, each mutant 5-13 s); the slow ones about 4 min.
"""

import pytest

from rtl.core import Core
from sim.formal import prove
from sim.formal_core import MUTATIONS, PROPERTIES, core_harness, mutated_core

DEPTH = 14
MUTANT_DEPTH = 12


def test_core_properties_hold(tmp_path):
    m, ports = core_harness()
    proof = prove(m, tmp_path / "core", depth=DEPTH, ports=ports)
    assert proof.passed, proof.log[-3000:]


@pytest.mark.slow
def test_core_properties_hold_deeper(tmp_path):
    m, ports = core_harness()
    proof = prove(m, tmp_path / "core", depth=22, ports=ports)
    assert proof.passed, proof.log[-3000:]


def test_every_property_has_a_mutation():
    assert sorted({p for p, *_ in MUTATIONS}) == sorted(PROPERTIES)


def _mutation_params():
    """The first mutation of each property in the default suite, the others slow."""
    seen, params = set(), []
    for mutation in MUTATIONS:
        prop = mutation[0]
        marks = [pytest.mark.slow] if prop in seen else []
        seen.add(prop)
        params.append(pytest.param(*mutation, marks=marks, id=f"{prop}-{len(params)}"))
    return params


@pytest.mark.parametrize("prop, what, unit, original, mutated", _mutation_params())
def test_property_catches_its_mutation(tmp_path, prop, what, unit, original, mutated):
    """The mutant fails the property it targets (a counterexample trace is written)."""
    m, ports = core_harness(properties=(prop,), core=mutated_core(unit, original, mutated))
    proof = prove(m, tmp_path / prop, depth=MUTANT_DEPTH, ports=ports)
    assert not proof.passed, f"{prop} did not catch: {what}"
    assert proof.trace.is_file()


def test_mutation_targets_occur_once():
    """Every mutation still applies to the current source (a refactor would silently void it)."""
    for _, _, unit, original, mutated in MUTATIONS:
        assert mutated_core(unit, original, mutated) is not Core    # raises if the text is gone


def test_harness_refuses_unknown_property():
    with pytest.raises(ValueError, match="properties must be among"):
        core_harness(properties=("no_such_property",))
