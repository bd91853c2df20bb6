"""The LFSR noise bank in gateware: one Fibonacci LFSR per lane (see :mod:`golden.noise`).

All lanes step together when ``step`` is high; ``bits[p]`` is lane ``p``'s current output
(bit 0 of its state), which becomes neuron ``c * P + p``'s noise sign (1: ``+sigma``).
The host can read and overwrite each lane's state.
"""

from amaranth.hdl import Array, Cat, Module, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from golden.config import LFSR_TAPS
from golden.noise import lane_seeds

__all__ = ["LfsrBank"]


class LfsrBank(wiring.Component):
    """``P`` LFSRs of ``cfg.lfsr_bits`` bits, reset to the golden model's lane seeds.

    Ports
    -----
    step : In(1)
        Advance every lane by one step.
    bits : Out(P)
        Current output bit of each lane.
    sel, rdata : In(range(P)), Out(W)
        Read the state of lane ``sel``.
    we, wdata : In(1), In(W)
        Overwrite the state of lane ``sel`` (takes precedence over ``step``).
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.width = cfg.lfsr_bits
        super().__init__({
            "step": In(1),
            "bits": Out(cfg.lanes),
            "sel": In(range(cfg.lanes)) if cfg.lanes > 1 else In(1),
            "rdata": Out(self.width),
            "we": In(1),
            "wdata": In(self.width),
        })

    def elaborate(self, platform):
        m = Module()
        W = self.width
        seeds = lane_seeds(self.cfg)
        states = [Signal(unsigned(W), init=seeds[p], name=f"lfsr{p}") for p in range(self.cfg.lanes)]
        m.d.comb += self.bits.eq(Cat(s[0] for s in states))
        m.d.comb += self.rdata.eq(Array(states)[self.sel])
        for p, s in enumerate(states):
            fb = 0
            for t in LFSR_TAPS[W]:
                fb = fb ^ s[t]
            with m.If(self.we & (self.sel == p)):
                m.d.sync += s.eq(self.wdata)
            with m.Elif(self.step):
                m.d.sync += s.eq(Cat(s[1:], fb))
        # the lanes' states, for the formal checks (sim/formal_core.py); set by each elaboration
        self.observed = {"states": states}
        return m
