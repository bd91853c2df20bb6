"""FIN's stages of the forward pass (:mod:`rtl.forward_pass`): a group's firing, its
membrane, surrogate and trace write-back, and the readout's totals.

Functions of the :class:`rtl.forward_pass.ForwardPass` being elaborated (``fp``: its
memories, registers and :class:`rtl.pass_control.PassControl`), split from the pass's
schedule so that each file holds one idea.  Stage 1 (``fin``, the firing) comes two cycles
after a group's switch; stage 2 writes the spikes and the membrane and starts the
surrogate's distance and the trace's decay; stage 3 writes the surrogate and the trace.
The twins in ``golden/``: ``neuron.py`` (fire, the surrogate) and ``trace.py``.
"""

from amaranth.hdl import Cat, Signal, signed

from .arith import saturate
from .memories import group_select, lane
from .neuron import fire, fire_level, surrogate_distance, surrogate_from_distance
from .trace import trace_add_spike, trace_decay

__all__ = ["finish_stages", "fire_group", "totals", "write_back"]


def finish_stages(fp, m):
    """FIN: saturate the membrane and fire.  Stage 2, the cycle after FIN: the spikes (the
    next layer's scan mask: a layer's FIN state waits for this write) and the membrane
    write, and the first halves of the surrogate (``|u - V_th|``) and of the trace (its
    decay).  Stage 3: their second halves and the surrogate and trace writes.  Those two
    cycles (the next group's, or the next layer's START) only read later groups' words, so
    they add no cycle beyond the one a hidden layer's FIN state waits for its last spikes."""
    cfg, ps, P, mb, tb = fp.cfg, fp.passes, fp.cfg.lanes, fp.cfg.membrane_bits, fp.cfg.trace_bits
    # the firing levels V_th - noise, registered in every cycle beside the accumulators:
    # the noise bits hold still from the step at the end of the previous FIN (at least
    # three cycles before) to the end of this one (the antithetic bank's held signs load
    # at the group's switch)
    level = [Signal(signed(mb + 1), name=f"fire_level_{p}", reset_less=True) for p in range(P)]
    m.d.sync += [level[p].eq(fire_level(cfg, fp.train, fp.lfsr_bits[p])) for p in range(P)]
    for p in range(P):
        u, sp = fire(cfg, ps.acc[p], level[p])
        m.d.comb += [ps.fin_u[p * mb:(p + 1) * mb].eq(u), ps.fin_s[p].eq(sp & ps.fin_gv_word[p])]
    m.d.sync += [ps.fin_v[1].eq(ps.fin_v[0]), ps.fin_l[1].eq(ps.fin_l[0]),
                 ps.fin_g[1].eq(ps.fin_g[0]), ps.fin_s_r[1].eq(ps.fin_s_r[0])]
    m.d.sync += [ps.fin_dist[p].eq(surrogate_distance(cfg, lane(ps.fin_u_r, mb, p))) for p in range(P)]
    m.d.sync += [ps.fin_dec[p].eq(trace_decay(cfg, ps.fin_tw[p * tb:(p + 1) * tb])) for p in range(P)]
    fp.fin_psi = Cat(*(surrogate_from_distance(cfg, ps.fin_dist[p]) for p in range(P)))
    fp.fin_trace = Cat(*(trace_add_spike(cfg, ps.fin_dec[p], ps.fin_s_r[1][p]) for p in range(P)))
    fp.fin_nz = Cat(*(fp.fin_trace[p * tb:(p + 1) * tb] != 0 for p in range(P)))
    m.d.sync += ps.fin_v[0].eq(0)


def fire_group(fp, m, l):
    """FIN's stage 1 for a group of layer ``l``: its spikes and noise signs (a hidden
    layer; stages 2 and 3 follow in :meth:`finish_stages`) or its outputs (the readout)."""
    cfg, ps, regs, P, L, nout = fp.cfg, fp.passes, fp.regs, fp.cfg.lanes, fp.cfg.n_hidden_layers, fp.cfg.n_outputs
    groups = fp.groups
    with m.If(ps.fin[l]):
        if l < L:
            gsel = group_select(ps.fin_group, groups[l + 1])
            m.d.sync += regs.noise[l].word_select(gsel, P).eq(fp.lfsr_bits)
            m.d.sync += [ps.fin_v[0].eq(1), ps.fin_l[0].eq(l), ps.fin_g[0].eq(ps.fin_group),
                         ps.fin_u_r.eq(ps.fin_u), ps.fin_s_r[0].eq(ps.fin_s),
                         ps.fin_tw.eq(ps.fin_trace_word)]
        else:
            for cc in range(groups[L + 1]):
                with m.If(ps.fin_group == cc):
                    m.d.sync += ps.total_add[cc].eq(1)     # the totals, a cycle later
                    for p in range(P):
                        k = cc * P + p
                        if k < nout:
                            m.d.sync += regs.outputs[k].eq(saturate(ps.acc[p], cfg.output_bits))


def totals(fp, m):
    """The sample's totals, a cycle after a readout group's FIN; the LFSR step pulse."""
    P, L, nout, ps, regs = fp.cfg.lanes, fp.cfg.n_hidden_layers, fp.cfg.n_outputs, fp.passes, fp.regs
    m.d.sync += ps.total_add.eq(0)
    for cc in range(fp.groups[L + 1]):
        with m.If(ps.total_add[cc]):
            m.d.sync += [regs.total[k].eq(regs.total[k] + regs.outputs[k])
                         for k in range(cc * P, min(nout, cc * P + P))]
    m.d.sync += fp.lfsr_step.eq(0)


def write_back(fp, m):
    """The writes of FIN's stages 2 and 3: the spikes (stage 2, from the registered firing:
    the fire compare's carry chain ends at a flip-flop beside it instead of running across
    the die to the spike vector), the membrane, surrogate and trace write ports."""
    P, L, groups, ps = fp.cfg.lanes, fp.cfg.n_hidden_layers, fp.groups, fp.passes
    for l in range(L):
        u, s, a = fp.membrane[l].wr, fp.surrogate[l].wr, fp.trace[l + 1].wr
        stage2 = ps.fin_v[0] & (ps.fin_l[0] == l)
        with m.If(stage2):
            gs = group_select(ps.fin_g[0], groups[l + 1])
            m.d.sync += fp.regs.spikes[l].word_select(gs, P).eq(ps.fin_s_r[0])
        stage3 = ps.fin_v[1] & (ps.fin_l[1] == l)
        m.d.comb += [u.valid.eq(stage2), u.addr.eq(ps.fin_g[0]),
                     u.en.eq(1), u.data.eq(ps.fin_u_r),
                     s.valid.eq(stage3), s.addr.eq(ps.fin_g[1]), s.en.eq(1), s.data.eq(fp.fin_psi),
                     a.valid.eq(stage3), a.addr.eq(ps.fin_g[1]), a.en.eq(1), a.data.eq(fp.fin_trace)]
        with m.If(stage3):
            gs = group_select(ps.fin_g[1], groups[l + 1])
            m.d.sync += fp.regs.trace_nz[l + 1].word_select(gs, P).eq(fp.fin_nz)
