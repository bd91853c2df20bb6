"""The path estimator on hand-made netlists: arrival times, the carry rule, ranking, errors."""

import json

import pytest

from tools.path_depth import estimate, main


def _cell(type_, conns, dirs):
    return {"type": type_, "connections": conns, "port_directions": dirs}


def _ff(d, q):
    return _cell("TRELLIS_FF", {"CLK": [1], "DI": [d], "Q": [q]},
                 {"CLK": "input", "DI": "input", "Q": "output"})


def _lut(a, z):
    return _cell("LUT4", {"A": [a], "Z": [z]}, {"A": "input", "Z": "output"})


def _netlist():
    cells = {
        "a_TRELLIS_FF_Q": _ff(99, 10),            # a -> lut -> lut -> b
        "l1": _lut(10, 11), "l2": _lut(11, 12),
        "b_TRELLIS_FF_Q": _ff(12, 13),
        "ram": _cell("DP16KD", {"CLKA": [1], "DOA0": [20]}, {"CLKA": "input", "DOA0": "output"}),
        "c_TRELLIS_FF_Q": _ff(20, 21),            # ram -> c directly
        "cc0": _cell("CCU2C", {"A0": [13], "CIN": [98], "COUT": [30]},
                     {"A0": "input", "CIN": "input", "COUT": "output"}),
        "cc1": _cell("CCU2C", {"A0": [97], "CIN": [30], "S0": [31]},
                     {"A0": "input", "CIN": "input", "S0": "output"}),
        "d_TRELLIS_FF_Q": _ff(31, 32),            # b -> carry in -> carry step -> d
    }
    return {"modules": {"top": {"cells": cells}}}


def test_arrivals_follow_the_model():
    paths = {(first, end): (t, levels) for t, first, end, _, levels in estimate(_netlist())}
    route1 = 0.5 + 0.4 * 1.0                      # fan-out 1: 0.9 ns
    t, levels = paths[("a", "b_TRELLIS_FF_Q")]
    assert levels == 2 and t == pytest.approx(0.52 + 3 * route1 + 2 * 0.24)
    t, levels = paths[("ram", "c_TRELLIS_FF_Q")]
    assert levels == 0 and t == pytest.approx(5.8 + route1)
    t, levels = paths[("b", "d_TRELLIS_FF_Q")]   # one carry step costs 0.06, not a route
    assert levels == 2 and t == pytest.approx(0.52 + route1 + 0.45 + 0.06 + route1)


def _dsp(a, p, registered):
    params = {"REG_OUTPUT_CLK": "CLK0" if registered else "NONE"}
    return {"type": "MULT18X18D", "parameters": params, "connections": {"CLK0": [1], "A0": [a], "P0": [p]},
            "port_directions": {"CLK0": "input", "A0": "input", "P0": "output"}}


@pytest.mark.parametrize("registered", [False, True])
def test_multiplier_output_register_splits_the_path(registered):
    """x -> MULT18X18D -> y: one path through the array when the DSP has no register; with
    REG_OUTPUT_CLK two, x -> dsp (the array before its register) and dsp -> y."""
    cells = {"x_TRELLIS_FF_Q": _ff(99, 40), "dsp": _dsp(40, 41, registered), "y_TRELLIS_FF_Q": _ff(41, 42)}
    paths = {(first, end): t for t, first, end, _, _ in estimate({"modules": {"top": {"cells": cells}}})}
    route1 = 0.5 + 0.4 * 1.0
    if registered:
        assert paths[("x", "dsp")] == pytest.approx(0.52 + route1 + 4.0)
        assert paths[("dsp", "y_TRELLIS_FF_Q")] == pytest.approx(0.6 + route1)
    else:
        assert paths[("x", "y_TRELLIS_FF_Q")] == pytest.approx(0.52 + 2 * route1 + 4.0)
        assert ("x", "dsp") not in paths


def test_ranked_worst_first(tmp_path, capsys):
    paths = estimate(_netlist())
    ts = [t for t, *_ in paths]
    assert ts == sorted(ts, reverse=True) and len(ts) == 4
    assert paths[-1][1] == "net 99"               # a's input has no driver (a top-level input)
    path = tmp_path / "top.json"
    path.write_text(json.dumps(_netlist()))
    assert main([str(path), "--top", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "ram -> c_TRELLIS_FF_Q.DI" in out[0]


def test_bad_input_is_refused(tmp_path, capsys):
    assert main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read netlist" in capsys.readouterr().err
    path = tmp_path / "top.json"
    path.write_text(json.dumps(_netlist()))
    assert main([str(path), "--module", "core"]) == 2
    assert "module 'core' is not in" in capsys.readouterr().err
