"""The weight-update engine (rtl/update_engine.py), a component, on its own in Amaranth's
simulator against the golden model: a hidden engine over two layers and a readout engine,
with memories modelled by the testbench (synchronous reads, lane-enabled writes), one job per
word group; the weights afterwards are :func:`golden.update_rule.hidden_update`'s and
:func:`golden.update_rule.readout_update`'s, entry for entry."""

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from golden.config import preset
from golden.lanes import address_bits, pack_matrix, unpack_matrix
from golden.update_rule import hidden_update, readout_update
from rtl.update_engine import UpdateEngine

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")

SMALL = dict(n_inputs=12, hidden=(5, 3), n_outputs=4, lanes=2, timesteps=2)


def test_init():
    cfg = preset("digits", **SMALL)
    unit = UpdateEngine(cfg=cfg, layers=(0, 1))
    assert unit.weight_names == ("weights_0", "weights_1") and unit.trace_names == ("trace_0", "trace_1")
    assert len(unit.masks) == 6 * 2 + 3 * 2 and len(unit.factor) == 2 and unit.max_groups == 3
    assert set(unit.signature.members["reads"].signature.members) == {"weights_0", "weights_1", "trace_0", "trace_1"}
    readout = UpdateEngine(cfg=cfg, layers=(2,), multipliers="ecp5", shift_bits=6)
    assert readout.weight_names == ("readout",) and len(readout.shift) == 6 and len(readout.masks) == 4
    Fragment.get(unit, None)                                           # elaborates


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        UpdateEngine(cfg={"lanes": 2}, layers=(0,))


@pytest.mark.parametrize("layers, exc", [([0, 1], TypeError), ((), TypeError), ((True,), TypeError),
                                         ((1, 0), ValueError), ((0, 0), ValueError), ((0, 3), ValueError),
                                         ((-1,), ValueError)])
def test_init_wrong_layers(layers, exc):
    with pytest.raises(exc, match="layers"):
        UpdateEngine(cfg=preset("digits", **SMALL), layers=layers)


@pytest.mark.parametrize("bits, exc", [("5", TypeError), (0, ValueError), (9, ValueError)])
def test_init_wrong_shift_bits(bits, exc):
    with pytest.raises(exc, match="shift_bits"):
        UpdateEngine(cfg=preset("digits", **SMALL), layers=(0,), shift_bits=bits)


def test_init_wrong_multipliers():
    with pytest.raises(ValueError, match="multipliers"):
        UpdateEngine(cfg=preset("digits", **SMALL), layers=(0,), multipliers="dsp")


def test_init_positional():
    with pytest.raises(TypeError):
        UpdateEngine(preset("digits", **SMALL), (0,))


@pytest.mark.parametrize("readout", [False, True])
def test_matches_golden(readout):
    cfg = preset("digits", **SMALL)
    P, L, sizes = cfg.lanes, cfg.n_hidden_layers, cfg.sizes
    layers = (L,) if readout else tuple(range(L))
    unit = UpdateEngine(cfg=cfg, layers=layers)
    rng = np.random.default_rng(3 + readout)
    groups = [cfg.groups(n) for n in sizes]
    wb, tb = cfg.weight_bits, cfg.trace_bits
    W = [rng.integers(-(1 << (wb - 1)), 1 << (wb - 1), size=(sizes[l + 1], sizes[l])) for l in layers]
    W[0][0, :] = (1 << (wb - 1)) - 1                      # saturates upward with a negative factor
    a = [np.where(rng.random(sizes[l]) < 0.3, 0, rng.integers(1, 1 << tb, size=sizes[l])) for l in layers]
    fb = cfg.error_frac_bits + 2 if readout else cfg.signal_bits
    f = [np.where(rng.random(sizes[l + 1]) < 0.2, 0, rng.integers(-(1 << (fb - 1)), 1 << (fb - 1), size=sizes[l + 1]))
         for l in layers]
    f[0][0] = -(1 << (fb - 1))
    shift = cfg.readout_shift if readout else cfg.hidden_shift
    mem = {}
    for i, l in enumerate(layers):
        mem[unit.weight_names[i]] = pack_matrix(W[i], wb, P, groups[l + 1], address_bits(sizes[l]), sizes[l])
        mem[unit.trace_names[i]] = [sum(int(a[i][c * P + p]) << (p * tb) for p in range(P) if c * P + p < sizes[l])
                                    for c in range(groups[l])]
    masks = sum(sum(1 << j for j in range(sizes[l]) if a[i][j]) << sum(unit.mask_widths[:i])
                for i, l in enumerate(layers))
    jobs = [(i, c, [int(f[i][c * P + p]) if c * P + p < sizes[l + 1] else 0 for p in range(P)])
            for i, l in enumerate(layers) for c in range(groups[l + 1])]
    done, issued = [], []

    async def bench(ctx):
        ctx.set(unit.masks, masks)
        ctx.set(unit.shift, shift)
        todo = list(jobs)
        for cycle in range(3000):
            go = bool(todo) and ctx.get(unit.ready)
            if go:
                i, c, factor = todo.pop(0)
                ctx.set(unit.layer, i)
                ctx.set(unit.group, c)
                for p in range(P):
                    ctx.set(unit.factor[p], factor[p])
            ctx.set(unit.go, go)
            addrs = {name: ctx.get(getattr(unit.reads, name).addr) for name in mem}
            if any(ctx.get(getattr(unit.reads, name).en) for name in unit.weight_names):
                issued.append(cycle)
            writes = [(name, ctx.get(w.addr), ctx.get(w.en), ctx.get(w.data))
                      for name in unit.weight_names for w in [getattr(unit.writes, name)] if ctx.get(w.valid)]
            await ctx.tick()
            for name, addr in addrs.items():                  # synchronous reads
                ctx.set(getattr(unit.reads, name).data, mem[name][addr] if addr < len(mem[name]) else 0)
            for name, addr, en, data in writes:
                for p in range(P):
                    if en >> p & 1:
                        lane = ((1 << wb) - 1) << (p * wb)
                        mem[name][addr] = (mem[name][addr] & ~lane) | (data & lane)
            if not todo and ctx.get(unit.idle):
                done.append(cycle)
                break

    sim = Simulator(unit)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert done
    # one weight word per nonzero trace per job, and the jobs follow each other with no idle
    # cycle (the next job is taken in the cycle of the previous one's last issue)
    visits = sum(int(np.count_nonzero(a[i])) * groups[l + 1] for i, l in enumerate(layers))
    assert len(issued) == visits and issued[-1] - issued[0] + 1 == visits
    for i, l in enumerate(layers):
        if readout:
            want = readout_update(cfg, W[i].copy(), f[i], a[i])
        else:
            want = hidden_update(cfg, W[i].copy(), f[i], a[i])
        got = unpack_matrix(lambda addr: mem[unit.weight_names[i]][addr], sizes[l + 1], sizes[l],
                            address_bits(sizes[l]), wb, P)
        assert np.array_equal(np.array(got), want), (l, np.argwhere(np.array(got) != want)[:5])
        assert (want != W[i]).sum() > 5                    # the jobs did change weights
    assert sum(len(j[2]) for j in jobs) == sum(groups[l + 1] for l in layers) * P
