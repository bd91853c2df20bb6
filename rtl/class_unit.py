"""The class unit: after a training step's forward pass, the output error ``e_k``, the
feedback step ``(o_k - b_k) >> s``, its negation and the new baseline ``b_k``, one class per
cycle, and the hand-over of the readout update's jobs.

The twin of the error and baseline lines of :meth:`golden.core.FixedCore._step`
(``golden/error.py``, ``golden/feedback.py``).  Stage A takes ``o_0`` from the readout in
``STEP_END`` itself and ``o_1 ..`` from a ring of copies made then and turned once per
class (a counter resting at class 0 tracks k), and registers ``o_k`` with
``2**s - 1 - o_k`` and "k is the label"; stage B (a one-hot cursor) makes ``e_k``, the step,
its negation as ``(b_k + 2**s - 1 - o_k) >> s`` (one addition) and the new ``b_k``.  The
baselines are a ring that turns once per class: stage B always reads ``b[0]`` and its
update enters at the far end, so after ``nout`` turns every baseline is back in place and no
multiplexer sits on them.  The first M pass picks class ``k`` in ``STEP_END + 2 + k``, the
first cycle stage B's result is there, so the unit costs no cycle.  The readout engine's
jobs (one per output word group) start after the last class.
"""

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .error import output_error
from .feedback import baseline_update, feedback_step, negated_feedback_step, negated_step_bias
from .memories import group_select
from .params import check_config, check_int

__all__ = ["ClassUnit"]


