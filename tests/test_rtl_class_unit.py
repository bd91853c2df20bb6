"""The class unit (rtl/class_unit.py), a component, on its own in Amaranth's simulator against
the golden model: e_k (golden/error.py), the feedback steps and baselines (golden/feedback.py),
for several steps in a row so that the baselines move; the host's baseline write; the
readout jobs, one per output word group carrying the group's errors."""

import numpy as np
import pytest
from amaranth.hdl import Fragment, signed
from amaranth.sim import Simulator

from golden.config import preset
from golden.error import output_error
from golden.feedback import baseline_update
from rtl.class_unit import ClassUnit

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def test_init():
    cfg = preset("digits", n_outputs=3, lanes=2)
    unit = ClassUnit(cfg=cfg, factor_bits=20)
    assert unit.factor_bits == 20 and len(unit.baseline) == 3 and len(unit.job_factor) == 2
    assert unit.signature.members["error"].shape == signed(cfg.error_frac_bits + 2)
    assert len(unit.job_group) == 2                                    # range(groups(3) + 1)
    Fragment.get(unit, None)                                           # elaborates


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        ClassUnit(cfg={"n_outputs": 3})


@pytest.mark.parametrize("bits, exc", [("18", TypeError), (True, TypeError), (3, ValueError)])
def test_init_wrong_factor_bits(bits, exc):
    with pytest.raises(exc, match="factor_bits"):
        ClassUnit(cfg=preset("digits"), factor_bits=bits)


def test_init_positional():
    with pytest.raises(TypeError):
        ClassUnit(preset("digits"))


@pytest.mark.parametrize("n_outputs", [2, 3, 10])
def test_matches_golden(n_outputs):
    cfg = preset("digits", n_outputs=n_outputs, lanes=4)
    unit = ClassUnit(cfg=cfg)
    rng = np.random.default_rng(n_outputs)
    hi = 1 << (cfg.output_bits - 1)
    rounds = [(rng.integers(-hi, hi, size=n_outputs), int(rng.integers(n_outputs))) for _ in range(4)]
    rounds[1] = (np.full(n_outputs, hi - 1), 0)          # the extremes
    rounds[2] = (np.full(n_outputs, -hi), n_outputs - 1)
    checked = []

    async def bench(ctx):
        b = np.zeros(n_outputs, dtype=np.int64)
        s = cfg.feedback_input_shift
        for r, (o, lab) in enumerate(rounds):
            if r == 3:                                    # the host writes a baseline
                ctx.set(unit.base_data, -5)
                ctx.set(unit.base_we, 1 << (n_outputs - 1))
                await ctx.tick()
                ctx.set(unit.base_we, 0)
                b[n_outputs - 1] = -5
            for k in range(n_outputs):
                ctx.set(unit.outputs[k], int(o[k]))
            ctx.set(unit.label, lab)
            ctx.set(unit.start, 1)                        # what the sequencer's STEP_END does
            await ctx.tick()
            ctx.set(unit.start, 0)
            await ctx.tick().repeat(n_outputs + 3)
            oc = o - b
            e = output_error(cfg, o, lab)
            b = baseline_update(cfg, b, oc)
            assert [ctx.get(unit.error[k]) for k in range(n_outputs)] == [int(v) for v in e]
            assert [ctx.get(unit.step[k]) for k in range(n_outputs)] == [int(v) for v in oc >> s]
            assert [ctx.get(unit.nstep[k]) for k in range(n_outputs)] == [int(-(v >> s)) for v in oc]
            assert [ctx.get(unit.baseline[k]) for k in range(n_outputs)] == [int(v) for v in b]
            assert ctx.get(unit.readout_active) == 1      # the readout jobs wait for the engine
            jobs = []
            ctx.set(unit.job_ready, 1)
            while ctx.get(unit.readout_active):
                if ctx.get(unit.job_go):
                    jobs.append((ctx.get(unit.job_group), [ctx.get(f) for f in unit.job_factor]))
                await ctx.tick()
            ctx.set(unit.job_ready, 0)
            P = cfg.lanes
            want = [(c, [int(e[c * P + p]) if c * P + p < n_outputs else 0 for p in range(P)])
                    for c in range(cfg.groups(n_outputs))]
            assert jobs == want
            checked.append(lab)

    sim = Simulator(unit)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(checked) == len(rounds)
