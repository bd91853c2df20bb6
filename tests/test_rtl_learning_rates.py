"""The learning-rate registers (rtl/learning_rates.py), a component: parameters, and in
Amaranth's simulator the PARAM writes and the registered total shifts against
golden/protocol.py's bases (the engines shift by PARAM + base)."""

import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from golden.config import preset
from golden.protocol import lr_shift_bases, lr_shift_range
from rtl.learning_rates import RATE_BITS, SHIFT_BITS, LearningRates

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def test_init():
    cfg = preset("digits")
    rates = LearningRates(cfg=cfg)
    assert (rates.hidden_base, rates.readout_base) == lr_shift_bases(cfg)
    assert len(rates.hidden_rate) == RATE_BITS and len(rates.readout_shift) == SHIFT_BITS
    assert rates.signature.members["hidden_rate"].init == cfg.hidden_lr_shift
    assert rates.signature.members["readout_shift"].init == cfg.readout_lr_shift + rates.readout_base
    Fragment.get(rates, None)


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        LearningRates(cfg="digits")


def test_init_positional():
    with pytest.raises(TypeError):
        LearningRates(preset("digits"))


@pytest.mark.parametrize("name", ["digits", "yinyang"])
def test_writes_and_total_shifts(name):
    cfg = preset(name)
    rates = LearningRates(cfg=cfg)
    bases = lr_shift_bases(cfg)

    async def bench(ctx):
        # after reset: the configuration's shifts, and their totals already in place
        assert (ctx.get(rates.hidden_rate), ctx.get(rates.readout_rate)) == (cfg.hidden_lr_shift, cfg.readout_lr_shift)
        assert ctx.get(rates.hidden_shift) == cfg.hidden_lr_shift + bases[0]
        assert ctx.get(rates.readout_shift) == cfg.readout_lr_shift + bases[1]
        for row, (we, reg, total) in enumerate([(rates.hidden_we, rates.hidden_rate, rates.hidden_shift),
                                                (rates.readout_we, rates.readout_rate, rates.readout_shift)]):
            other = rates.readout_rate if row == 0 else rates.hidden_rate
            before = ctx.get(other)
            lo, hi = lr_shift_range(cfg, row)
            for value in (lo, hi, (lo + hi) // 2):
                ctx.set(rates.wdata, value)
                ctx.set(we, 1)
                await ctx.tick()
                ctx.set(we, 0)
                assert ctx.get(reg) == value and ctx.get(other) == before
                await ctx.tick()                     # the total shift is one cycle later
                assert ctx.get(total) == value + bases[row]

    sim = Simulator(rates)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
