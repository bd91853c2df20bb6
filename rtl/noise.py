"""The LFSR noise bank in gateware: one Fibonacci LFSR per lane (see :mod:`golden.noise`).

All lanes step together when ``step`` is high; ``bits[p]`` is lane ``p``'s current output
(bit 0 of its state), which becomes neuron ``c * P + p``'s noise sign (1: ``+sigma``).
The host can read and overwrite each lane's state.  Its lane select is one-hot and the state
it reads is registered: with 32 lanes a binary select decoded into every lane's enable and a
32-way multiplexer of 32-bit states were the longest paths of the core.

With ``cfg.antithetic`` the bank is the noise source of both steps of a pair: while
``anti`` is high (the second step of a pair) ``bits`` is ``~held``, the signs the same word
got on the step before, negated, and ``step`` is ignored (the LFSRs hold).  ``z`` is
``+/-1``, so the negation is exact: the other sign bit.  Without it both ports are unused
and the gateware is the plain bank.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from golden.config import LFSR_TAPS
from golden.noise import lane_seeds

from .arith import one_hot_pick

__all__ = ["LfsrBank"]


class LfsrBank(wiring.Component):
    """``P`` LFSRs of ``cfg.lfsr_bits`` bits, reset to the golden model's lane seeds.

    Ports
    -----
    step : In(1)
        Advance every lane by one step.
    bits : Out(P)
        Current output bit of each lane.
    sel : In(P)
        One-hot lane select of the host port (0: no lane).
    rdata : Out(W)
        A register: the state of the lane ``sel`` selected on the cycle before.
    we, wdata : In(1), In(W)
        Overwrite the state of the lane ``sel`` selects (takes precedence over ``step``).
    anti, held : In(1), In(P)
        ``cfg.antithetic`` only: the second step of a pair; the word's signs on the step
        before (1: ``+sigma``).
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.width = cfg.lfsr_bits
        super().__init__({
            "step": In(1),
            "bits": Out(cfg.lanes),
            "sel": In(cfg.lanes),
            "rdata": Out(self.width),
            "we": In(1),
            "wdata": In(self.width),
            "anti": In(1),
            "held": In(cfg.lanes),
        })

    def elaborate(self, platform):
        m = Module()
        W = self.width
        seeds = lane_seeds(self.cfg)
        states = [Signal(unsigned(W), init=seeds[p], name=f"lfsr{p}") for p in range(self.cfg.lanes)]
        fresh = Cat(s[0] for s in states)
        step = self.step
        if self.cfg.antithetic:
            m.d.comb += self.bits.eq(Mux(self.anti, ~self.held, fresh))
            step = self.step & ~self.anti          # a pair's second step draws nothing
        else:
            m.d.comb += self.bits.eq(fresh)
        m.d.sync += self.rdata.eq(one_hot_pick((self.sel[p], s) for p, s in enumerate(states)))
        for p, s in enumerate(states):
            fb = 0
            for t in LFSR_TAPS[W]:
                fb = fb ^ s[t]
            with m.If(self.we & self.sel[p]):
                m.d.sync += s.eq(self.wdata)
            with m.Elif(step):
                m.d.sync += s.eq(Cat(s[1:], fb))
        # the lanes' states, for the formal checks (sim/formal_core.py); set by each elaboration
        self.observed = {"states": states}
        return m
