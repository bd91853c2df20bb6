"""The forward pass (rtl/forward_pass.py), a component, on its own in Amaranth's simulator
against the golden model's forward half (:meth:`golden.core.FixedCore._step`: ``lif_step``,
``surrogate``, ``trace_step``, the saturated readout and the totals), step after step, in
inference and in training (noisy firing, with the LFSR bank the pass steps); ``clear``
clears the spikes, totals and nonzero-trace flags."""

import numpy as np
import pytest
from amaranth.hdl import Fragment, Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden.arith import saturate
from golden.config import preset
from golden.core import FixedCore
from golden.lanes import unpack_vector
from golden.neuron import lif_step, surrogate
from golden.trace import trace_step
from rtl.forward_pass import ForwardPass
from rtl.memories import CoreMemories
from rtl.noise import LfsrBank

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def test_init():
    cfg = preset("digits", n_inputs=5, hidden=(4, 3), n_outputs=3, lanes=2, timesteps=4)
    unit = ForwardPass(cfg=cfg)
    assert unit.read_names == ("weights_0", "weights_1", "readout", "membrane_0", "membrane_1",
                               "trace_1", "trace_2")
    assert unit.write_names == ("membrane_0", "membrane_1", "surrogate_0", "surrogate_1", "trace_1", "trace_2")
    assert len(unit.x) == 5 and len(unit.xbits) == 6 and len(unit.spikes) == 4 + 4
    assert len(unit.trace_nz) == 4 + 4 and len(unit.outputs) == 3 and len(unit.total[0]) == cfg.output_bits + 3
    assert len(unit.writes.membrane_0.en) == 1 and len(unit.reads.weights_1.addr) == 1 + 2
    Fragment.get(unit, None)                                           # elaborates


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        ForwardPass(cfg=(4, 3))


def test_init_positional():
    with pytest.raises(TypeError):
        ForwardPass(preset("digits"))


def _bench(cfg):
    """The unit with the memories (initialised as the core's) and the LFSR bank, as
    rtl/core.py wires them; the bench drives the bank's ``anti`` (the sequencer's
    ``pair_second``)."""
    m = Module()
    memories = CoreMemories(m, cfg)
    m.submodules.unit = unit = ForwardPass(cfg=cfg)
    m.submodules.lfsr = lfsr = LfsrBank(cfg)
    m.d.comb += [unit.lfsr_bits.eq(lfsr.bits), lfsr.step.eq(unit.lfsr_step), lfsr.held.eq(unit.noise_held)]
    for name in unit.read_names:
        wiring.connect(m, getattr(unit.reads, name), memories.by_name[name].reader("forward"))
    for name in unit.write_names:
        wiring.connect(m, getattr(unit.writes, name), memories.by_name[name].writer("forward"))
    return m, unit, memories, lfsr


@pytest.mark.parametrize("hidden, lanes, train, antithetic",
                         [((6, 5), 4, False, False), ((6, 5), 4, True, False), ((9,), 1, True, False),
                          ((20,), 8, True, False), ((6, 5), 4, True, True), ((20,), 8, True, True)])
def test_matches_golden(hidden, lanes, train, antithetic):
    # antithetic: the bench raises the bank's ``anti`` on the sample's odd steps, as the
    # sequencer does; the pass must hand the bank each word's signs of the step before
    cfg = preset("digits", n_inputs=11, hidden=hidden, n_outputs=3, lanes=lanes, timesteps=6,
                 antithetic=antithetic)
    P, L = cfg.lanes, cfg.n_hidden_layers
    m, unit, memories, lfsr = _bench(cfg)
    gold = FixedCore(cfg)
    rng = np.random.default_rng(sum(hidden) + lanes)
    steps = (rng.random((6, cfg.n_inputs)) < 0.6).astype(np.int64)
    seen = []

    def words(name, n, bits, signed_):
        return lambda ctx: unpack_vector(lambda a: ctx.get(memories.by_name[name].memory.data[a]), n, bits, P, signed_)

    def bits_of(value, offsets, l, n):
        return [value >> (offsets[l] + j) & 1 for j in range(n)]

    async def bench(ctx):
        ctx.set(unit.train, int(train))
        offsets = np.cumsum([0] + [cfg.groups(n) * P for n in hidden])
        for t, x in enumerate(steps):
            if t == 4:                                   # a new sample: START's CLEAR
                ctx.set(unit.clear, 1)
                await ctx.tick()
                ctx.set(unit.clear, 0)
                gold.spikes = [np.zeros(n, dtype=np.int64) for n in hidden]
                gold.total[:] = 0
                assert ctx.get(unit.spikes) == 0 and ctx.get(unit.trace_nz) == 0
                gold.step_index, gold.noise = 0, None
            ctx.set(unit.x, int(sum(int(b) << i for i, b in enumerate(x))))
            ctx.set(lfsr.anti, int(train and antithetic and gold.step_index % 2))
            ctx.set(unit.start, 1)                       # what the sequencer's STEP_CHECK does
            await ctx.tick()
            ctx.set(unit.start, 0)
            cycles = 0
            while not ctx.get(unit.done):
                await ctx.tick()
                cycles += 1
                assert cycles < 1000
            await ctx.tick().repeat(3)                   # FIN's stages 2 and 3, the totals
            z = gold._draw_noise() if train else [None] * L
            gold.step_index, gold.noise = gold.step_index + 1, z if train else None
            prev = x
            for l in range(L):
                gold.membranes[l], gold.spikes[l] = lif_step(cfg, gold.membranes[l], gold.spikes[l],
                                                             gold.weights[l] @ prev, z[l])
                gold.traces[l + 1] = trace_step(cfg, gold.traces[l + 1], gold.spikes[l])
                prev = gold.spikes[l]
            o = saturate(gold.weights[L] @ prev, cfg.output_bits)
            gold.total += o
            assert ctx.get(unit.xbits) == int(sum(int(b) << i for i, b in enumerate(x)))
            for l, n in enumerate(hidden):
                assert bits_of(ctx.get(unit.spikes), offsets, l, n) == gold.spikes[l].tolist()
                if train:
                    assert bits_of(ctx.get(unit.noise), offsets, l, n) == [int(v > 0) for v in z[l]]
                assert bits_of(ctx.get(unit.trace_nz), offsets, l, n) == [int(v != 0) for v in gold.traces[l + 1]]
                assert words(f"membrane_{l}", n, cfg.membrane_bits, True)(ctx) == gold.membranes[l].tolist()
                assert words(f"surrogate_{l}", n, cfg.surrogate_frac_bits + 1, False)(ctx) == \
                    surrogate(cfg, gold.membranes[l]).tolist()
                assert words(f"trace_{l + 1}", n, cfg.trace_bits, False)(ctx) == gold.traces[l + 1].tolist()
            assert [ctx.get(v) for v in unit.outputs] == o.tolist()
            assert [ctx.get(v) for v in unit.total] == gold.total.tolist()
            seen.append(int(sum(s.sum() for s in gold.spikes)))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == len(steps) and sum(seen) > 0
