"""The feedback pass: ``g = M e`` with the old ``M``, the momentum update of ``M``, and
``d = g psi``, one word group of a hidden layer after another.

A component (:class:`FeedbackPass`) with its own one-hot FSM.  ``start`` (the sequencer's
``STEP_END`` of a training step) runs every hidden layer's groups; per group:
``MP<l>_START`` (a layer's first group), ``MP<l>_RUN`` (one ``M`` word per class),
``MP<l>_G``, ``MP<l>_D``, ``MP<l>_D2`` (``d``) and ``WP<l>_JOB``, which hands ``(l, c, d)`` to
the hidden update engine (:mod:`rtl.update_engine`) and starts the next group; ``done`` is
high in the last group's hand-over.  The twin of the learning half of
:meth:`golden.core.FixedCore._step` (``golden/feedback.py``, ``neuron_factor``).

Timing: the word read from the feedback BRAM is registered first (with ``e_k`` and the
steps of its class), so that neither the ``M e`` multiply-accumulate nor the momentum
update starts at a BRAM output; the products are registered (multiplier -> register ->
adder); the momentum update is two stages (decay and the signed step, then add and
saturate) and its write-back comes from registers.  The pass's multipliers (both operands
registers) also make ``d = g psi`` at the end of a group, when they are free.
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from golden.lanes import address_bits

from .feedback import feedback_apply, feedback_decay, top_down_signal
from .memories import group_select, lane, memory_shapes, read_request, valid_lanes
from .multiplier import MULTIPLIER_KINDS, registered_product
from .params import check_config
from .arith import one_hot_pick
from .update_rule import factor_is_zero, factor_round, factor_saturate
from .write_port_mux import write_request

__all__ = ["FeedbackPass"]


class FeedbackPass(wiring.Component):
    """The feedback passes of a training step and their hand-over to the hidden engine.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only, like every parameter: sizes, lanes, the feedback and signal widths.
    multipliers : {"inferred", "ecp5"}
        How the products' registers are made (:data:`rtl.multiplier.MULTIPLIER_KINDS`).

    Ports
    -----
    start : In(1)
        Starts the passes (``STEP_END``); ``MP0_START`` is the next cycle.
    done : Out(1)
        The last group is handed over this cycle (combinational).
    writing : Out(1)
        A new ``M`` word is still to be written (the step's learning is not over).
    error : In(signed(error_frac_bits + 2)).array(n_outputs)
    step, nstep : In(signed(output_bits + 2)).array(n_outputs)
        The class unit's ``e_k``, feedback steps and their negations (picked per class).
    noise : In(sum of the hidden layers' word groups times lanes)
        This step's noise signs, layer 0's first (``Cat`` of ``NetworkRegisters.noise``).
    reads : Out(...)
        :func:`rtl.memories.read_request` of ``feedback_<l>`` and ``surrogate_<l>``.
    writes : Out(...)
        The ``feedback_pass`` write request of each ``feedback_<l>``.
    job_ready : In(1), job_go : Out(1)
        The hidden engine takes a job; one is handed over (combinational, in ``WP<l>_JOB``).
    job_layer : Out(range(max(L, 2))), job_group : Out(...), job_factor : Out(signed(signal_bits)).array(lanes)
        The job: its layer (``l`` in ``WP<l>_JOB``, else 0), word group (a register) and ``d``
        (the saturation of a register, the rounded product).
    """

    def __init__(self, *, cfg, multipliers="inferred"):
        check_config(cfg)
        if multipliers not in MULTIPLIER_KINDS:
            raise ValueError(f"multipliers must be one of {MULTIPLIER_KINDS}, got {multipliers!r}")
        self.cfg, self.multipliers = cfg, multipliers
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        shapes = memory_shapes(cfg)
        self.groups = groups = [cfg.groups(n) for n in cfg.sizes]
        self.noise_bits = [groups[l + 1] * P for l in range(L)]
        stepw, eb = cfg.output_bits + 2, cfg.error_frac_bits + 2
        super().__init__({
            "start": In(1), "done": Out(1), "writing": Out(1),
            "error": In(signed(eb)).array(nout),
            "step": In(signed(stepw)).array(nout),
            "nstep": In(signed(stepw)).array(nout),
            "noise": In(sum(self.noise_bits)),
            "reads": Out(wiring.Signature({name: Out(read_request(cfg, name))
                                           for l in range(L) for name in (f"feedback_{l}", f"surrogate_{l}")})),
            "writes": Out(wiring.Signature({
                f"feedback_{l}": Out(write_request(ceil_log2(shapes[f"feedback_{l}"][1]), P, cfg.feedback_bits * P))
                for l in range(L)})),
            "job_ready": In(1), "job_go": Out(1),
            "job_layer": Out(range(max(L, 2))),
            "job_group": Out(range(max(groups[1:L + 1]) + 1)),
            "job_factor": Out(signed(cfg.signal_bits)).array(P),
        })

    def elaborate(self, platform):
        cfg, P, L, nout, groups = self.cfg, self.cfg.lanes, self.cfg.n_hidden_layers, self.cfg.n_outputs, self.groups
        fbb, sb, ob = cfg.feedback_bits, cfg.signal_bits, cfg.output_bits
        class_bits = address_bits(nout)
        psi_bits, eb, stepw = cfg.surrogate_frac_bits + 1, cfg.error_frac_bits + 2, ob + 2
        gaccw = fbb + eb + class_bits + 2
        m = Module()
        # the pass registers: the word group, the class counter, the data-stage valid bits,
        # the layer select (a register, so no state decode sits before the wide
        # multiplexers) and the current group's noise signs and lane-valid bits
        group = Signal(range(max(groups) + 1), name="group")
        gnext = Signal.like(group, name="gnext")          # registered ``group + 1``
        m.d.sync += gnext.eq(group + 1)
        class_count = Signal(range(nout + 1), name="class_count")
        class_1h = Signal(nout, name="class_1h")         # one-hot class_count (0 once it is nout)
        data_valid = Signal(name="data_valid")            # data stage valid
        data_class = Signal(range(nout), name="data_class")
        first = Signal(name="first")                      # data stage: first cycle of a group
        last_grp = Signal(name="last_grp")                # registered: ``group`` is the layer's last
        lsel = Signal(range(L + 1), name="lsel")
        z_word = Signal(P, name="z_word")                 # this step's noise signs
        gv_word = Signal(P, name="gv_word")               # which lanes hold a neuron
        noise = [self.noise[sum(self.noise_bits[:l]):sum(self.noise_bits[:l + 1])] for l in range(L)]

        gacc = [Signal(signed(gaccw), name=f"gacc_{p}") for p in range(P)]
        # d = sat_sig(round_shift(g psi)): the rounded product is registered in MP_D2 and
        # saturated on the way out (job_factor), into the engine's factor register, so that
        # the rounding's carry chain and the saturation are in two cycles
        d = self.job_factor
        # "some d of the group is nonzero": per four lanes, "all zero" is registered with d,
        # and the hand-over combines the few bits (a registered d_any would put the
        # products' zero tests and an AND over every lane into one cycle)
        d_zero = Signal(-(-P // 4), name="d_zero")
        d_any = ~d_zero.all()
        psi_word = Signal(P * psi_bits, name="psi_word", reset_less=True)
        # stage 2 (the M word read, registered): valid, class, word, the class's steps
        word_valid = Signal(name="word_valid")
        word_class = Signal(range(nout), name="word_class")
        word_m = Signal(P * fbb, name="word_m", reset_less=True)       # the old values
        word_step = Signal(signed(stepw), name="word_step", reset_less=True)
        word_nstep = Signal(signed(stepw), name="word_nstep", reset_less=True)
        word_first = Signal(name="word_first")   # stage 2 holds class 0: the accumulation starts
        # picked by the class counter into registers in the read stage (the pick's select is
        # a register, and the multiplier operands copy a register, not a multiplexer)
        pick_step = Signal(signed(stepw), name="pick_step", reset_less=True)
        pick_nstep = Signal(signed(stepw), name="pick_nstep", reset_less=True)
        pick_e = Signal(signed(eb), name="pick_e", reset_less=True)
        word_e = Signal.like(pick_e, name="word_e")      # stage 2: the class's e_k
        # stage 3: the decayed M and the signed step registered
        update_valid = Signal(name="update_valid")
        update_class = Signal(range(nout), name="update_class")
        update_m = Signal(P * fbb, name="update_m", reset_less=True)
        update_decayed = [Signal(signed(fbb + 1), name=f"update_decayed_{p}", reset_less=True) for p in range(P)]
        update_step = [Signal(signed(stepw), name=f"update_step_{p}", reset_less=True) for p in range(P)]
        update_we = Signal(L, name="update_we")      # update_valid per layer: the write-back's select
        # stage 4: the new M word, its address and layer select registered, then written
        write_we = Signal(L, name="write_we")
        m_new = Signal(P * fbb, name="m_new")
        write_m = Signal(P * fbb, name="write_m", reset_less=True)
        # the multiplier operands and the accumulation a cycle after the products
        mul_a = [Signal(signed(max(fbb, sb)), name=f"mul_a_{p}", reset_less=True) for p in range(P)]
        mul_b = [Signal(signed(max(eb, psi_bits + 1)), name=f"mul_b_{p}", reset_less=True) for p in range(P)]
        gacc_next = [Signal(signed(gaccw), name=f"gacc_next_{p}") for p in range(P)]
        mul_valid = Signal(name="mul_valid")            # stage 3: the operands hold M e_k
        mul_first = Signal(name="mul_first")
        product_valid = Signal(name="product_valid")
        product_first = Signal(name="product_first")
        g_phase = Signal(name="g_phase")             # registered: this cycle is an MP_G
        g_reg = [Signal(signed(sb), name=f"g_{p}", reset_less=True) for p in range(P)]

        # ---- the datapath: gacc += M e_k, the momentum update of the valid lanes, g and
        # the g psi operands
        products = [registered_product(m, mul_a[p], mul_b[p], name=f"product_{p}", kind=self.multipliers)
                    for p in range(P)]
        d_round = [Signal(signed(len(factor_round(cfg, v))), name=f"d_round_{p}", reset_less=True)
                   for p, v in enumerate(products)]
        m.d.comb += [d[p].eq(factor_saturate(cfg, d_round[p])) for p in range(P)]
        m_rd = Array([getattr(self.reads, f"feedback_{l}").data for l in range(L)] + [Const(0, P * fbb)])[lsel]
        m.d.sync += [mul_valid.eq(word_valid), mul_first.eq(word_first),
                     product_valid.eq(mul_valid), product_first.eq(mul_first)]
        m.d.sync += [update_valid.eq(word_valid), update_class.eq(word_class), update_m.eq(word_m)]
        m.d.sync += update_we.eq(Cat(*(word_valid & (lsel == l) for l in range(L))))
        write_addr = Signal(len((group << class_bits) | update_class), name="write_addr", reset_less=True)
        m.d.sync += [write_we.eq(update_we), write_m.eq(m_new), write_addr.eq((group << class_bits) | update_class)]
        m.d.comb += self.writing.eq(write_we.any())
        for l in range(L):
            w = getattr(self.writes, f"feedback_{l}")
            m.d.comb += [w.valid.eq(write_we[l]), w.addr.eq(write_addr), w.en.eq((1 << P) - 1), w.data.eq(write_m)]
        # The multiplier operands load every cycle through one 2:1 multiplexer whose select
        # is a register: M[j, k] (the registered word, not the feedback BRAM's late output:
        # the operand registers sit by the multipliers, often far from the BRAM) and e_k in
        # an M pass; g and psi in MP_G (g_phase), whose product d is taken in MP_D2.
        # Outside those the products are not used (gacc adds only under product_valid).
        # g = top_down_signal(gacc) is registered every cycle: in MP_G it holds the final
        # sum's (the pass leaves MP_RUN only when no accumulation is pending).
        m.d.sync += g_phase.eq(0)
        m.d.sync += [g_reg[p].eq(top_down_signal(cfg, gacc[p])) for p in range(P)]
        m.d.sync += [mul_a[p].eq(Mux(g_phase, g_reg[p], lane(word_m, fbb, p))) for p in range(P)]
        m.d.sync += [mul_b[p].eq(Mux(g_phase, psi_word[p * psi_bits:(p + 1) * psi_bits], word_e)) for p in range(P)]
        for p in range(P):
            m.d.comb += gacc_next[p].eq(Mux(product_first, 0, gacc[p]) + products[p])
            m.d.sync += [update_decayed[p].eq(feedback_decay(cfg, lane(word_m, fbb, p))),
                         update_step[p].eq(Mux(z_word[p], word_step, word_nstep))]
            m.d.comb += m_new[p * fbb:(p + 1) * fbb].eq(
                Mux(gv_word[p], feedback_apply(cfg, update_decayed[p], update_step[p]), lane(update_m, fbb, p)))
        m.d.comb += self.job_group.eq(group)

        # ---- the states
        with m.FSM(name="fb") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += group.eq(0)
                    m.next = "MP0_START"
            for l in range(L):
                surrogate, feedback = getattr(self.reads, f"surrogate_{l}"), getattr(self.reads, f"feedback_{l}")

                def start_mp(g, l=l, surrogate=surrogate, read=True):
                    """Set up the M pass of group ``g``: its surrogate word read, its group bits."""
                    if read:
                        m.d.comb += [surrogate.en.eq(1), surrogate.addr.eq(g)]
                    gs = group_select(g, groups[l + 1])
                    m.d.sync += [class_count.eq(0), class_1h.eq(1), data_valid.eq(0), word_valid.eq(0), first.eq(1), lsel.eq(l),
                                 gv_word.eq(valid_lanes(cfg.sizes[l + 1], groups[l + 1], P).word_select(gs, P)),
                                 z_word.eq(noise[l].word_select(gs, P))]
                with m.State(f"MP{l}_START"):      # a layer's first group
                    start_mp(group)
                    m.next = f"MP{l}_RUN"
                with m.State(f"MP{l}_RUN"):
                    with m.If(first):
                        m.d.sync += psi_word.eq(surrogate.data)
                    with m.If(class_count < nout):
                        m.d.comb += [feedback.en.eq(1), feedback.addr.eq((group << class_bits) | class_count)]
                        m.d.sync += [class_count.eq(class_count + 1), class_1h.eq(class_1h << 1),
                                     data_class.eq(class_count)]
                    # class class_count's values, for the data stage (data_class) next cycle;
                    # in the first M pass the class unit has registered class k just then.
                    # Picked by the one-hot class (an AND-OR, no decode of the count)
                    def pick(values):
                        return one_hot_pick((class_1h[k], values[k]) for k in range(nout))
                    m.d.sync += [pick_e.eq(pick(self.error)), pick_step.eq(pick(self.step)),
                                 pick_nstep.eq(pick(self.nstep))]
                    m.d.sync += [data_valid.eq(class_count < nout), first.eq(0),
                                 last_grp.eq(group == groups[l + 1] - 1)]
                    m.d.sync += [word_valid.eq(data_valid), word_class.eq(data_class), word_m.eq(m_rd),
                                 word_e.eq(pick_e),
                                 word_step.eq(pick_step), word_nstep.eq(pick_nstep),
                                 word_first.eq(data_class == 0)]
                    with m.If(product_valid):
                        m.d.sync += [gacc[p].eq(gacc_next[p]) for p in range(P)]
                    with m.If((class_count == nout) & ~data_valid & ~word_valid & ~mul_valid & ~product_valid
                              & ~update_valid
                              & ~first):
                        m.next = f"MP{l}_G"
                        m.d.sync += g_phase.eq(1)
                with m.State(f"MP{l}_G"):
                    m.next = f"MP{l}_D"
                # the product g * psi registered (the products' only register, so each
                # multiplier drives one set of flip-flops) ...
                with m.State(f"MP{l}_D"):
                    m.next = f"MP{l}_D2"
                with m.State(f"MP{l}_D2"):      # ... then rounded (d saturates that register)
                    m.d.sync += [d_round[p].eq(factor_round(cfg, products[p])) for p in range(P)]
                    m.d.sync += [d_zero[i].eq(Cat(*(factor_is_zero(cfg, v) for v in products[4 * i:4 * i + 4])).all())
                                 for i in range(len(d_zero))]
                    m.next = f"WP{l}_JOB"
                # weight pass of word group c over the inputs with a nonzero trace: handed
                # to the engine (skipped when d = 0), then on to the next group's M pass,
                # which this state also starts
                with m.State(f"WP{l}_JOB"):
                    # the next group's surrogate word and pass registers, whether or not it
                    # starts now (nothing here uses them; MP_START sets them again for the
                    # next layer), so that the engine's ``ready`` reaches only the group
                    # counter and the state
                    m.d.comb += [surrogate.en.eq(1), surrogate.addr.eq(gnext), self.job_layer.eq(l)]
                    start_mp(gnext, read=False)
                    with m.If(self.job_ready | ~d_any):
                        m.d.comb += self.job_go.eq(d_any)
                        with m.If(last_grp):
                            m.d.sync += group.eq(0)
                            if l == L - 1:
                                m.d.comb += self.done.eq(1)
                                m.next = "IDLE"
                            else:
                                m.next = f"MP{l + 1}_START"
                        with m.Else():
                            m.d.sync += group.eq(gnext)
                            m.next = f"MP{l}_RUN"
        fsm.state.attrs["fsm_encoding"] = "one-hot"
        # what the formal checks (sim/formal_core.py) look at; set by each elaboration
        self.observed = {"fsm": fsm}
        return m
