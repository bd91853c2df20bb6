"""The feedback pass: ``g = M e`` with the old ``M``, the momentum update of ``M``, and
``d = g psi``, one word group of a hidden layer after another.

Per group: ``MP<l>_START`` (a layer's first group), ``MP<l>_RUN`` (one ``M`` word per class),
``MP<l>_G``, ``MP<l>_D``, ``MP<l>_D2`` (``d``) and ``WP<l>_JOB``, which hands ``(l, c, d)`` to
the hidden update engine (:mod:`rtl.update_engine`) and starts the next group.  The twin of
the learning half of :meth:`golden.core.FixedCore._step` (``golden/feedback.py``).

Timing: the word read from the feedback BRAM is registered first (with ``e_k`` and the
steps of its class), so that neither the ``M e`` multiply-accumulate nor the momentum
update starts at a BRAM output; the products are registered (multiplier -> register ->
adder); the momentum update is two stages (decay and the signed step, then add and
saturate) and its write-back comes from registers.  The pass's multipliers (both operands
registers) also make ``d = g psi`` at the end of a group, when they are free.
"""

from amaranth.hdl import Array, Cat, Const, Mux, Signal, signed

from golden.lanes import address_bits

from .feedback import feedback_apply, feedback_decay, top_down_signal
from .memories import lane
from .multiplier import registered_product
from .update_rule import factor_from_product, factor_is_zero

__all__ = ["FeedbackPass"]


