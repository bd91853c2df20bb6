"""Bounded proofs of the host link's packet layer (sim/formal_link.py) with yowasp-sby and
boolector, and each property shown to fail on a mutant of the design.

The harness's buffer holds two words (packets of one word) so that 24 cycles reach a full
buffer, a committed and forwarded command and its answer; ``--runslow`` adds depth 40."""

import pytest

from sim.formal import prove
from sim.formal_link import MUTATIONS, PROPERTIES, link_harness, mutated_link

DEPTH = 24


def test_link_properties_hold(tmp_path):
    m, ports = link_harness()
    proof = prove(m, tmp_path / "link", depth=DEPTH, ports=ports)
    assert proof.passed, proof.log[-3000:]


@pytest.mark.slow
def test_link_properties_hold_deeper(tmp_path):
    m, ports = link_harness()
    proof = prove(m, tmp_path / "link", depth=40, ports=ports)
    assert proof.passed, proof.log[-3000:]


def test_every_property_has_a_mutation():
    assert sorted(p for p, *_ in MUTATIONS) == sorted(PROPERTIES)


@pytest.mark.parametrize("prop, what, original, mutated", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_property_catches_its_mutation(tmp_path, prop, what, original, mutated):
    """The mutant fails the property it targets (a counterexample trace is written)."""
    m, ports = link_harness(properties=(prop,), link=mutated_link(original, mutated))
    proof = prove(m, tmp_path / prop, depth=DEPTH, ports=ports)
    assert not proof.passed, f"{prop} did not catch: {what}"
    assert proof.trace.is_file()


def test_harness_refuses_unknown_property():
    with pytest.raises(ValueError, match="properties must be among"):
        link_harness(properties=("no_such_property",))