class ClassUnit(wiring.Component):
    """Error, feedback steps and baselines of every class; the readout update's jobs.

    The unit owns the baselines ``b_k`` and errors ``e_k`` (registers); the host writes a
    baseline through ``base_we`` / ``base_data`` (that write wins over the ring's turn).

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only, like every parameter: ``n_outputs``, ``output_bits``, the error and
        feedback shifts, the lanes.
    factor_bits : int
        Width of the readout engine's job factor (at least the error's width).

    Ports
    -----
    start : In(1)
        Starts the unit (``STEP_END`` of a training step); stage A has class 0 in that cycle.
    label : In(range(n_outputs))
        The sample's label.
    outputs : In(signed(output_bits)).array(n_outputs)
        The readout ``o_k``.
    base_we : In(n_outputs)
        One-hot: the host writes ``base_data`` into that baseline.
    base_data : In(signed(output_bits))
    baseline : Out(signed(output_bits)).array(n_outputs)
        ``b_k`` (registers).
    error : Out(signed(error_frac_bits + 2)).array(n_outputs)
        ``e_k`` (registers).
    step, nstep : Out(signed(output_bits + 2)).array(n_outputs)
        Per class: the feedback step and its negation (registers; the M passes pick them).
    readout_active : Out(1)
        Readout jobs are left to hand over.
    job_ready : In(1)
        The readout engine takes a job.
    job_go : Out(1)
        A job is handed over (combinational, while ``readout_active & job_ready``).
    job_group : Out(range(groups(n_outputs) + 1))
        Its output word group (a register).
    job_factor : Out(signed(factor_bits)).array(lanes)
        Its factors: the group's errors.
    """

    def __init__(self, *, cfg, factor_bits=18):
        check_config(cfg)
        nout, ob, eb, P = cfg.n_outputs, cfg.output_bits, cfg.error_frac_bits + 2, cfg.lanes
        check_int("factor_bits", factor_bits, eb)
        self.cfg, self.factor_bits = cfg, factor_bits
        super().__init__({
            "start": In(1),
            "label": In(range(nout)),
            "outputs": In(signed(ob)).array(nout),
            "base_we": In(nout),
            "base_data": In(signed(ob)),
            "baseline": Out(signed(ob)).array(nout),
            "error": Out(signed(eb)).array(nout),
            "step": Out(signed(ob + 2)).array(nout),
            "nstep": Out(signed(ob + 2)).array(nout),
            "readout_active": Out(1),
            "job_ready": In(1),
            "job_go": Out(1),
            "job_group": Out(range(cfg.groups(nout) + 1)),
            "job_factor": Out(signed(factor_bits)).array(P),
        })

    def elaborate(self, platform):
        cfg, P, nout, ob = self.cfg, self.cfg.lanes, self.cfg.n_outputs, self.cfg.output_bits
        m = Module()
        cls_idx = Signal(range(nout), name="cls_idx")      # stage A: the class picked (rests at 0)
        cls_1h = Signal(nout, name="cls_1h")               # stage B: one-hot class (0 when idle)
        cls_on = Signal(name="cls_on")                     # registered: cls_1h is not 0
        cls_o = Signal(signed(ob), name="cls_o", reset_less=True)         # stage A -> B: o_k
        cls_bias = Signal(signed(ob + 1), name="cls_bias", reset_less=True)  # negated_step_bias(o_k)
        cls_lab = Signal(name="cls_lab")                   # stage A -> B: k is the label
        outputs, b, error = Array(self.outputs), self.baseline, self.error
        step, nstep = self.step, self.nstep

        # the readout jobs, one per output word group; a job's factors are the group's errors
        eb, groups = cfg.error_frac_bits + 2, cfg.groups(nout)
        ro_gsel = group_select(self.job_group, groups)
        e_word = [Array(error[cc * P + p] if cc * P + p < nout else Const(0, signed(eb))
                        for cc in range(groups))[ro_gsel] for p in range(P)]
        m.d.comb += [self.job_factor[p].eq(e_word[p]) for p in range(P)]
        with m.If(self.readout_active & self.job_ready):
            m.d.comb += self.job_go.eq(1)
            m.d.sync += self.job_group.eq(self.job_group + 1)
            with m.If(self.job_group == groups - 1):
                m.d.sync += self.readout_active.eq(0)

        # stages A and B.  Stage A takes o_0 straight from the readout (in STEP_END), and
        # o_1 .. o_{nout-1} from a ring of copies made in that cycle and turned once per
        # class, so that no nout-way multiplexer sits before the bias's carry chain
        ring = [Signal(signed(ob), name=f"cls_ring_{k}", reset_less=True) for k in range(nout - 1)]
        on_ring = Signal(name="cls_on_ring")               # stage A takes ring[0] (cls_idx != 0)
        o_pick = Mux(on_ring, ring[0], outputs[0]) if ring else outputs[0]
        m.d.sync += [cls_o.eq(o_pick), cls_bias.eq(negated_step_bias(cfg, o_pick)),
                     cls_lab.eq(self.label == cls_idx)]
        m.d.sync += [ring[k].eq(Mux(self.start, outputs[k + 1], ring[k + 1] if k + 2 < nout else ring[k]))
                     for k in range(nout - 1)]
        with m.If(cls_idx != 0):
            m.d.sync += cls_idx.eq(Mux(cls_idx == nout - 1, 0, cls_idx + 1))
            with m.If(cls_idx == nout - 1):
                m.d.sync += on_ring.eq(0)
        m.d.sync += cls_1h.eq(cls_1h << 1)
        with m.If(cls_1h[nout - 1]):
            m.d.sync += [cls_on.eq(0), self.readout_active.eq(1), self.job_group.eq(0)]
        cls_oc = cls_o - b[0]
        with m.If(cls_on):
            m.d.sync += [b[k].eq(b[k + 1]) for k in range(nout - 1)]
            m.d.sync += b[nout - 1].eq(baseline_update(cfg, b[0], cls_oc))
        for k in range(nout):
            with m.If(cls_1h[k]):
                m.d.sync += [error[k].eq(output_error(cfg, cls_o, cls_lab)),
                             step[k].eq(feedback_step(cfg, cls_oc)),
                             nstep[k].eq(negated_feedback_step(cfg, b[0], cls_bias))]

        # the host's baseline writes, then the start: both win over the ring and the cursor
        for k in range(nout):
            with m.If(self.base_we[k]):
                m.d.sync += b[k].eq(self.base_data)
        with m.If(self.start):
            m.d.sync += [cls_idx.eq(1 % nout), cls_1h.eq(1), cls_on.eq(1), on_ring.eq(nout > 1)]
        # what the formal checks (sim/formal_core.py) look at; set by each elaboration
        self.observed = {"one_hot": {"cls_1h": cls_1h}}
        return m
