"""The class unit (rtl/class_unit.py) on its own in Amaranth's simulator, against the golden
model: e_k (golden/error.py), the feedback steps and baselines (golden/feedback.py), for
several steps in a row, so that the baselines move."""

import numpy as np
import pytest
from amaranth.hdl import Array, Fragment, Module, Signal, signed
from amaranth.sim import Simulator

from golden.config import preset
from golden.error import output_error
from golden.feedback import baseline_update
from rtl.class_unit import ClassUnit
from rtl.memories import NetworkRegisters


def _bench(cfg):
    m = Module()
    regs = NetworkRegisters(cfg)
    stepw = cfg.output_bits + 2
    step = Array(Signal(signed(stepw), name=f"step_{k}") for k in range(cfg.n_outputs))
    nstep = Array(Signal(signed(stepw), name=f"nstep_{k}") for k in range(cfg.n_outputs))
    label, go = Signal(range(cfg.n_outputs)), Signal()
    unit = ClassUnit(cfg, regs, step, nstep, label)
    unit.elaborate(m)
    with m.If(go):                            # what the sequencer's STEP_END does
        m.d.sync += unit.start()
    return m, unit, regs, step, nstep, label, go


def test_init():
    cfg = preset("digits", n_outputs=3)
    m, unit, *_ = _bench(cfg)
    Fragment.get(m, None)
    assert len(unit.cls_1h) == 3


@pytest.mark.parametrize("n_outputs", [2, 3, 10])
def test_matches_golden(n_outputs):
    cfg = preset("digits", n_outputs=n_outputs)
    m, unit, regs, step, nstep, label, go = _bench(cfg)
    rng = np.random.default_rng(n_outputs)
    hi = 1 << (cfg.output_bits - 1)
    rounds = [(rng.integers(-hi, hi, size=n_outputs), int(rng.integers(n_outputs))) for _ in range(4)]
    rounds[1] = (np.full(n_outputs, hi - 1), 0)          # the extremes
    rounds[2] = (np.full(n_outputs, -hi), n_outputs - 1)
    checked = []

    async def bench(ctx):
        b = np.zeros(n_outputs, dtype=np.int64)
        s = cfg.feedback_input_shift
        for o, lab in rounds:
            for k in range(n_outputs):
                ctx.set(regs.outputs[k], int(o[k]))
            ctx.set(label, lab)
            ctx.set(go, 1)
            await ctx.tick()
            ctx.set(go, 0)
            await ctx.tick().repeat(n_outputs + 3)
            oc = o - b
            e = output_error(cfg, o, lab)
            b = baseline_update(cfg, b, oc)
            assert [ctx.get(regs.error[k]) for k in range(n_outputs)] == [int(v) for v in e]
            assert [ctx.get(step[k]) for k in range(n_outputs)] == [int(v) for v in oc >> s]
            assert [ctx.get(nstep[k]) for k in range(n_outputs)] == [int(-(v >> s)) for v in oc]
            assert [ctx.get(regs.baseline[k]) for k in range(n_outputs)] == [int(v) for v in b]
            assert ctx.get(unit.readout_active) == 1      # the readout jobs are handed on
            checked.append(lab)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(checked) == len(rounds)
