"""The forward pass: accumulate the active inputs' weights, fire, and the group's write-back.

For each hidden layer and then the readout, group after group (``P`` neurons a group):
``START`` (a layer's first group waits for the scan's snapshot of its mask), ``ACC`` (one
weight word per active input, from the bit scan of the previous layer's spikes) and ``FIN``
(fire; FIN also starts the layer's next group).  The twin of the forward half of
:meth:`golden.core.FixedCore._step`.

Timing: every block-RAM output goes into a register with at most a multiplexer before it,
and between registers there is at most one carry chain:

* the accumulator sums only weights (the weight word read is registered first,
  ``w_word`` / ``data_valid2``); the start value ``reset_leak(u, s)`` is made beside the
  scan, one carry chain per cycle (membrane word read ahead and registered in START/FIN,
  soft reset, then decay) and taken in ACC's second cycle, before the first weight arrives;
* FIN in three stages: fire; membrane write, ``|u - V_th|``, trace decay; surrogate and
  trace writes.
"""

from amaranth.hdl import Cat, Mux, Signal, signed

from golden.lanes import address_bits

from .arith import saturate
from .memories import group_select, lane
from .neuron import fire, reset_leak_decay, soft_reset, surrogate_distance, surrogate_from_distance
from .trace import trace_add_spike, trace_decay

__all__ = ["ForwardPass"]


