"""The feedback pass (rtl/feedback_pass.py), a component, on its own in Amaranth's simulator
against the golden model: ``g = M e`` (``top_down_signal``), the momentum update of ``M``
(``feedback_update``) and ``d = g psi`` (``neuron_factor``), for two training steps in a row
so that the second pass reads the first one's ``M``; the hidden engine's jobs (one per word
group with a nonzero ``d``, carrying the group's ``d``), with an engine that is not always
ready."""

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.config import preset
from golden.feedback import feedback_update, top_down_signal
from golden.lanes import address_bits, pack_matrix, unpack_matrix
from golden.update_rule import neuron_factor
from rtl.feedback_pass import FeedbackPass
from rtl.memories import READERS, WRITERS, LaneMemory

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def test_init():
    cfg = preset("digits", n_inputs=5, hidden=(4, 3), n_outputs=3, lanes=2)
    unit = FeedbackPass(cfg=cfg, multipliers="ecp5")
    assert unit.multipliers == "ecp5" and len(unit.error) == 3 and len(unit.job_factor) == 2
    assert len(unit.noise) == 4 + 4 and len(unit.job_group) == 2 and len(unit.job_layer) == 1
    assert len(unit.reads.feedback_1.addr) == 1 + 2 and len(unit.reads.surrogate_0.data) == 2 * 7
    assert len(unit.writes.feedback_0.en) == 2
    Fragment.get(unit, None)                                           # elaborates


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        FeedbackPass(cfg=None)


def test_init_wrong_multipliers():
    with pytest.raises(ValueError, match="multipliers must be one of"):
        FeedbackPass(cfg=preset("digits"), multipliers="dsp")


def test_init_positional():
    with pytest.raises(TypeError):
        FeedbackPass(preset("digits"))


def _bench(cfg, M, psi):
    """The unit with its feedback and surrogate memories, as rtl/core.py wires them."""
    P, nout = cfg.lanes, cfg.n_outputs
    m = Module()
    m.submodules.unit = unit = FeedbackPass(cfg=cfg)
    feedback, surrogate = [], []
    for l, n in enumerate(cfg.hidden):
        g = cfg.groups(n)
        feedback.append(LaneMemory(m, f"feedback_{l}", cfg.feedback_bits, P, g << address_bits(nout),
                                   pack_matrix(M[l], cfg.feedback_bits, P, g, address_bits(nout), nout),
                                   no_rw_check=True, lane_writes=True, writers=WRITERS["feedback"],
                                   readers=READERS["feedback"]))
        surrogate.append(LaneMemory(m, f"surrogate_{l}", cfg.surrogate_frac_bits + 1, P, g,
                                    pack_matrix([[v] for v in psi[l]], cfg.surrogate_frac_bits + 1, P, g, 0, 1),
                                    readers=READERS["surrogate"]))
        wiring.connect(m, getattr(unit.reads, f"feedback_{l}"), feedback[l].reader("feedback_pass"))
        wiring.connect(m, getattr(unit.reads, f"surrogate_{l}"), surrogate[l].reader("feedback_pass"))
        wiring.connect(m, getattr(unit.writes, f"feedback_{l}"), feedback[l].writer("feedback_pass"))
    return m, unit, feedback


@pytest.mark.parametrize("hidden, n_outputs, lanes", [((5, 3), 3, 2), ((9,), 10, 4), ((3, 2), 2, 1)])
def test_matches_golden(hidden, n_outputs, lanes):
    cfg = preset("digits", n_inputs=6, hidden=hidden, n_outputs=n_outputs, lanes=lanes)
    P, nout, fbb, s = cfg.lanes, cfg.n_outputs, cfg.feedback_bits, cfg.feedback_input_shift
    rng = np.random.default_rng(len(hidden) * 100 + n_outputs)
    hi = 1 << (fbb - 1)
    M = [rng.integers(-hi, hi, size=(n, nout)) for n in hidden]
    M[0][0, :] = hi - 1                                   # the extremes saturate
    M[0][-1, :] = -hi
    psi = [rng.integers(0, (1 << cfg.surrogate_frac_bits) + 1, size=n) for n in hidden]
    psi[-1][:lanes] = 0                                   # a group of zeros: no job for it
    m, unit, memories = _bench(cfg, M, psi)
    eb, ob = cfg.error_frac_bits + 2, cfg.output_bits
    rounds = [(rng.integers(-(1 << (eb - 1)), 1 << (eb - 1), size=nout),
               rng.integers(-(1 << ob), 1 << ob, size=nout),
               [rng.choice([-1, 1], size=n) for n in hidden]) for _ in range(2)]
    checked = []

    async def bench(ctx):
        nonlocal M
        for e, oc, z in rounds:
            for k in range(nout):
                ctx.set(unit.error[k], int(e[k]))
                ctx.set(unit.step[k], int(oc[k] >> s))
                ctx.set(unit.nstep[k], int(-(oc[k] >> s)))
            bits = 0
            offset = 0
            for l, n in enumerate(hidden):
                bits |= sum(1 << (offset + j) for j in range(n) if z[l][j] > 0)
                offset += cfg.groups(n) * P
            ctx.set(unit.noise, bits)
            ctx.set(unit.start, 1)                        # what the sequencer's STEP_END does
            await ctx.tick()
            ctx.set(unit.start, 0)
            jobs, cycles = [], 0
            while True:
                ready = int(rng.random() < 0.6)
                ctx.set(unit.job_ready, ready)
                go, done = ctx.get(unit.job_go), ctx.get(unit.done)
                assert not go or ready
                if go:
                    jobs.append((ctx.get(unit.job_layer), ctx.get(unit.job_group),
                                 [ctx.get(f) for f in unit.job_factor]))
                await ctx.tick()
                cycles += 1
                assert cycles < 2000
                if done:
                    break
            while ctx.get(unit.writing):
                await ctx.tick()
            want_jobs = []
            for l, n in enumerate(hidden):
                g = top_down_signal(cfg, M[l], e)
                d = neuron_factor(cfg, g, psi[l])
                for c in range(cfg.groups(n)):
                    lanes_d = [int(d[c * P + p]) if c * P + p < n else 0 for p in range(P)]
                    if any(lanes_d):
                        want_jobs.append((l, c, lanes_d))
            M = [feedback_update(cfg, M[l], z[l], oc) for l in range(len(hidden))]
            assert jobs == want_jobs
            for l, n in enumerate(hidden):
                got = unpack_matrix(lambda a, l=l: ctx.get(memories[l].memory.data[a]), n, nout,
                                    address_bits(nout), fbb, P)
                assert got == M[l].tolist()
            checked.append(len(jobs))
            assert (len(hidden) - 1, 0) not in [(l, c) for l, c, _ in jobs]     # the group of zeros

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(checked) == len(rounds) and sum(checked) > 0
