"""The core's state read straight from the simulator, and compared with the golden model's.

:func:`peek_state` reads every register and memory of :class:`rtl.core.Core` under cocotb in
the layout of :meth:`golden.command_model.CoreModel.state`; :func:`state_mismatches` counts
the entries where two such states differ.  Used by the core's testbench
(:mod:`sim.cocotb_core`), the resident one (:mod:`sim.cocotb_resident`) and the reset test.
"""

import numpy as np

from golden.lanes import address_bits, unpack_matrix, unpack_vector

__all__ = ["unsigned_value", "signed_value", "peek_state", "state_mismatches"]


def unsigned_value(handle):
    """A signal's or memory word's value as an unsigned int.  cocotb 2.1 gives a one-bit
    signal's value as a ``Logic``, which has no ``to_unsigned``."""
    value = handle.value
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)


def signed_value(handle):
    """A signal's value as a two's-complement int (any width)."""
    value = handle.value
    if hasattr(value, "to_signed"):
        return value.to_signed()
    return -int(value)                      # one bit, signed: 0 or -1


def peek_state(dut, cfg):
    """The complete core state read straight from the simulator's registers and memories,
    in the layout of :meth:`golden.command_model.CoreModel.state` (much faster than READ
    commands): every memory (weights, M, membranes, surrogates, traces), the spikes and the
    latched noise signs, baselines, totals, LFSR states and the PARAM registers."""
    P, L, m = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
    sizes = cfg.sizes

    def matrix(mem, rows, cols, width):
        words = lambda a: unsigned_value(mem[a])  # noqa: E731
        return np.array(unpack_matrix(words, rows, cols, address_bits(cols), width, P), dtype=np.int64)

    def vector(mem, n, width, signed):
        words = lambda a: unsigned_value(mem[a])  # noqa: E731
        return np.array(unpack_vector(words, n, width, P, signed), dtype=np.int64)

    def bitvec(sig, n):
        v = unsigned_value(sig)
        return np.array([(v >> j) & 1 for j in range(n)], dtype=np.int64)

    weights = [matrix(getattr(dut, f"weights_{l}"), sizes[l + 1], sizes[l], cfg.weight_bits)
               for l in range(L)]
    weights.append(matrix(dut.readout, m, sizes[L], cfg.weight_bits))
    return {
        "weights": weights,
        "feedback": [matrix(getattr(dut, f"feedback_{l}"), sizes[l + 1], m, cfg.feedback_bits)
                     for l in range(L)],
        "membranes": [vector(getattr(dut, f"membrane_{l}"), sizes[l + 1], cfg.membrane_bits, True)
                      for l in range(L)],
        "surrogates": [vector(getattr(dut, f"surrogate_{l}"), sizes[l + 1], cfg.surrogate_frac_bits + 1,
                              False) for l in range(L)],
        "spikes": [bitvec(getattr(dut, f"spikes_{l}"), sizes[l + 1]) for l in range(L)],
        "noise": [bitvec(getattr(dut, f"noise_{l}"), sizes[l + 1]) for l in range(L)],
        "traces": [vector(getattr(dut, f"trace_{l}"), sizes[l], cfg.trace_bits, False)
                   for l in range(L + 1)],
        "baseline": np.array([signed_value(getattr(dut, f"baseline_{k}")) for k in range(m)]),
        "total": np.array([signed_value(getattr(dut, f"total_{k}")) for k in range(m)]),
        "lfsr": np.array([unsigned_value(getattr(dut.lfsr, f"lfsr{p}")) for p in range(P)],
                         dtype=np.uint64),
        "params": np.array([unsigned_value(dut.rates.hidden_rate), unsigned_value(dut.rates.readout_rate)]),
    }


def state_mismatches(got, want, limit=10):
    """(count, examples) of entries where two state dictionaries differ.  Both must hold the
    same keys, lists of the same lengths and arrays of the same shapes (AssertionError
    otherwise: a harness or layout bug, not a mismatch to count)."""
    assert got.keys() == want.keys(), f"state keys differ: rtl {sorted(got)}, golden {sorted(want)}"
    count, examples = 0, []
    for key, value in want.items():
        items = value if isinstance(value, list) else [value]
        others = got[key] if isinstance(value, list) else [got[key]]
        assert len(others) == len(items), f"{key}: rtl has {len(others)} entries, golden {len(items)}"
        for n, (a, b) in enumerate(zip(others, items)):
            a, b = np.asarray(a), np.asarray(b)
            assert a.shape == b.shape, f"{key}[{n}]: rtl shape {a.shape}, golden {b.shape}"
            bad = np.argwhere(a != b)
            count += len(bad)
            for idx in bad[:limit - len(examples)]:
                examples.append(f"{key}[{n}]{tuple(int(i) for i in idx)}: rtl {a[tuple(idx)]}, "
                                f"golden {b[tuple(idx)]}")
    return count, examples
