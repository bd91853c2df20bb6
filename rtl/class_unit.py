"""The class unit: after a training step's forward pass, the output error ``e_k``, the
feedback step ``(o_k - b_k) >> s``, its negation and the new baseline ``b_k``, one class per
cycle, and the hand-over of the readout update's jobs.

The twin of the error and baseline lines of :meth:`golden.core.FixedCore._step`
(``golden/error.py``, ``golden/feedback.py``).  Stage A picks ``o_k`` (a counter resting at
class 0, so class 0 is picked in ``STEP_END`` itself) and registers it with
``2**s - 1 - o_k`` and "k is the label"; stage B (a one-hot cursor) makes ``e_k``, the step,
its negation as ``(b_k + 2**s - 1 - o_k) >> s`` (one addition) and the new ``b_k``.  The
baselines are a ring that turns once per class: stage B always reads ``b[0]`` and its
update enters at the far end, so after ``nout`` turns every baseline is back in place and no
multiplexer sits on them.  The first M pass picks class ``k`` in ``STEP_END + 2 + k``, the
first cycle stage B's result is there, so the unit costs no cycle.  The readout engine's
jobs (one per output word group) start after the last class.
"""

from amaranth.hdl import Array, Const, Mux, Signal, signed

from .error import output_error
from .feedback import baseline_update, feedback_step, negated_feedback_step, negated_step_bias
from .memories import group_select

__all__ = ["ClassUnit"]


class ClassUnit:
    """Error, feedback steps and baselines of every class; the readout update's jobs.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    regs : rtl.memories.NetworkRegisters
        ``outputs`` (read), ``baseline`` and ``error`` (written).
    class_step, class_nstep : Array of Signal
        Per class: the feedback step and its negation (written; the M passes pick them).
    label : Signal
        The sample's label.

    Attributes
    ----------
    start : method
        The statements that start the unit (in ``STEP_END`` of a training step).
    readout_active : Signal
        Readout jobs are left to hand over.
    """

    def __init__(self, cfg, regs, class_step, class_nstep, label):
        self.cfg, self.regs, self.class_step, self.class_nstep, self.label = \
            cfg, regs, class_step, class_nstep, label
        nout, ob = cfg.n_outputs, cfg.output_bits
        self.readout_active = Signal(name="ro_active")
        self.readout_group = Signal(range(cfg.groups(nout) + 1), name="ro_group")
        self.cls_idx = Signal(range(nout), name="cls_idx")      # stage A: the class picked (rests at 0)
        self.cls_1h = Signal(nout, name="cls_1h")               # stage B: one-hot class (0 when idle)
        self.cls_on = Signal(name="cls_on")                     # registered: cls_1h is not 0
        self.cls_o = Signal(signed(ob), name="cls_o", reset_less=True)         # stage A -> B: o_k
        self.cls_bias = Signal(signed(ob + 1), name="cls_bias", reset_less=True)  # negated_step_bias(o_k)
        self.cls_lab = Signal(name="cls_lab")                   # stage A -> B: k is the label

    def readout_jobs(self, m, engine, shift):
        """Hand the readout update to ``engine``, one job per output word group, while
        ``readout_active``; the factor of a job is the group's errors."""
        cfg, P, nout = self.cfg, self.cfg.lanes, self.cfg.n_outputs
        eb, groups = cfg.error_frac_bits + 2, cfg.groups(nout)
        ro_gsel = group_select(self.readout_group, groups)
        e_word = [Array(self.regs.error[cc * P + p] if cc * P + p < nout else Const(0, signed(eb))
                        for cc in range(groups))[ro_gsel] for p in range(P)]
        m.d.comb += ([engine.layer.eq(0), engine.group.eq(self.readout_group), engine.shift.eq(shift)]
                     + [engine.factor[p].eq(e_word[p]) for p in range(P)])
        with m.If(self.readout_active & engine.ready):
            m.d.comb += engine.go.eq(1)
            m.d.sync += self.readout_group.eq(self.readout_group + 1)
            with m.If(self.readout_group == groups - 1):
                m.d.sync += self.readout_active.eq(0)

    def elaborate(self, m):
        """Add stages A and B to ``m``."""
        cfg, nout, regs = self.cfg, self.cfg.n_outputs, self.regs
        b = regs.baseline
        m.d.sync += [self.cls_o.eq(regs.outputs[self.cls_idx]),
                     self.cls_bias.eq(negated_step_bias(cfg, regs.outputs[self.cls_idx])),
                     self.cls_lab.eq(self.label == self.cls_idx)]
        with m.If(self.cls_idx != 0):
            m.d.sync += self.cls_idx.eq(Mux(self.cls_idx == nout - 1, 0, self.cls_idx + 1))
        m.d.sync += self.cls_1h.eq(self.cls_1h << 1)
        with m.If(self.cls_1h[nout - 1]):
            m.d.sync += [self.cls_on.eq(0), self.readout_active.eq(1), self.readout_group.eq(0)]
        cls_oc = self.cls_o - b[0]
        with m.If(self.cls_on):
            m.d.sync += [b[k].eq(b[k + 1]) for k in range(nout - 1)]
            m.d.sync += b[nout - 1].eq(baseline_update(cfg, b[0], cls_oc))
        for k in range(nout):
            with m.If(self.cls_1h[k]):
                m.d.sync += [regs.error[k].eq(output_error(cfg, self.cls_o, self.cls_lab)),
                             self.class_step[k].eq(feedback_step(cfg, cls_oc)),
                             self.class_nstep[k].eq(negated_feedback_step(cfg, b[0], self.cls_bias))]

    def start(self):
        """Statements (for ``m.d.sync``) that start the unit; stage A has class 0 in the
        cycle they are issued."""
        return [self.cls_idx.eq(1 % self.cfg.n_outputs), self.cls_1h.eq(1), self.cls_on.eq(1)]
