"""The gateware LFSR bank against the golden bank, bit for bit (with and without antithetic
noise)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden.config import preset
from golden.noise import LfsrBank as GoldenBank, sample_noise
from rtl.noise import LfsrBank


def test_init():
    bank = LfsrBank(preset("digits"))
    assert len(bank.bits) == 8 and len(bank.rdata) == 32


def test_every_bit_matches_golden():
    cfg = preset("digits", lanes=4)
    dut = LfsrBank(cfg)
    ref = GoldenBank.from_config(cfg)
    rng = np.random.default_rng(0)
    steps = (rng.random(300) < 0.6).astype(int)
    seen = []

    async def tb(ctx):
        for s in steps:
            seen.append((ctx.get(dut.bits), [ctx.get(dut.rdata) for _ in range(1)]))
            ctx.set(dut.step, int(s))
            await ctx.tick()
        ctx.set(dut.step, 0)
        # states of every lane after the run
        for p in range(cfg.lanes):
            ctx.set(dut.sel, 1 << p)
            await ctx.tick()                        # the read is a register behind the select
            assert ctx.get(dut.rdata) == int(ref_states[p])

    expected = []
    for s in steps:
        expected.append(sum(int(b) << p for p, b in enumerate(ref.states & np.uint64(1))))
        if s:
            ref.step()
    ref_states = ref.states
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert [b for b, _ in seen] == expected


def test_host_write_overrides_step():
    cfg = preset("digits", lanes=2)
    dut = LfsrBank(cfg)

    async def tb(ctx):
        ctx.set(dut.sel, 0b10)
        ctx.set(dut.wdata, 0xABCD1234)
        ctx.set(dut.we, 1)
        ctx.set(dut.step, 1)
        await ctx.tick()
        ctx.set(dut.we, 0)
        await ctx.tick()                            # lane 0 stepped, lane 1 took the write
        assert ctx.get(dut.rdata) == 0xABCD1234
        ctx.set(dut.step, 0)
        ctx.set(dut.sel, 0)
        await ctx.tick()
        assert ctx.get(dut.rdata) == 0              # no lane selected

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()


def _run_training_steps(cfg, samples, idle_rng=None):
    """Drive the bank as the forward pass does over ``samples`` training samples: per step,
    layer and word, ``held`` is the word's signs of the step before and ``anti`` is high on
    odd steps; returns every word's ``bits`` (step order) and the final lane states."""
    dut = LfsrBank(cfg)
    words = [(l, c) for l, n in enumerate(cfg.hidden) for c in range(cfg.groups(n))]
    seen, states = [], []

    async def tb(ctx):
        regs = {}                                   # the core's noise registers: (l, c) -> word
        for _ in range(samples):
            for t in range(cfg.timesteps):
                ctx.set(dut.anti, t % 2)
                for w in words:
                    ctx.set(dut.held, regs.get(w, 0))
                    if idle_rng is not None and idle_rng.random() < 0.3:
                        await ctx.tick()            # a cycle without a step: nothing moves
                    bits = ctx.get(dut.bits)
                    seen.append(bits)
                    regs[w] = bits
                    ctx.set(dut.step, 1)
                    await ctx.tick()
                    ctx.set(dut.step, 0)
        for p in range(cfg.lanes):
            ctx.set(dut.sel, 1 << p)
            await ctx.tick()
            states.append(ctx.get(dut.rdata))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return seen, states


@pytest.mark.parametrize("antithetic", [False, True])
def test_training_noise_matches_generate(antithetic):
    # every hardware word against golden.noise.sample_noise, lane by lane for the lanes that
    # hold a neuron; then the LFSR states.  The bench raises ``anti`` on odd steps in both
    # cases: without the option the bank must ignore it (and ``held``)
    cfg = preset("digits", hidden=(7, 5), lanes=4, timesteps=4, antithetic=antithetic)
    samples = 3
    seen, states = _run_training_steps(cfg, samples, np.random.default_rng(1))
    ref = GoldenBank.from_config(cfg)
    k = 0
    for _ in range(samples):
        for step in sample_noise(cfg, ref, cfg.timesteps):
            for l, z in enumerate(step):
                for c in range(cfg.groups(len(z))):
                    for p in range(cfg.lanes):
                        j = c * cfg.lanes + p
                        if j < len(z):
                            assert (seen[k] >> p & 1) == (z[j] > 0), (k, l, j)
                    k += 1
    assert k == len(seen)
    assert states == [int(s) for s in ref.states]
