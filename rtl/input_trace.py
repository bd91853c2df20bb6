"""The input trace unit: ``a_0 = trace_step(a_0, x)``, one word per cycle, beside the
forward pass (which never touches ``trace_0``).

Issue, registered read data, decay, add and write: the twin of the input-trace line of
:meth:`golden.core.FixedCore._step` (``golden/trace.py``).  Started by ``STEP_CHECK``; the
step's end (``STEP_END``) waits for ``idle``, which it never has to on the presets.
"""

from amaranth.hdl import Cat, Signal

from .memories import group_select
from .trace import trace_add_spike, trace_decay

__all__ = ["InputTraceUnit"]


class InputTraceUnit:
    """Updates the input traces and their "nonzero" flags from this step's input spikes.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    trace : rtl.memories.LaneMemory
        ``trace_0``.
    xbits : Signal
        This step's input spikes.
    trace_nz : Signal
        The input traces' "nonzero" flags.

    Attributes
    ----------
    run : Signal
        Set (with ``count`` cleared) to start a pass over every word.
    idle : Signal
        Registered: the unit is not busy (one cycle late; it acts on a register).
    """

    def __init__(self, cfg, trace, xbits, trace_nz):
        self.cfg, self.trace, self.xbits, self.trace_nz = cfg, trace, xbits, trace_nz
        P, tb = cfg.lanes, cfg.trace_bits
        self.words = cfg.groups(cfg.n_inputs)
        self.run = Signal(name="tr_run")
        self.count = Signal(range(self.words + 1), name="tr_cnt")
        self.valid = Signal(3, name="tr_v")            # read data / decay / update stage valid
        self.index = [Signal(range(self.words + 1), name=f"tr_idx_{k}") for k in range(3)]
        self.word = Signal(P * tb, name="tr_word", reset_less=True)
        self.decayed = [Signal(tb, name=f"tr_decay_{p}", reset_less=True) for p in range(P)]
        self.idle = Signal(name="tr_idle")

    def elaborate(self, m):
        """Add the unit's logic to ``m`` (it drives ``trace_0``'s read address and write port)."""
        cfg, P, tb = self.cfg, self.cfg.lanes, self.cfg.trace_bits
        busy = self.run | self.valid.any()
        m.d.sync += self.idle.eq(~busy)   # STEP_END, many cycles after the unit's start
        m.d.sync += [self.valid.eq(Cat(self.run, self.valid[:2])), self.index[0].eq(self.count),
                     self.index[1].eq(self.index[0]), self.index[2].eq(self.index[1]),
                     self.word.eq(self.trace.rd.data)]
        m.d.sync += [self.decayed[p].eq(trace_decay(cfg, self.word[p * tb:(p + 1) * tb])) for p in range(P)]
        with m.If(self.run):
            self.trace.read(m, self.count)
            m.d.sync += self.count.eq(self.count + 1)
            with m.If(self.count == self.words - 1):
                m.d.sync += self.run.eq(0)
        with m.If(self.valid[2]):
            tsel = group_select(self.index[2], self.words)
            xs = self.xbits.word_select(tsel, P)
            new = [trace_add_spike(cfg, self.decayed[p], xs[p]) for p in range(P)]
            m.d.comb += [self.trace.wr.addr.eq(self.index[2]), self.trace.wr.en.eq(1),
                         self.trace.wr.data.eq(Cat(*new))]
            m.d.sync += self.trace_nz.word_select(tsel, P).eq(Cat(*(v != 0 for v in new)))
