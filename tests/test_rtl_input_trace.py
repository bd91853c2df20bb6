"""The input trace unit (rtl/input_trace.py), a component, on its own in Amaranth's simulator
against golden/trace.py: after every pass, trace_0 and its nonzero flags equal
``trace_step``'s; ``clear`` clears the flags."""

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module
from amaranth.sim import Simulator

from golden.config import preset
from golden.lanes import unpack_vector
from golden.trace import trace_step
from rtl.input_trace import InputTraceUnit
from rtl.memories import LaneMemory

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def _bench(cfg):
    """The unit with a trace_0 memory on its ports, as rtl/core.py wires them."""
    m = Module()
    m.submodules.unit = unit = InputTraceUnit(cfg=cfg)
    trace = LaneMemory(m, "trace_0", cfg.trace_bits, cfg.lanes, unit.words)
    m.d.comb += unit.rd_data.eq(trace.rd.data)
    with m.If(unit.rd_en):
        trace.read(m, unit.rd_addr)
    with m.If(unit.wr_en):
        m.d.comb += [trace.wr.addr.eq(unit.wr_addr), trace.wr.en.eq(1), trace.wr.data.eq(unit.wr_data)]
    return m, unit, trace


def test_init():
    cfg = preset("digits", n_inputs=11, hidden=(4,), n_outputs=2, lanes=4)
    unit = InputTraceUnit(cfg=cfg)
    assert unit.words == 3 and len(unit.xbits) == 12 and len(unit.nonzero) == 12
    assert len(unit.rd_addr) == 2 and len(unit.wr_data) == 4 * cfg.trace_bits
    Fragment.get(unit, None)                       # elaborates


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        InputTraceUnit(cfg=None)


def test_init_positional():
    with pytest.raises(TypeError):
        InputTraceUnit(preset("digits"))


@pytest.mark.parametrize("n_inputs, lanes", [(11, 4), (8, 8), (3, 1)])
def test_matches_golden_trace_step(n_inputs, lanes):
    cfg = preset("digits", n_inputs=n_inputs, hidden=(4,), n_outputs=2, lanes=lanes)
    m, unit, trace = _bench(cfg)
    rng = np.random.default_rng(n_inputs)
    steps = (rng.random((6, n_inputs)) < 0.5).astype(np.int64)
    steps[3] = 0                                   # a silent step: only decay
    seen = []

    async def bench(ctx):
        a = np.zeros(n_inputs, dtype=np.int64)
        for x in steps:
            ctx.set(unit.xbits, int(sum(int(b) << i for i, b in enumerate(x))))
            ctx.set(unit.start, 1)                 # what the sequencer's STEP_CHECK does
            await ctx.tick()
            ctx.set(unit.start, 0)
            await ctx.tick().repeat(2)
            cycles = 0
            while not ctx.get(unit.idle):
                await ctx.tick()
                cycles += 1
                assert cycles < 100
            a = trace_step(cfg, a, x)
            got = unpack_vector(lambda i: ctx.get(trace.memory.data[i]), n_inputs, cfg.trace_bits,
                                cfg.lanes, False)
            flags = ctx.get(unit.nonzero)
            assert got == [int(v) for v in a]
            assert [flags >> i & 1 for i in range(n_inputs)] == [int(v != 0) for v in a]
            seen.append(int(a.max()))
        ctx.set(unit.clear, 1)                     # START's CLEAR
        await ctx.tick()
        ctx.set(unit.clear, 0)
        assert ctx.get(unit.nonzero) == 0

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == len(steps) and max(seen) > 0
