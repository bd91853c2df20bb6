"""The input trace unit (rtl/input_trace.py) on its own in Amaranth's simulator, against
golden/trace.py: after every pass, trace_0 and its nonzero flags equal ``trace_step``'s."""

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module, Signal
from amaranth.sim import Simulator

from golden.config import preset
from golden.lanes import unpack_vector
from golden.trace import trace_step
from rtl.input_trace import InputTraceUnit
from rtl.memories import LaneMemory


def _bench(cfg):
    m = Module()
    P, words = cfg.lanes, cfg.groups(cfg.n_inputs)
    trace = LaneMemory(m, "trace_0", cfg.trace_bits, P, words)
    xbits, nz, start = Signal(words * P), Signal(words * P), Signal()
    unit = InputTraceUnit(cfg, trace, xbits, nz)
    unit.elaborate(m)
    with m.If(start):                         # what the sequencer's STEP_CHECK does
        m.d.sync += [unit.run.eq(1), unit.count.eq(0)]
    return m, unit, trace, xbits, nz, start


def test_init():
    cfg = preset("digits", n_inputs=11, hidden=(4,), n_outputs=2, lanes=4)
    m, unit, *_ = _bench(cfg)
    Fragment.get(m, None)                          # elaborates
    assert unit.words == 3 and len(unit.decayed) == 4 and len(unit.index) == 3


@pytest.mark.parametrize("n_inputs, lanes", [(11, 4), (8, 8), (3, 1)])
def test_matches_golden_trace_step(n_inputs, lanes):
    cfg = preset("digits", n_inputs=n_inputs, hidden=(4,), n_outputs=2, lanes=lanes)
    m, unit, trace, xbits, nz, start = _bench(cfg)
    rng = np.random.default_rng(n_inputs)
    steps = (rng.random((6, n_inputs)) < 0.5).astype(np.int64)
    steps[3] = 0                                   # a silent step: only decay
    seen = []

    async def bench(ctx):
        a = np.zeros(n_inputs, dtype=np.int64)
        for x in steps:
            ctx.set(xbits, int(sum(int(b) << i for i, b in enumerate(x))))
            ctx.set(start, 1)
            await ctx.tick()
            ctx.set(start, 0)
            await ctx.tick().repeat(2)
            cycles = 0
            while not ctx.get(unit.idle):
                await ctx.tick()
                cycles += 1
                assert cycles < 100
            a = trace_step(cfg, a, x)
            got = unpack_vector(lambda i: ctx.get(trace.memory.data[i]), n_inputs, cfg.trace_bits,
                                cfg.lanes, False)
            flags = ctx.get(nz)
            assert got == [int(v) for v in a]
            assert [flags >> i & 1 for i in range(n_inputs)] == [int(v != 0) for v in a]
            seen.append(int(a.max()))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == len(steps) and max(seen) > 0