class ForwardPass:
    """The forward pass's datapath and its sequencer states.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    memories : rtl.memories.CoreMemories
    regs : rtl.memories.NetworkRegisters
    passes : rtl.sequencer.PassControl
        The pass registers shared with the feedback pass (group, layer select, scan).
    lfsr : rtl.noise.LfsrBank
        The noise bits of the firing compare.
    train : Signal
        The open sample is a training sample.
    """

    def __init__(self, cfg, memories, regs, passes, lfsr, train):
        self.cfg, self.mem, self.regs, self.passes, self.lfsr, self.train = \
            cfg, memories, regs, passes, lfsr, train
        P, L = cfg.lanes, cfg.n_hidden_layers
        self.groups = groups = [cfg.groups(n) for n in cfg.sizes]
        mb, wb, tb = cfg.membrane_bits, cfg.weight_bits, cfg.trace_bits
        accw = mb + address_bits(max(cfg.sizes) + 1) + 3
        self.acc = [Signal(signed(accw), name=f"acc_{p}") for p in range(P)]
        # Pipeline data registers (words read, operands) are reset_less: a valid bit or the
        # sequencer's state says when they hold something, and the reset net (one
        # flip-flop, thousands of loads) stays smaller.
        self.trace_word = Signal(P * tb, name="trace_word", reset_less=True)
        self.u_word = Signal(P * mb, name="u_word", reset_less=True)
        self.w_word = Signal(P * wb, name="w_word", reset_less=True)
        self.data_valid2 = Signal(name="data_valid2")          # w_word holds a weight word
        self.reset_value = [Signal(signed(mb + 1), name=f"reset_{p}", reset_less=True) for p in range(P)]
        self.second = Signal(name="second")            # ACC's second cycle
        self.acc_next = [Signal(signed(accw), name=f"acc_next_{p}") for p in range(P)]
        # FIN's stages (see finish_stages)
        self.fin_u = Signal(P * mb, name="fin_u")
        self.fin_s = Signal(P, name="fin_s")
        self.fin_v = Signal(2, name="fin_v")            # stage 2, stage 3 valid
        self.fin_l = [Signal(range(max(L, 2)), name=f"fin_l_{k}") for k in range(2)]
        self.fin_g = [Signal(range(max(groups) + 1), name=f"fin_g_{k}") for k in range(2)]
        self.fin_s_r = [Signal(P, name=f"fin_s_{k}") for k in range(2)]
        self.fin_u_r = Signal(P * mb, name="fin_u_r", reset_less=True)
        self.fin_tw = Signal(P * tb, name="fin_tw", reset_less=True)       # the group's old trace word
        self.fin_dist = [Signal(mb + 1, name=f"fin_dist_{p}", reset_less=True) for p in range(P)]
        self.fin_dec = [Signal(tb, name=f"fin_decay_{p}", reset_less=True) for p in range(P)]
        self.lfsr_step = Signal(name="lfsr_step")      # registered: high exactly in a hidden layer's FIN
        # the sample's totals add the outputs of a readout group the cycle after its FIN
        # (saturating the accumulator and adding are two carry chains)
        self.total_add = Signal(groups[L + 1], name="tot_add")

    def accumulate(self, m):
        """``acc = reset_leak(u, s_prev) + the active inputs' weights``, one lane per neuron."""
        cfg, ps, P, L = self.cfg, self.passes, self.cfg.lanes, self.cfg.n_hidden_layers
        mb, wb = cfg.membrane_bits, cfg.weight_bits
        self.acc_done = ~ps.cand_v & ~ps.data_valid & ~ps.first & ~self.second   # the last weight is being added
        is_out = ps.lsel == L
        w_rd = ps.layer_pick([w.rd.data for w in self.mem.weights] + [self.mem.readout.rd.data])
        m.d.sync += [self.w_word.eq(w_rd), self.data_valid2.eq(ps.data_valid)]
        for p in range(P):
            m.d.sync += self.reset_value[p].eq(soft_reset(cfg, lane(self.u_word, mb, p), ps.s_prev[p]))
            start = Mux(is_out, 0, reset_leak_decay(cfg, self.reset_value[p]))
            m.d.comb += self.acc_next[p].eq(Mux(self.second, start,
                                                self.acc[p] + Mux(self.data_valid2, lane(self.w_word, wb, p), 0)))

    def finish_stages(self, m):
        """FIN: saturate the membrane and fire (the spikes must be ready for the next layer's
        scan).  Stage 2, the cycle after FIN: the membrane write, and the first halves of the
        surrogate (``|u - V_th|``) and of the trace (its decay).  Stage 3: their second halves
        and the surrogate and trace writes.  Those two cycles (the next group's first ACC
        cycles, or the next layer's START and first ACC cycle) only read the next group's
        words, so no cycle is added."""
        cfg, P, mb, tb = self.cfg, self.cfg.lanes, self.cfg.membrane_bits, self.cfg.trace_bits
        for p in range(P):
            u, sp = fire(cfg, self.acc[p], self.train, self.lfsr.bits[p])
            m.d.comb += [self.fin_u[p * mb:(p + 1) * mb].eq(u), self.fin_s[p].eq(sp & self.passes.gv_word[p])]
        m.d.sync += [self.fin_v[1].eq(self.fin_v[0]), self.fin_l[1].eq(self.fin_l[0]),
                     self.fin_g[1].eq(self.fin_g[0]), self.fin_s_r[1].eq(self.fin_s_r[0])]
        m.d.sync += [self.fin_dist[p].eq(surrogate_distance(cfg, lane(self.fin_u_r, mb, p))) for p in range(P)]
        m.d.sync += [self.fin_dec[p].eq(trace_decay(cfg, self.fin_tw[p * tb:(p + 1) * tb])) for p in range(P)]
        self.fin_psi = Cat(*(surrogate_from_distance(cfg, self.fin_dist[p]) for p in range(P)))
        self.fin_trace = Cat(*(trace_add_spike(cfg, self.fin_dec[p], self.fin_s_r[1][p]) for p in range(P)))
        self.fin_nz = Cat(*(self.fin_trace[p * tb:(p + 1) * tb] != 0 for p in range(P)))
        m.d.sync += self.fin_v[0].eq(0)

    def totals(self, m):
        """The sample's totals, a cycle after a readout group's FIN; the LFSR step pulse."""
        P, L, nout = self.cfg.lanes, self.cfg.n_hidden_layers, self.cfg.n_outputs
        regs = self.regs
        m.d.sync += self.total_add.eq(0)
        for cc in range(self.groups[L + 1]):
            with m.If(self.total_add[cc]):
                m.d.sync += [regs.total[k].eq(regs.total[k] + regs.outputs[k])
                             for k in range(cc * P, min(nout, cc * P + P))]
        m.d.sync += self.lfsr_step.eq(0)

    def write_back(self, m):
        """The writes of FIN's stages 2 and 3 (the membrane, surrogate and trace write ports)."""
        P, L, groups, mem = self.cfg.lanes, self.cfg.n_hidden_layers, self.groups, self.mem
        for l in range(L):
            u, s, a = (mem.membrane[l].writer("forward"), mem.surrogate[l].writer("forward"),
                       mem.trace[l + 1].writer("forward"))
            stage3 = self.fin_v[1] & (self.fin_l[1] == l)
            m.d.comb += [u.valid.eq(self.fin_v[0] & (self.fin_l[0] == l)), u.addr.eq(self.fin_g[0]),
                         u.en.eq(1), u.data.eq(self.fin_u_r),
                         s.valid.eq(stage3), s.addr.eq(self.fin_g[1]), s.en.eq(1), s.data.eq(self.fin_psi),
                         a.valid.eq(stage3), a.addr.eq(self.fin_g[1]), a.en.eq(1), a.data.eq(self.fin_trace)]
            with m.If(stage3):
                gs = group_select(self.fin_g[1], groups[l + 1])
                m.d.sync += self.regs.trace_nz[l + 1].word_select(gs, P).eq(self.fin_nz)

    def states(self, m):
        """The sequencer states of the forward pass: ``FWD<l>_START/ACC/FIN`` per hidden
        layer, then ``OUT_START/ACC/FIN`` (the readout); the last goes to ``STEP_END``."""
        cfg, ps, mem, regs = self.cfg, self.passes, self.mem, self.regs
        P, L, nout, groups = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs, self.groups
        col_bits = [address_bits(n) for n in cfg.sizes]
        a_rd = ps.trace_pick([a.rd.data for a in mem.trace])
        for l in range(L + 1):
            out_layer = l == L
            weights = mem.readout if out_layer else mem.weights[l]
            nxt = "OUT_START" if l == L - 1 else f"FWD{l + 1}_START"
            name = "OUT" if out_layer else f"FWD{l}"
            gsel = group_select(ps.group, groups[l + 1])

            def start_group(g, l=l, out_layer=out_layer):
                """Set up the pass over group ``g``: its group bits, its trace word read
                and the membrane word read the cycle before (the scan's load: START
                drives it, and ``fin_load`` in FIN)."""
                if not out_layer:
                    mem.trace[l + 1].read(m, g)
                    m.d.sync += self.u_word.eq(mem.membrane[l].rd.data)
                m.d.sync += [ps.first.eq(1), ps.data_valid.eq(0), ps.lsel.eq(l), ps.asel.eq(min(l + 1, L))]
                m.d.sync += ps.group_bits(l, g)
            # a layer's first group waits for the scan's snapshot of its mask (written
            # by the state before: STEP_CHECK, or the previous layer's last FIN), reading
            # the membrane's word 0 ahead all the while
            with m.State(f"{name}_START"):
                m.d.sync += ps.settled.eq(1)
                if not out_layer:
                    mem.membrane[l].read(m, 0)             # the membrane word read ahead: group 0
                with m.If(ps.settled & ps.fwd_scan.primed):
                    m.d.sync += ps.settled.eq(0)
                    m.d.comb += ps.fwd_scan.load.eq(1)
                    start_group(ps.group)
                    m.next = f"{name}_ACC"
            with m.State(f"{name}_ACC"):
                with m.If(ps.cand_v):
                    weights.read(m, (ps.group << col_bits[l]) | ps.cand)
                    m.d.comb += ps.fwd_scan.take.eq(1)
                m.d.sync += [ps.data_valid.eq(ps.cand_v), ps.first.eq(0), self.second.eq(ps.first),
                             ps.last_grp.eq(ps.group == groups[l + 1] - 1)]
                m.d.sync += [self.acc[p].eq(self.acc_next[p]) for p in range(P)]
                if not out_layer:
                    with m.If(ps.first):
                        m.d.sync += self.trace_word.eq(a_rd)
                with m.If(self.acc_done):
                    m.next = f"{name}_FIN"
                    m.d.sync += ps.fin_load.eq(~ps.last_grp)    # FIN starts the next group
                    if not out_layer:
                        m.d.sync += self.lfsr_step.eq(self.train)   # high in FIN, the layer's noise draw
                    if not out_layer:           # read ahead for FIN's start of the next group
                        with m.If(ps.group != groups[l + 1] - 1):
                            mem.membrane[l].read(m, ps.gnext)
            # FIN also starts the layer's next group (the scan mask is the same for every
            # group of a layer); a layer's first group needs START, because its mask, the
            # previous layer's spikes, is only complete after that layer's last FIN.
            with m.State(f"{name}_FIN"):
                if not out_layer:
                    m.d.sync += [regs.spikes[l].word_select(gsel, P).eq(self.fin_s),
                                 regs.noise[l].word_select(gsel, P).eq(self.lfsr.bits)]
                    m.d.sync += [self.fin_v[0].eq(1), self.fin_l[0].eq(l), self.fin_g[0].eq(ps.group),
                                 self.fin_u_r.eq(self.fin_u), self.fin_s_r[0].eq(self.fin_s),
                                 self.fin_tw.eq(self.trace_word)]
                else:
                    for cc in range(groups[L + 1]):
                        with m.If(ps.group == cc):
                            m.d.sync += self.total_add[cc].eq(1)     # the totals, a cycle later
                            for p in range(P):
                                k = cc * P + p
                                if k < nout:
                                    m.d.sync += regs.outputs[k].eq(saturate(self.acc[p], cfg.output_bits))
                with m.If(ps.last_grp):
                    m.d.sync += [ps.group.eq(0), ps.scan_layer.eq(0 if out_layer else l + 1)]
                    if out_layer:
                        m.next = "STEP_END"
                    else:
                        if l + 1 < L:               # read ahead for the next layer's START
                            mem.membrane[l + 1].read(m, 0)
                        m.next = nxt
                with m.Else():
                    m.d.sync += ps.group.eq(ps.gnext)
                    start_group(ps.gnext)
                    m.next = f"{name}_ACC"
