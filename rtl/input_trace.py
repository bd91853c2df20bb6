"""The input trace unit: ``a_0 = trace_step(a_0, x)``, one word per cycle, beside the
forward pass (which never touches ``trace_0``).

Issue, registered read data, decay, add and write: the twin of the input-trace line of
:meth:`golden.core.FixedCore._step` (``golden/trace.py``).  Started by ``STEP_CHECK``; the
step's end (``STEP_END``) waits for ``idle``, which it never has to on the presets.

A component (:class:`InputTraceUnit`): it asks for ``trace_0``'s read and write ports through its
own ports (``rd_*``, ``wr_*``), which :class:`rtl.core.Core` hands to the memory, and it owns
the input traces' "nonzero" flags.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from golden.lanes import address_bits

from .memories import group_select
from .params import check_config
from .trace import trace_add_spike, trace_decay

__all__ = ["InputTraceUnit"]


class InputTraceUnit(wiring.Component):
    """Updates the input traces and their "nonzero" flags from this step's input spikes.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only: ``n_inputs``, ``lanes``, ``trace_bits`` and the trace decay.

    Ports
    -----
    start : In(1)
        Starts a pass over every word (``STEP_CHECK``).
    clear : In(1)
        Clears the "nonzero" flags (``START``'s ``CLEAR``).
    xbits : In(words * lanes)
        This step's input spikes.
    nonzero : Out(words * lanes)
        The input traces' "nonzero" flags (a register).
    idle : Out(1)
        Registered: the unit is not busy (one cycle late; it acts on a register).
    rd_en, rd_addr : Out(1), Out(address_bits(words))
        A read of ``trace_0`` whose data is used (its data is ``rd_data`` the next cycle).
    rd_data : In(lanes * trace_bits)
    wr_en, wr_addr, wr_data : Out(1), Out(address_bits(words)), Out(lanes * trace_bits)
        A write of a whole ``trace_0`` word.
    """

    def __init__(self, *, cfg):
        check_config(cfg)
        P, tb = cfg.lanes, cfg.trace_bits
        self.cfg = cfg
        self.words = words = cfg.groups(cfg.n_inputs)
        abits = address_bits(words)
        super().__init__({
            "start": In(1),
            "clear": In(1),
            "xbits": In(words * P),
            "nonzero": Out(words * P),
            "idle": Out(1),
            "rd_en": Out(1),
            "rd_addr": Out(abits),
            "rd_data": In(P * tb),
            "wr_en": Out(1),
            "wr_addr": Out(abits),
            "wr_data": Out(P * tb),
        })

    def elaborate(self, platform):
        cfg, P, tb, words = self.cfg, self.cfg.lanes, self.cfg.trace_bits, self.words
        m = Module()
        run = Signal(name="tr_run")
        count = Signal(range(words + 1), name="tr_cnt")
        valid = Signal(3, name="tr_v")            # read data / decay / update stage valid
        index = [Signal(range(words + 1), name=f"tr_idx_{k}") for k in range(3)]
        word = Signal(P * tb, name="tr_word", reset_less=True)
        decayed = [Signal(tb, name=f"tr_decay_{p}", reset_less=True) for p in range(P)]

        busy = run | valid.any()
        m.d.sync += self.idle.eq(~busy)   # STEP_END, many cycles after the unit's start
        m.d.sync += [valid.eq(Cat(run, valid[:2])), index[0].eq(count),
                     index[1].eq(index[0]), index[2].eq(index[1]), word.eq(self.rd_data)]
        m.d.sync += [decayed[p].eq(trace_decay(cfg, word[p * tb:(p + 1) * tb])) for p in range(P)]
        m.d.comb += [self.rd_en.eq(run), self.rd_addr.eq(count)]
        with m.If(run):
            m.d.sync += count.eq(count + 1)
            with m.If(count == words - 1):
                m.d.sync += run.eq(0)
        # the write's address and data are unconditional: the memory's port takes them
        # only with wr_en (one multiplexer, in rtl/core.py)
        tsel = group_select(index[2], words)
        # The spike word is picked one stage early into a register: a word_select over all
        # of ``xbits`` is a words-to-1 multiplexer (98 words for MNIST), too deep to sit in
        # front of the trace adder in the same cycle.  ``xbits`` holds still for the pass.
        xs = Signal(P, name="tr_spikes", reset_less=True)
        m.d.sync += xs.eq(self.xbits.word_select(group_select(index[1], words), P))
        new = [trace_add_spike(cfg, decayed[p], xs[p]) for p in range(P)]
        m.d.comb += [self.wr_addr.eq(index[2]), self.wr_en.eq(valid[2]), self.wr_data.eq(Cat(*new))]
        with m.If(valid[2]):
            m.d.sync += self.nonzero.word_select(tsel, P).eq(Cat(*(v != 0 for v in new)))
        # the sequencer's commands win (issued long after a pass, or before any)
        with m.If(self.clear):
            m.d.sync += self.nonzero.eq(0)
        with m.If(self.start):
            m.d.sync += [run.eq(1), count.eq(0)]
        return m