class FeedbackPass:
    """The feedback pass's datapath and its sequencer states.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    memories : rtl.memories.CoreMemories
    regs : rtl.memories.NetworkRegisters
    passes : rtl.sequencer.PassControl
    multipliers : str
        :data:`rtl.multiplier.MULTIPLIER_KINDS`.
    """

    def __init__(self, cfg, memories, regs, passes, multipliers):
        self.cfg, self.mem, self.regs, self.passes, self.multipliers = cfg, memories, regs, passes, multipliers
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        feedback_bits, sb, ob = cfg.feedback_bits, cfg.signal_bits, cfg.output_bits
        self.class_bits = class_bits = address_bits(nout)
        psi_bits, eb = cfg.surrogate_frac_bits + 1, cfg.error_frac_bits + 2
        self.psi_bits = psi_bits
        self.step_bits = stepw = ob + 2
        gaccw = feedback_bits + eb + class_bits + 2
        self.gacc = [Signal(signed(gaccw), name=f"gacc_{p}") for p in range(P)]
        self.d = [Signal(signed(sb), name=f"d_{p}") for p in range(P)]
        self.d_any = Signal(name="d_any")     # some d of the group is nonzero (registered with d)
        self.psi_word = Signal(P * psi_bits, name="psi_word", reset_less=True)
        # stage 2 (the M word read, registered): valid, class, word, the class's steps
        self.word_valid = Signal(name="word_valid")
        self.word_class = Signal(range(nout), name="word_class")
        self.word_m = Signal(P * feedback_bits, name="word_m", reset_less=True)       # the old values
        self.word_step = Signal(signed(stepw), name="word_step", reset_less=True)
        self.word_nstep = Signal(signed(stepw), name="word_nstep", reset_less=True)
        self.word_first = Signal(name="word_first")   # stage 2 holds class 0: the accumulation starts
        # picked by the class counter into registers in the read stage (the pick's select is
        # a register, and the multiplier operands fb_y copy a register, not a multiplexer)
        self.pick_step = Signal(signed(stepw), name="pick_step", reset_less=True)
        self.pick_nstep = Signal(signed(stepw), name="pick_nstep", reset_less=True)
        self.pick_e = Signal(signed(eb), name="pick_e", reset_less=True)
        # every class's step and its negation (set by the class unit): the passes only pick
        self.class_step = Array(Signal(signed(stepw), name=f"oc_step_{k}") for k in range(nout))
        self.class_nstep = Array(Signal(signed(stepw), name=f"oc_nstep_{k}") for k in range(nout))
        # stage 3: the decayed M and the signed step registered
        self.update_valid = Signal(name="update_valid")
        self.update_class = Signal(range(nout), name="update_class")
        self.update_m = Signal(P * feedback_bits, name="update_m", reset_less=True)
        self.update_decayed = [Signal(signed(feedback_bits + 1), name=f"update_decayed_{p}", reset_less=True) for p in range(P)]
        self.update_step = [Signal(signed(stepw), name=f"update_step_{p}", reset_less=True) for p in range(P)]
        self.update_we = Signal(L, name="update_we")      # update_valid per layer: the write-back's select
        # stage 4: the new M word, its address and layer select registered, then written
        self.write_we = Signal(L, name="write_we")
        self.m_new = Signal(P * feedback_bits, name="m_new")
        self.write_m = Signal(P * feedback_bits, name="write_m", reset_less=True)
        # the multiplier operands and the accumulation a cycle after the products
        self.mul_a = [Signal(signed(max(feedback_bits, sb)), name=f"mul_a_{p}", reset_less=True) for p in range(P)]
        self.mul_b = [Signal(signed(max(eb, psi_bits + 1)), name=f"mul_b_{p}", reset_less=True) for p in range(P)]
        self.gacc_next = [Signal(signed(gaccw), name=f"gacc_next_{p}") for p in range(P)]
        self.product_valid = Signal(name="product_valid")
        self.product_first = Signal(name="product_first")
        self.g_phase = Signal(name="g_phase")             # registered: this cycle is an MP_G
        self.g_reg = [Signal(signed(sb), name=f"g_{p}", reset_less=True) for p in range(P)]

    def elaborate(self, m):
        """Add the pass's datapath to ``m``: ``gacc += M e_k``, the momentum update of the
        valid lanes, ``g`` and the ``g psi`` operands."""
        cfg, ps, P, L = self.cfg, self.passes, self.cfg.lanes, self.cfg.n_hidden_layers
        feedback_bits, psi_bits, class_bits = cfg.feedback_bits, self.psi_bits, self.class_bits
        self.products = [registered_product(m, self.mul_a[p], self.mul_b[p], name=f"product_{p}",
                                             kind=self.multipliers) for p in range(P)]
        m_rd = ps.layer_pick([mf.rd.data for mf in self.mem.feedback] + [Const(0, P * feedback_bits)])
        self.m_rd = m_rd
        m.d.sync += [self.product_valid.eq(self.word_valid), self.product_first.eq(self.word_first)]
        m.d.sync += [self.update_valid.eq(self.word_valid), self.update_class.eq(self.word_class), self.update_m.eq(self.word_m)]
        m.d.sync += self.update_we.eq(Cat(*(self.word_valid & (ps.lsel == l) for l in range(L))))
        self.write_addr = Signal(len((ps.group << class_bits) | self.update_class), name="write_addr", reset_less=True)
        m.d.sync += [self.write_we.eq(self.update_we), self.write_m.eq(self.m_new),
                     self.write_addr.eq((ps.group << class_bits) | self.update_class)]
        # The multiplier operands load every cycle through one 2:1 multiplexer whose select
        # is a register (no state decode after the feedback BRAM's late output): M[j, k]
        # and e_k in an M pass; g and psi in MP_G (g_phase), whose product d is taken in MP_D2.
        # Outside those the products are not used (gacc adds only under fb_pv).
        # g = top_down_signal(gacc) is registered every cycle: in MP_G it holds the final
        # sum's (the pass leaves MP_RUN only when no accumulation is pending).
        m.d.sync += self.g_phase.eq(0)
        m.d.sync += [self.g_reg[p].eq(top_down_signal(cfg, self.gacc[p])) for p in range(P)]
        m.d.sync += [self.mul_a[p].eq(Mux(self.g_phase, self.g_reg[p], lane(m_rd, feedback_bits, p))) for p in range(P)]
        m.d.sync += [self.mul_b[p].eq(Mux(self.g_phase, self.psi_word[p * psi_bits:(p + 1) * psi_bits], self.pick_e))
                     for p in range(P)]
        for p in range(P):
            m.d.comb += self.gacc_next[p].eq(Mux(self.product_first, 0, self.gacc[p]) + self.products[p])
            m.d.sync += [self.update_decayed[p].eq(feedback_decay(cfg, lane(self.word_m, feedback_bits, p))),
                         self.update_step[p].eq(Mux(ps.z_word[p], self.word_step, self.word_nstep))]
            m.d.comb += self.m_new[p * feedback_bits:(p + 1) * feedback_bits].eq(
                Mux(ps.gv_word[p], feedback_apply(cfg, self.update_decayed[p], self.update_step[p]),
                    lane(self.update_m, feedback_bits, p)))

    def write_back(self, m):
        """The new M words into the feedback memories (``write_we`` is only set inside the
        passes and just after)."""
        for l, mf in enumerate(self.mem.feedback):
            w = mf.writer("feedback_pass")
            m.d.comb += [w.valid.eq(self.write_we[l]), w.addr.eq(self.write_addr), w.en.eq(mf.all_lanes),
                         w.data.eq(self.write_m)]

    def states(self, m, hidden_engine, hidden_shift):
        """The sequencer states of the feedback passes (``MP<l>_*``, ``WP<l>_JOB``); the
        last layer's last group goes to ``DRAIN``."""
        cfg, ps, mem, regs = self.cfg, self.passes, self.mem, self.regs
        P, L, nout, class_bits = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs, self.class_bits
        groups = [cfg.groups(n) for n in cfg.sizes]
        for l in range(L):
            nxt = "DRAIN" if l == L - 1 else f"MP{l + 1}_START"

            def start_mp(g, l=l, read=True):
                """Set up the M pass of group ``g``: its surrogate word read, its group bits."""
                if read:
                    mem.surrogate[l].read(m, g)
                m.d.sync += [ps.class_count.eq(0), ps.data_valid.eq(0), self.word_valid.eq(0), ps.first.eq(1), ps.lsel.eq(l)]
                m.d.sync += ps.group_bits(l, g)
            with m.State(f"MP{l}_START"):      # a layer's first group
                start_mp(ps.group)
                m.next = f"MP{l}_RUN"
            with m.State(f"MP{l}_RUN"):
                with m.If(ps.first):
                    m.d.sync += self.psi_word.eq(mem.surrogate[l].rd.data)
                with m.If(ps.class_count < nout):
                    mem.feedback[l].read(m, (ps.group << class_bits) | ps.class_count)
                    m.d.sync += [ps.class_count.eq(ps.class_count + 1), ps.data_class.eq(ps.class_count)]
                # class class_count's values, for the data stage (data_class) next cycle; in the first
                # M pass the class unit has registered class k just then
                kpick = ps.class_count[:class_bits] if nout > 1 else 0
                m.d.sync += [self.pick_e.eq(regs.error[kpick]), self.pick_step.eq(self.class_step[kpick]),
                             self.pick_nstep.eq(self.class_nstep[kpick])]
                m.d.sync += [ps.data_valid.eq(ps.class_count < nout), ps.first.eq(0),
                             ps.last_grp.eq(ps.group == groups[l + 1] - 1)]
                m.d.sync += [self.word_valid.eq(ps.data_valid), self.word_class.eq(ps.data_class), self.word_m.eq(self.m_rd),
                             self.word_step.eq(self.pick_step), self.word_nstep.eq(self.pick_nstep),
                             self.word_first.eq(ps.data_class == 0)]
                with m.If(self.product_valid):
                    m.d.sync += [self.gacc[p].eq(self.gacc_next[p]) for p in range(P)]
                with m.If((ps.class_count == nout) & ~ps.data_valid & ~self.word_valid & ~self.product_valid & ~self.update_valid & ~ps.first):
                    m.next = f"MP{l}_G"
                    m.d.sync += self.g_phase.eq(1)
            with m.State(f"MP{l}_G"):
                m.next = f"MP{l}_D"
            # the product g * psi registered (fb_prod_r, the products' only register, so
            # each multiplier drives one set of flip-flops) ...
            with m.State(f"MP{l}_D"):
                m.next = f"MP{l}_D2"
            with m.State(f"MP{l}_D2"):      # ... then rounded and saturated into d
                m.d.sync += [self.d[p].eq(factor_from_product(cfg, self.products[p])) for p in range(P)]
                m.d.sync += self.d_any.eq(~Cat(*(factor_is_zero(cfg, v) for v in self.products)).all())
                m.next = f"WP{l}_JOB"
            # weight pass of word group c over the inputs with a nonzero trace: handed
            # to the engine (skipped when d = 0), then on to the next group's M pass,
            # which this state also starts
            with m.State(f"WP{l}_JOB"):
                mem.surrogate[l].read(m, ps.gnext)     # the next group's, whether or not it starts now
                m.d.comb += [hidden_engine.layer.eq(l), hidden_engine.group.eq(ps.group),
                             hidden_engine.shift.eq(hidden_shift)]
                m.d.comb += [hidden_engine.factor[p].eq(self.d[p]) for p in range(P)]
                with m.If(hidden_engine.ready | ~self.d_any):
                    m.d.comb += hidden_engine.go.eq(self.d_any)
                    with m.If(ps.last_grp):
                        m.d.sync += ps.group.eq(0)
                        m.next = nxt
                    with m.Else():
                        m.d.sync += ps.group.eq(ps.gnext)
                        start_mp(ps.gnext, read=False)
                        m.next = f"MP{l}_RUN"
