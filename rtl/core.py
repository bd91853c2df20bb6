"""The streaming OPZO core: command interpreter, memories and the time-step sequencer.

One ``Core`` is built from a :class:`golden.config.CoreConfig` and computes, bit for bit,
what :class:`golden.core.FixedCore` computes (docs/fixed_point.md), driven by the command
words of :mod:`golden.protocol` on ``i_stream`` and answering on ``o_stream``.

Storage (``P`` = lanes; neuron ``j`` sits in lane ``j % P`` of word ``j // P``):

* ``weights_l`` (one per hidden layer) and ``readout``: word ``(c << col_bits) | i`` holds
  ``W[c*P .. c*P+P-1, i]``;
* ``feedback_l``: word ``(c << out_bits) | k`` holds ``M[c*P .. c*P+P-1, k]``;
* ``membrane_l``, ``surrogate_l``: word ``c``; ``trace_l`` (``l = 0..L``): word ``i // P``;
* spikes, noise signs and "trace is nonzero" flags: bit vectors in registers;
  readout, baseline, error and totals: one register per class.

Every memory has one synchronous read port and one write port.  Each pass over a memory
is a pipeline: *issue* (address out, one word per cycle), *data* (word back, registered
before any multiplier) and the lane arithmetic and write-back after it.  A pass never
visits one address twice, so the write-back can never race a read.  Passes over inputs use
a bit scan (:mod:`rtl.bit_scan`) that yields only the set bits of a mask, so silent inputs cost no accumulation
cycles and zero traces cost no update cycles; groups whose ``d`` is all zero hand no job
to the weight-update engine.

Learning runs three things at once on disjoint memories: the feedback passes (this
sequencer, group after group), the hidden layers' weight updates and the readout update
(two :class:`rtl.update_engine.UpdateEngine` instances, fed with one job per word group).
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.core import FixedCore

from .arith import fits_signed, saturate
from .error import output_error
from .multiplier import MULTIPLIER_KINDS, registered_product
from .feedback import (baseline_update, feedback_apply, feedback_decay, feedback_step, negated_feedback_step,
                       negated_step_bias, top_down_signal)
from .neuron import (check_fire_range, fire, reset_leak_decay, soft_reset, surrogate_distance,
                     surrogate_from_distance)
from .noise import LfsrBank
from golden.protocol import Mem, Op, Status
from .trace import trace_add_spike, trace_decay
from .bit_scan import BitScan
from .update_engine import UpdateEngine
from .update_rule import factor_from_product, factor_is_zero

__all__ = ["Core", "check_rtl_config"]


def _bits(n):
    """Address bits to index ``n`` items (at least 1)."""
    return max(1, (n - 1).bit_length())


def lr_shift_bases(cfg):
    """What the update engines add to the hidden and readout learning-rate shifts: the
    fractional bits the products carry beyond a weight's (``factor * a``)."""
    return (cfg.signal_frac_bits + cfg.trace_frac_bits - cfg.frac_bits,
            cfg.error_frac_bits + cfg.trace_frac_bits - cfg.frac_bits)


SHIFT_BITS = 5                        # the update engines' barrel shifters: shifts 0 .. 31


def check_rtl_config(cfg):
    """Constraints the gateware adds to :meth:`CoreConfig.validate`; raises ``ValueError``."""
    for name, lr, base in zip(("hidden_lr_shift", "readout_lr_shift"),
                              (cfg.hidden_lr_shift, cfg.readout_lr_shift), lr_shift_bases(cfg)):
        if not 0 <= lr + base < 1 << SHIFT_BITS:
            raise ValueError(f"{name} must be in [{max(0, -base)}, {(1 << SHIFT_BITS) - 1 - base}] for "
                             f"this config's fixed-point widths (the update engines shift by it plus "
                             f"{base}, in 0 .. {(1 << SHIFT_BITS) - 1}), got {lr}")
    if cfg.n_outputs > 32:
        raise ValueError(f"n_outputs must be in [2, 32] for the RTL (one error lane per class), "
                         f"got {cfg.n_outputs}")
    if cfg.output_bits + cfg.timesteps.bit_length() > 32:
        raise ValueError(f"output_bits must be at most {32 - cfg.timesteps.bit_length()} so that a "
                         f"sample's total over {cfg.timesteps} steps fits one 32-bit word, "
                         f"got {cfg.output_bits}")
    check_fire_range(cfg)
    for name, n in (("n_inputs", cfg.n_inputs), *((f"hidden[{k}]", h) for k, h in enumerate(cfg.hidden))):
        if n > 4096:
            raise ValueError(f"{name} must be at most 4096 (16-bit addresses), got {n}")


class _Mem:
    """A memory with one sync read port and one write port, addressed by the sequencer."""

    def __init__(self, m, name, lane_bits, lanes, depth, init=None, no_rw_check=False,
                 lane_writes=False):
        self.lane_bits, self.lanes, self.depth = lane_bits, lanes, depth
        # no_rw_check (the block RAMs): no read whose data is used hits the word written in
        # the same cycle (each pass visits an address once; the host reads, then writes),
        # so yosys need not emulate read-first behaviour around them (a flip-flop per data
        # bit and address compares on the write path; rtl/build.py:mark_no_rw_check).
        # tests/test_rtl_core.py checks the premise with ``live``.
        mem = Memory(shape=unsigned(lane_bits * lanes), depth=depth, init=init or [],
                     attrs={"no_rw_check": 1} if no_rw_check else {})
        m.submodules[name] = mem
        self.no_rw_check = no_rw_check
        self.rd = mem.read_port()
        # lane_writes: one write enable per lane (the block RAMs' byte enables), so that the
        # host writes one entry without reading, patching and writing back its whole word;
        # the pipelines write every lane (``all_lanes``)
        self.wr = mem.write_port(granularity=lane_bits if lane_writes else None)
        self.all_lanes = (1 << lanes) - 1 if lane_writes else 1
        self.live = Signal(name=f"{name}_read_live")   # a read whose data is used is out

    def read(self, m, addr):
        """Read the word at ``addr`` (its data arrives the next cycle)."""
        m.d.comb += [self.rd.addr.eq(addr), self.live.eq(1)]


def _one_hot_pick(pairs):
    """The word whose select is high, of ``(select, word)`` pairs with at most one select
    high (0 when none is): an AND-OR, with no priority chain behind it."""
    picked = 0
    for select, word in pairs:
        picked = picked | Mux(select, word, 0)
    return picked


def _pack(rows, lane_bits, P, groups, col_bits, cols):
    """Memory init words for a ``rows x cols`` integer matrix in the P-lane layout."""
    mask = (1 << lane_bits) - 1
    words = [0] * (groups << col_bits)
    for j in range(len(rows)):
        c, p = divmod(j, P)
        for i in range(cols):
            words[(c << col_bits) | i] |= (int(rows[j][i]) & mask) << (p * lane_bits)
    return words


class Core(wiring.Component):
    """The OPZO core for one configuration.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Sizes, widths, shifts and seeds; validated again for the gateware's own limits.
    multipliers : {"inferred", "ecp5"}, optional
        How the products' registers are made (:mod:`rtl.multiplier`): ``"ecp5"`` uses the
        ECP5 DSP's own output register.  By default, ``"ecp5"`` when the elaborating platform
        is an ECP5 and ``"inferred"`` otherwise (the simulations).

    Ports
    -----
    i_stream : In(stream.Signature(32))
        Command words (:mod:`golden.protocol`).
    o_stream : Out(stream.Signature(32))
        Response words.
    active, training, error : Out(1)
        A sample is open; it is a training sample; pulses when an error response is sent.
    """

    def __init__(self, cfg, *, multipliers=None):
        cfg.validate()
        check_rtl_config(cfg)
        if multipliers is not None and multipliers not in MULTIPLIER_KINDS:
            raise ValueError(f"multipliers must be None or one of {MULTIPLIER_KINDS}, got {multipliers!r}")
        self.cfg = cfg
        self.multipliers = multipliers
        super().__init__({
            "i_stream": In(stream.Signature(32)),
            "o_stream": Out(stream.Signature(32)),
            "active": Out(1),
            "training": Out(1),
            "error": Out(1),
        })

    # ------------------------------------------------------------------------------------
    def elaborate(self, platform):
        cfg = self.cfg
        m = Module()
        mul_kind = self.multipliers or ("ecp5" if getattr(platform, "family", None) == "ecp5" else "inferred")
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        lp = (P - 1).bit_length()
        sizes = cfg.sizes
        G = [cfg.groups(n) for n in sizes]          # words per layer (inputs, hidden.., outputs)
        cb = [_bits(n) for n in sizes]               # column bits when layer l is the fan-in
        kb = _bits(nout)
        wb, fbb, mb, tb = cfg.weight_bits, cfg.feedback_bits, cfg.membrane_bits, cfg.trace_bits
        sb, ob = cfg.signal_bits, cfg.output_bits
        psib = cfg.surrogate_frac_bits + 1
        eb = cfg.error_frac_bits + 2
        golden_init = FixedCore(cfg)

        # --- storage --------------------------------------------------------------------
        W = [_Mem(m, f"weights_{l}", wb, P, G[l + 1] << cb[l],
                  _pack(golden_init.weights[l], wb, P, G[l + 1], cb[l], sizes[l]), no_rw_check=True,
                  lane_writes=True)
             for l in range(L)]
        WO = _Mem(m, "readout", wb, P, G[L + 1] << cb[L],
                  _pack(golden_init.weights[L], wb, P, G[L + 1], cb[L], sizes[L]), no_rw_check=True,
                  lane_writes=True)
        MF = [_Mem(m, f"feedback_{l}", fbb, P, G[l + 1] << kb,
                   _pack(golden_init.feedback[l], fbb, P, G[l + 1], kb, nout), no_rw_check=True,
                   lane_writes=True)
              for l in range(L)]
        U = [_Mem(m, f"membrane_{l}", mb, P, G[l + 1]) for l in range(L)]
        PSI = [_Mem(m, f"surrogate_{l}", psib, P, G[l + 1]) for l in range(L)]
        A = [_Mem(m, f"trace_{l}", tb, P, G[l]) for l in range(L + 1)]
        # by name, for tests that watch the ports (sim/pysim.py); set by each elaboration
        self.memories = {**{f"weights_{l}": W[l] for l in range(L)}, "readout": WO,
                         **{f"feedback_{l}": MF[l] for l in range(L)},
                         **{f"membrane_{l}": U[l] for l in range(L)},
                         **{f"surrogate_{l}": PSI[l] for l in range(L)},
                         **{f"trace_{l}": A[l] for l in range(L + 1)}}

        m.submodules.lfsr = lfsr = LfsrBank(cfg)

        def valid_bits(n, groups):
            return Const((1 << n) - 1, groups * P)

        xbits = Signal(G[0] * P)                                        # this step's input
        spikes = [Signal(G[l + 1] * P, name=f"spikes_{l}") for l in range(L)]
        zbits = [Signal(G[l + 1] * P, name=f"noise_{l}") for l in range(L)]
        nz = [Signal(G[l] * P, name=f"trace_nz_{l}") for l in range(L + 1)]
        o = Array(Signal(signed(ob), name=f"o_{k}") for k in range(nout))
        b = Array(Signal(signed(ob), name=f"baseline_{k}") for k in range(nout))
        e = Array(Signal(signed(eb), name=f"e_{k}") for k in range(nout))
        tw = ob + cfg.timesteps.bit_length()
        total = Array(Signal(signed(tw), name=f"total_{k}") for k in range(nout))

        active = Signal()
        train = Signal()
        label = Signal(range(nout))
        nsteps = Signal(range(cfg.timesteps + 1))
        steps_full = Signal()             # registered nsteps == timesteps (STEP_CHECK is
        m.d.sync += steps_full.eq(nsteps == cfg.timesteps)   # at least 2 cycles after a change)
        hid_lr = Signal(5, init=cfg.hidden_lr_shift)
        ro_lr = Signal(5, init=cfg.readout_lr_shift)
        hid_base, ro_base = lr_shift_bases(cfg)
        # registered: off the update path; in range by check_rtl_config and the host's checks
        hid_shift = Signal(SHIFT_BITS, init=cfg.hidden_lr_shift + hid_base)
        ro_shift = Signal(SHIFT_BITS, init=cfg.readout_lr_shift + ro_base)
        m.d.sync += [hid_shift.eq(hid_lr + hid_base), ro_shift.eq(ro_lr + ro_base)]
        m.d.comb += [self.active.eq(active), self.training.eq(active & train)]

        # --- sequencer registers ----------------------------------------------------------
        # the scan of a forward pass (rtl/bit_scan.py): layer l walks its inputs' spikes
        fwd_scan = BitScan(m, "fwd_scan", [xbits, *spikes])
        cand, cand_v = fwd_scan.cand, fwd_scan.cand_v
        settled = Signal()                # a START state's second cycle or later
        scan_layer = Signal(range(L + 1))  # the layer whose mask the scan loads (a register)
        m.d.comb += fwd_scan.select.eq(scan_layer)
        last_grp = Signal()               # registered: ``group`` is the layer's last
        fin_load = Signal()               # registered: high in a FIN that starts the next group
        m.d.sync += fin_load.eq(0)
        with m.If(fin_load):
            m.d.comb += fwd_scan.load.eq(1)
        group = Signal(range(max(G) + 1))
        gnext = Signal.like(group)        # registered ``group + 1`` (group holds still in a pass)
        m.d.sync += gnext.eq(group + 1)
        kcnt = Signal(range(nout + 1))
        dv = Signal()                     # data stage valid
        d_k = Signal(range(nout))         # data stage: class index k
        first = Signal()                  # data stage: first cycle of a group
        accw = mb + _bits(max(sizes) + 1) + 3
        acc = [Signal(signed(accw), name=f"acc_{p}") for p in range(P)]
        gaccw = fbb + eb + kb + 2
        gacc = [Signal(signed(gaccw), name=f"gacc_{p}") for p in range(P)]
        d = [Signal(signed(sb), name=f"d_{p}") for p in range(P)]
        # Pipeline data registers (words read, operands, products, the host's BRAM words)
        # are reset_less: a valid bit or the sequencer's state says when they hold
        # something, and the reset net (one flip-flop, thousands of loads) stays smaller.
        psi_word = Signal(P * psib, reset_less=True)
        trace_word = Signal(P * tb, reset_less=True)

        # --- shared lane datapaths ------------------------------------------------------------
        # One copy of each lane's arithmetic serves every layer: the per-layer states only
        # choose the layer (``lsel``) whose memory words feed it and whose memory takes the
        # result.  This keeps the design (and its Verilator model) small.  Both are registers,
        # set by the pass's START state, so no state decode sits before the wide multiplexers.
        lsel = Signal(range(L + 1))       # layer of the current pass (L: the readout)
        asel = Signal(range(L + 1))       # trace memory read by the current pass

        def gsel_of(l):
            return group[:_bits(G[l])] if G[l] > 1 else Const(0, 1)

        w_rd = Array([W[l].rd.data for l in range(L)] + [WO.rd.data])[lsel]
        m_rd = Array([MF[l].rd.data for l in range(L)] + [Const(0, P * fbb)])[lsel]
        a_rd = Array([A[l].rd.data for l in range(L + 1)])[asel]
        # the current group's bits of the bit-vector registers, picked in START / MP_START
        s_prev = Signal(P)                # last step's spikes (forward)
        z_word = Signal(P)                # this step's noise signs (feedback pass)
        gv_word = Signal(P)               # which lanes hold a neuron

        def group_bits(l, g=group):
            """Loads of ``s_prev``, ``z_word`` and ``gv_word`` for group ``g`` of layer ``l``
            (``L``: the readout)."""
            gs = g[:_bits(G[l + 1])] if G[l + 1] > 1 else Const(0, 1)
            loads = [gv_word.eq(valid_bits(sizes[l + 1], G[l + 1]).word_select(gs, P))]
            if l < L:
                loads += [s_prev.eq(spikes[l].word_select(gs, P)), z_word.eq(zbits[l].word_select(gs, P))]
            return loads

        def lane_of(word, bits, p, signed_=True):
            v = word[p * bits:(p + 1) * bits]
            return v.as_signed() if signed_ else v

        # forward accumulate: acc = reset_leak(u, s_prev) + the active inputs' weights.  The
        # weight word read is registered before the adder (``w_word``, ``dv2``).  The start
        # value is made one carry chain per cycle beside the scan: the membrane word is read
        # in the state before START/FIN and registered there; ACC's first cycle subtracts the
        # reset, its second decays into ``acc``, before the first weight arrives (cycle 3).
        u_word = Signal(P * mb, reset_less=True)
        w_word = Signal(P * wb, reset_less=True)
        dv2 = Signal()
        rl_a = [Signal(signed(mb + 1), name=f"reset_{p}", reset_less=True) for p in range(P)]
        second = Signal()                 # ACC's second cycle
        acc_done = ~cand_v & ~dv & ~first & ~second     # the last weight is being added
        acc_next = [Signal(signed(accw), name=f"acc_next_{p}") for p in range(P)]
        is_out = lsel == L
        m.d.sync += [w_word.eq(w_rd), dv2.eq(dv)]
        for p in range(P):
            m.d.sync += rl_a[p].eq(soft_reset(cfg, lane_of(u_word, mb, p), s_prev[p]))
            start = Mux(is_out, 0, reset_leak_decay(cfg, rl_a[p]))
            m.d.comb += acc_next[p].eq(Mux(second, start, acc[p] + Mux(dv2, lane_of(w_word, wb, p), 0)))
        # forward finish of a hidden group, in three stages.  FIN: saturate the membrane and
        # fire (the spikes must be ready for the next layer's scan).  Stage 2, the cycle after
        # FIN: the membrane write, and the first halves of the surrogate (|u - V_th|) and of
        # the trace (its decay).  Stage 3: their second halves and the surrogate and trace
        # writes.  Those two cycles (the next group's first ACC cycles, or the next layer's
        # START and first ACC cycle) only read the next group's words, so no cycle is added.
        fin_u = Signal(P * mb)
        fin_s = Signal(P)
        for p in range(P):
            u, sp = fire(cfg, acc[p], train, lfsr.bits[p])
            m.d.comb += [fin_u[p * mb:(p + 1) * mb].eq(u), fin_s[p].eq(sp & gv_word[p])]
        fin_v = Signal(2)                 # stage 2, stage 3 valid
        fin_l = [Signal(range(max(L, 2)), name=f"fin_l_{k}") for k in range(2)]
        fin_g = [Signal(range(max(G) + 1), name=f"fin_g_{k}") for k in range(2)]
        fin_s_r = [Signal(P, name=f"fin_s_{k}") for k in range(2)]
        fin_u_r = Signal(P * mb, reset_less=True)
        fin_tw = Signal(P * tb, reset_less=True)           # the group's old trace word
        fin_dist = [Signal(mb + 1, name=f"fin_dist_{p}", reset_less=True) for p in range(P)]
        fin_dec = [Signal(tb, name=f"fin_decay_{p}", reset_less=True) for p in range(P)]
        m.d.sync += [fin_v[1].eq(fin_v[0]), fin_l[1].eq(fin_l[0]), fin_g[1].eq(fin_g[0]),
                     fin_s_r[1].eq(fin_s_r[0])]
        m.d.sync += [fin_dist[p].eq(surrogate_distance(cfg, lane_of(fin_u_r, mb, p))) for p in range(P)]
        m.d.sync += [fin_dec[p].eq(trace_decay(cfg, fin_tw[p * tb:(p + 1) * tb])) for p in range(P)]
        fin_psi = Cat(*(surrogate_from_distance(cfg, fin_dist[p]) for p in range(P)))
        fin_tr = Cat(*(trace_add_spike(cfg, fin_dec[p], fin_s_r[1][p]) for p in range(P)))
        fin_nz = Cat(*(fin_tr[p * tb:(p + 1) * tb] != 0 for p in range(P)))
        m.d.sync += fin_v[0].eq(0)

        def fin_writes():
            """The writes of FIN's stages 2 and 3 (after the sequencer: they take precedence)."""
            for l in range(L):
                with m.If(fin_v[0] & (fin_l[0] == l)):
                    m.d.comb += [U[l].wr.addr.eq(fin_g[0]), U[l].wr.en.eq(1), U[l].wr.data.eq(fin_u_r)]
                with m.If(fin_v[1] & (fin_l[1] == l)):
                    m.d.comb += [PSI[l].wr.addr.eq(fin_g[1]), PSI[l].wr.en.eq(1), PSI[l].wr.data.eq(fin_psi),
                                 A[l + 1].wr.addr.eq(fin_g[1]), A[l + 1].wr.en.eq(1),
                                 A[l + 1].wr.data.eq(fin_tr)]
                    gs = fin_g[1][:_bits(G[l + 1])] if G[l + 1] > 1 else Const(0, 1)
                    m.d.sync += nz[l + 1].word_select(gs, P).eq(fin_nz)
        # input trace unit: a_0 = trace_step(a_0, x), one word per cycle, beside the forward
        # pass (which never touches trace_0).  Issue, registered read data, decay, add + write.
        # Started by STEP_CHECK; the step's end (STEP_END) waits for it.
        tr_run = Signal()
        tr_cnt = Signal(range(G[0] + 1))
        tr_v = Signal(3)                  # read data / decay / update stage valid
        tr_i = [Signal(range(G[0] + 1), name=f"tr_idx_{k}") for k in range(3)]
        tr_word = Signal(P * tb, reset_less=True)
        tr_dec = [Signal(tb, name=f"tr_decay_{p}", reset_less=True) for p in range(P)]
        tr_busy = tr_run | tr_v.any()
        tr_idle = Signal()                # registered ~tr_busy: STEP_END, many cycles after
        m.d.sync += tr_idle.eq(~tr_busy)  # the unit's start, acts on a register
        m.d.sync += [tr_v.eq(Cat(tr_run, tr_v[:2])), tr_i[0].eq(tr_cnt), tr_i[1].eq(tr_i[0]),
                     tr_i[2].eq(tr_i[1]), tr_word.eq(A[0].rd.data)]
        m.d.sync += [tr_dec[p].eq(trace_decay(cfg, tr_word[p * tb:(p + 1) * tb])) for p in range(P)]
        with m.If(tr_run):
            A[0].read(m, tr_cnt)
            m.d.sync += tr_cnt.eq(tr_cnt + 1)
            with m.If(tr_cnt == G[0] - 1):
                m.d.sync += tr_run.eq(0)
        with m.If(tr_v[2]):
            tsel = tr_i[2][:_bits(G[0])] if G[0] > 1 else Const(0, 1)
            xs = xbits.word_select(tsel, P)
            new = [trace_add_spike(cfg, tr_dec[p], xs[p]) for p in range(P)]
            m.d.comb += [A[0].wr.addr.eq(tr_i[2]), A[0].wr.en.eq(1), A[0].wr.data.eq(Cat(*new))]
            m.d.sync += nz[0].word_select(tsel, P).eq(Cat(*(v != 0 for v in new)))

        # feedback pass: gacc += M e_k (old M); M = momentum update (valid lanes only).
        # The word read from the feedback BRAM is registered first (with e_k and oc_k of
        # its class), so that neither the M*e multiply-accumulate nor the momentum update
        # starts at a BRAM output; the write-back follows two cycles after the data stage.
        # The pass's multipliers (both operands registers) also make d = g * psi at the end
        # of a group, when they are free: fb_x takes M (or g), fb_y takes e_k (or psi).
        fb_v = Signal()                   # stage-2 valid
        fb_k = Signal(range(nout))        # stage-2 class index
        fb_m = Signal(P * fbb, reset_less=True)             # stage-2 M word (old values)
        stepw = ob + 2
        # stage-2 (o_k - b_k) >> shift and its negation, and e_k: picked by the class
        # counter into registers in the read stage (the pick's select is kcnt, a register,
        # and the eight multiplier operands fb_y copy a register, not a multiplexer)
        fb_step = Signal(signed(stepw), reset_less=True)
        fb_nstep = Signal(signed(stepw), reset_less=True)
        pick_step = Signal(signed(stepw), reset_less=True)
        pick_nstep = Signal(signed(stepw), reset_less=True)
        pick_e = Signal(signed(eb), reset_less=True)
        # every class's step and its negation (set by the class unit below): the M passes
        # only multiplex them
        oc_step = Array(Signal(signed(stepw), name=f"oc_step_{k}") for k in range(nout))
        oc_nstep = Array(Signal(signed(stepw), name=f"oc_nstep_{k}") for k in range(nout))

        fb2_v = Signal()                  # stage 3: decayed M and signed step registered
        fb2_k = Signal(range(nout))
        fb2_m = Signal(P * fbb, reset_less=True)
        fb2_dec = [Signal(signed(fbb + 1), name=f"fb_decay_{p}", reset_less=True) for p in range(P)]
        fb2_step = [Signal(signed(stepw), name=f"fb_step_{p}", reset_less=True) for p in range(P)]
        fb_x = [Signal(signed(max(fbb, sb)), name=f"fb_x_{p}", reset_less=True) for p in range(P)]
        fb_y = [Signal(signed(max(eb, psib + 1)), name=f"fb_y_{p}", reset_less=True) for p in range(P)]
        gacc_next = [Signal(signed(gaccw), name=f"gacc_next_{p}") for p in range(P)]
        d_any = Signal()                  # some d of the group is nonzero (registered with d)
        fb_first = Signal()               # stage 2 holds class 0: the accumulation starts
        # the products M[j, k] e_k are registered (multiplier -> register -> adder), and the
        # accumulation follows a cycle later: fb_pv / fb_pfirst are fb_v / fb_first delayed
        fb_prod_r = [registered_product(m, fb_x[p], fb_y[p], name=f"fb_prod_r_{p}", kind=mul_kind)
                     for p in range(P)]
        fb_pv = Signal()
        fb_pfirst = Signal()
        m.d.sync += [fb_pv.eq(fb_v), fb_pfirst.eq(fb_first)]
        m.d.sync += [fb2_v.eq(fb_v), fb2_k.eq(fb_k), fb2_m.eq(fb_m)]
        fb2_we = Signal(L)                # fb2_v for layer l: the write-back's select, registered
        m.d.sync += fb2_we.eq(Cat(*(fb_v & (lsel == l) for l in range(L))))
        # stage 4: the new M word, its address and layer select registered, then written
        # (the momentum sum and its saturation fill stage 3; the block RAM's write data
        # then comes from a register through the host/pipeline multiplexer only)
        fb3_we = Signal(L)
        m_new = Signal(P * fbb)
        m_new_r = Signal(P * fbb, reset_less=True)
        fb3_addr = Signal(len((group << kb) | fb2_k), reset_less=True)
        m.d.sync += [fb3_we.eq(fb2_we), m_new_r.eq(m_new), fb3_addr.eq((group << kb) | fb2_k)]
        # The multiplier operands load every cycle through one 2:1 multiplexer whose select
        # is a register (no state decode after the feedback BRAM's late output): M[j, k]
        # and e_k in an M pass; g and psi in MP_G (fb_g), whose product d is taken in MP_D2.
        # Outside those the products are not used (gacc adds only under fb_pv).
        # g = top_down_signal(gacc) is registered every cycle: in MP_G it holds the final
        # sum's (the pass leaves MP_RUN only when no accumulation is pending).
        fb_g = Signal()                   # registered: this cycle is an MP_G
        g_r = [Signal(signed(sb), name=f"g_{p}", reset_less=True) for p in range(P)]
        m.d.sync += fb_g.eq(0)
        m.d.sync += [g_r[p].eq(top_down_signal(cfg, gacc[p])) for p in range(P)]
        m.d.sync += [fb_x[p].eq(Mux(fb_g, g_r[p], lane_of(m_rd, fbb, p))) for p in range(P)]
        m.d.sync += [fb_y[p].eq(Mux(fb_g, psi_word[p * psib:(p + 1) * psib], pick_e)) for p in range(P)]
        for p in range(P):
            m.d.comb += gacc_next[p].eq(Mux(fb_pfirst, 0, gacc[p]) + fb_prod_r[p])
            m.d.sync += [fb2_dec[p].eq(feedback_decay(cfg, lane_of(fb_m, fbb, p))),
                         fb2_step[p].eq(Mux(z_word[p], fb_step, fb_nstep))]
            m.d.comb += m_new[p * fbb:(p + 1) * fbb].eq(
                Mux(gv_word[p], feedback_apply(cfg, fb2_dec[p], fb2_step[p]), lane_of(fb2_m, fbb, p)))
        # --- weight-update engines (rtl/update_engine.py) --------------------------------
        # The hidden engine takes one job per word group from the feedback passes; the
        # readout engine runs the readout update, one job per output word group, from the
        # moment the error is known.  They, and the feedback passes, use disjoint memories
        # and multipliers, so the three run at once.
        # Their masks, the nonzero-trace flags, hold still through learning.
        hid_eng = UpdateEngine(m, "hidden_engine", cfg=cfg, weights=W, traces=A[:L], masks=nz[:L],
                               col_bits=cb[:L], mask_bits=max(G[l] * P for l in range(L)),
                               max_groups=max(G[1:L + 1]), shift_bits=SHIFT_BITS, multipliers=mul_kind)
        ro_eng = UpdateEngine(m, "readout_engine", cfg=cfg, weights=[WO], traces=[A[L]], masks=[nz[L]],
                              col_bits=[cb[L]], mask_bits=G[L] * P, max_groups=G[L + 1],
                              shift_bits=SHIFT_BITS, multipliers=mul_kind)
        ro_active = Signal()              # readout jobs left to hand over
        ro_group = Signal(range(G[L + 1] + 1))
        ro_gsel = ro_group[:_bits(G[L + 1])] if G[L + 1] > 1 else Const(0, 1)
        e_word = [Array(e[cc * P + p] if cc * P + p < nout else Const(0, signed(eb))
                        for cc in range(G[L + 1]))[ro_gsel] for p in range(P)]
        m.d.comb += [ro_eng.layer.eq(0), ro_eng.group.eq(ro_group), ro_eng.shift.eq(ro_shift)] + [ro_eng.factor[p].eq(e_word[p]) for p in range(P)]
        with m.If(ro_active & ro_eng.ready):
            m.d.comb += ro_eng.go.eq(1)
            m.d.sync += ro_group.eq(ro_group + 1)
            with m.If(ro_group == G[L + 1] - 1):
                m.d.sync += ro_active.eq(0)
        learning_done = ~ro_active & ro_eng.idle & hid_eng.idle & ~fb3_we.any()

        # The class unit: after a training step's forward pass, the error e_k, the step
        # (o_k - b_k) >> s and its negation, and the new baseline b_k of one class per
        # cycle, in class order, while the first M pass starts (it picks class k's values
        # in STEP_END + 2 + k, the first cycle they are registered).  Stage A (class
        # cls_idx) picks o_k into a register; stage B (one-hot cls_1h) computes from it and
        # from b[0]: the baselines are a ring that turns once per class, so b[0] is always
        # the class in stage B and its update enters at the far end (after nout turns every
        # b_k is back in place).  The readout jobs start after the last class's e_k.
        cls_idx = Signal(range(nout))     # stage A: the class picked (rests at 0)
        cls_1h = Signal(nout)             # stage B: one-hot class (0 when idle)
        cls_on = Signal()                 # registered: cls_1h is not 0
        cls_o = Signal(signed(ob), reset_less=True)        # stage A -> B: o_k
        cls_bias = Signal(signed(ob + 1), reset_less=True)  # stage A -> B: negated_step_bias(o_k)
        cls_lab = Signal()                # stage A -> B: k is the label
        m.d.sync += [cls_o.eq(o[cls_idx]), cls_bias.eq(negated_step_bias(cfg, o[cls_idx])),
                     cls_lab.eq(label == cls_idx)]
        with m.If(cls_idx != 0):
            m.d.sync += cls_idx.eq(Mux(cls_idx == nout - 1, 0, cls_idx + 1))
        m.d.sync += cls_1h.eq(cls_1h << 1)
        with m.If(cls_1h[nout - 1]):
            m.d.sync += [cls_on.eq(0), ro_active.eq(1), ro_group.eq(0)]
        cls_oc = cls_o - b[0]
        with m.If(cls_on):
            m.d.sync += [b[k].eq(b[k + 1]) for k in range(nout - 1)]
            m.d.sync += b[nout - 1].eq(baseline_update(cfg, b[0], cls_oc))
        for k in range(nout):
            with m.If(cls_1h[k]):
                m.d.sync += [e[k].eq(output_error(cfg, cls_o, cls_lab)),
                             oc_step[k].eq(feedback_step(cfg, cls_oc)),
                             oc_nstep[k].eq(negated_feedback_step(cfg, b[0], cls_bias))]

        # --- command / response registers -------------------------------------------------------
        head = Signal(32)
        op = head[28:32]
        addr_row = Signal(16)
        addr_col = Signal(16)
        data_word = Signal(32)
        words_in = -(-cfg.n_inputs // 32)
        rx_count = Signal(range(max(words_in, 3) + 1))
        x_words = Array(Signal(32, name=f"x_word_{w}") for w in range(words_in))
        resp_status = Signal(4)
        resp_count = Signal(24)
        resp_value = Signal(32)
        acc_word = Signal(P * max(wb, fbb, mb, tb), reset_less=True)   # host access: the memory word read
        resp_idx = Signal(range(nout + 3))
        pred = Signal(range(nout))
        best = Signal(signed(tw))
        arg_v = Signal()                  # argmax: a candidate total is registered
        arg_k = Signal(range(nout))
        arg_total = Signal(signed(tw), reset_less=True)

        def respond(status, count=0):
            return [resp_status.eq(status), resp_count.eq(count), resp_idx.eq(0)]

        # --- host access decode -------------------------------------------------------------------
        mem_sel = head[24:28]
        # the entry's lane, decoded into a one-hot register: each bit selects one lane of
        # the wide words (a binary lane number would fan out to every one of them)
        row_lane = Signal(P)
        m.d.sync += row_lane.eq(1 << (addr_row[:lp] if lp else 0))
        row_word = addr_row[lp:] if lp else addr_row
        acc_valid = Signal()
        acc_ok = Signal()                 # registered: the access is valid (and writable)
        val_ok_r = Signal()               # registered: the value fits the entry
        acc_writable = Signal()
        wval = data_word.as_signed()
        val_ok = Signal()
        # the checks as a sum of products over a one-hot register of the memory selector
        # (decoded from the command header, which holds still through the access)
        msel = Signal(16)
        m.d.sync += msel.eq(1 << mem_sel)

        hlo, hhi = max(0, -hid_base), min(24, (1 << SHIFT_BITS) - 1 - hid_base)
        rlo, rhi = max(0, -ro_base), min(24, (1 << SHIFT_BITS) - 1 - ro_base)
        lfsr_ok = ((data_word != 0) & ((data_word >> cfg.lfsr_bits) == 0)
                   if cfg.lfsr_bits < 32 else data_word != 0)
        checks = []                       # (memory, entry exists, writable, value fits)
        for l in range(L):
            checks.append((Mem.W1 + l, (addr_row < sizes[l + 1]) & (addr_col < sizes[l]), True, fits_signed(wval, wb)))
            checks.append((Mem.M1 + l, (addr_row < sizes[l + 1]) & (addr_col < nout), True, fits_signed(wval, fbb)))
        checks += [
            (Mem.W_OUT, (addr_row < nout) & (addr_col < sizes[L]), True, fits_signed(wval, wb)),
            (Mem.BASELINE, (addr_row < nout) & (addr_col == 0), True, fits_signed(wval, ob)),
            (Mem.LFSR, (addr_row < P) & (addr_col == 0), True, lfsr_ok),
            (Mem.PARAM, (addr_row < 2) & (addr_col == 0), True,
             Mux(addr_row == 0, (wval >= hlo) & (wval <= hhi), (wval >= rlo) & (wval <= rhi))),
        ]
        hidden_entry = Cat(*((addr_col == l) & (addr_row < sizes[l + 1]) for l in range(L))).any()
        checks += [(Mem.MEMBRANE, hidden_entry, False, 0), (Mem.SPIKE, hidden_entry, False, 0),
                   (Mem.TRACE, Cat(*((addr_col == l) & (addr_row < sizes[l]) for l in range(L + 1))).any(),
                    False, 0)]
        m.d.comb += [acc_valid.eq(Cat(*(msel[k] & ok for k, ok, _, _ in checks)).any()),
                     acc_writable.eq(Cat(*(msel[k] for k, _, w, _ in checks if w)).any()),
                     val_ok.eq(Cat(*(msel[k] & v for k, _, w, v in checks if w)).any())]

        # --- helpers for the passes ---------------------------------------------------------------
        def group_valid(n, c):
            """Lane-valid bits of word ``c`` of a layer of ``n`` neurons."""
            return valid_bits(n, -(-n // P)).word_select(c, P)

        m.d.comb += self.o_stream.payload.eq(0)

        # host writes of register entries: enable pulses registered in ACCESS1 (they are
        # high exactly in ACCESS2), so no state or address decode sits before the enables
        lfsr_we, hid_lr_we, ro_lr_we = Signal(), Signal(), Signal()
        base_we = Signal(nout)
        host_base = Signal(signed(ob))
        host_lfsr = Signal(cfg.lfsr_bits)
        host_param = Signal(5)
        m.d.sync += [lfsr_we.eq(0), hid_lr_we.eq(0), ro_lr_we.eq(0), base_we.eq(0)]
        lfsr_step = Signal()              # registered: high exactly in a hidden layer's FIN
        # the sample's totals add the outputs of a readout group the cycle after its FIN
        # (saturating the accumulator and adding are two carry chains)
        tot_add = Signal(G[L + 1])
        m.d.sync += tot_add.eq(0)
        for cc in range(G[L + 1]):
            with m.If(tot_add[cc]):
                m.d.sync += [total[k].eq(total[k] + o[k]) for k in range(cc * P, min(nout, cc * P + P))]
        m.d.sync += lfsr_step.eq(0)
        # register copies of the row for the LFSR bank and the baseline multiplexer, so that
        # ``addr_row`` (which also addresses every memory) fans out less
        row_lfsr = Signal.like(lfsr.sel)
        row_is0 = Signal()
        row_k_1h = Signal(nout)           # one-hot: each bit picks one baseline
        m.d.sync += [row_lfsr.eq(addr_row), row_is0.eq(addr_row == 0),
                     row_k_1h.eq(Cat(*(addr_row == k for k in range(nout))))]
        m.d.comb += [lfsr.sel.eq(row_lfsr), lfsr.wdata.eq(data_word), lfsr.we.eq(lfsr_we),
                     lfsr.step.eq(lfsr_step)]
        with m.If(hid_lr_we):
            m.d.sync += hid_lr.eq(data_word)
        with m.If(ro_lr_we):
            m.d.sync += ro_lr.eq(data_word)
        for k in range(nout):
            with m.If(base_we[k]):
                m.d.sync += b[k].eq(data_word)

        # Host access to the block RAMs: the word read (address out in ACCESS1 and ACCESS2)
        # is registered on its own first (a BRAM's data arrives late in the cycle), for the
        # READ answer.  A WRITE writes its value into one lane in ACCESS4 (the memories
        # have a write enable per lane), so no word is read, patched and written back.  The
        # write address and data are the host's unless a pipeline's registered valid takes
        # the port (update engines, feedback write-back); ACCESS4 only enables.
        def bram_word(mem, name):
            r = Signal.like(mem.rd.data, name=f"host_{name}", reset_less=True)
            m.d.sync += r.eq(mem.rd.data)
            return r
        host_w = [bram_word(W[l], f"w{l}") for l in range(L)]
        host_m = [bram_word(MF[l], f"m{l}") for l in range(L)]
        host_wo = bram_word(WO, "wo")
        for l in range(L):
            m.d.comb += [W[l].wr.addr.eq((row_word << cb[l]) | addr_col),
                         W[l].wr.data.eq(data_word[:wb].replicate(P)),
                         MF[l].wr.addr.eq((row_word << kb) | addr_col),
                         MF[l].wr.data.eq(data_word[:fbb].replicate(P))]
        m.d.comb += [WO.wr.addr.eq((row_word << cb[L]) | addr_col), WO.wr.data.eq(data_word[:wb].replicate(P))]

        # host READ: the addressed word, registered every cycle (ACCESS3 uses the one that
        # ACCESS1's address read), picked by one-hot source registers decoded from the
        # command's memory and column, which hold still through the access
        def spike_word(l):
            gs = row_word[:_bits(G[l + 1])] if G[l + 1] > 1 else Const(0, 1)
            return spikes[l].word_select(gs, P)
        # the read addresses stay out in ACCESS1 and ACCESS2, so the LUT-RAM words are
        # still there in ACCESS3, when acc_word takes the pick
        sources = ([(mem_sel == Mem.W1 + l, host_w[l]) for l in range(L)]
                   + [(mem_sel == Mem.M1 + l, host_m[l]) for l in range(L)]
                   + [(mem_sel == Mem.W_OUT, host_wo)]
                   + [((mem_sel == Mem.MEMBRANE) & (addr_col == l), U[l].rd.data) for l in range(L)]
                   + [((mem_sel == Mem.SPIKE) & (addr_col == l), spike_word(l)) for l in range(L)]
                   + [((mem_sel == Mem.TRACE) & (addr_col == l), A[l].rd.data) for l in range(L + 1)])
        host_src = Signal(len(sources))
        m.d.sync += host_src.eq(Cat(*(cond for cond, _ in sources)))
        m.d.sync += acc_word.eq(_one_hot_pick((host_src[i], word) for i, (_, word) in enumerate(sources)))

        with m.FSM(name="seq") as seq_fsm:
            # ---------------------------------------------------------------- commands
            with m.State("IDLE"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    word = self.i_stream.payload
                    m.d.sync += [head.eq(word), rx_count.eq(0)]
                    wop = word[28:32]
                    with m.Switch(wop):
                        with m.Case(Op.NOP):
                            m.d.sync += respond(Status.OK)
                            m.next = "RESPOND"
                        with m.Case(Op.START):
                            lab = word[:16]
                            with m.If(lab >= nout):
                                m.d.sync += respond(Status.ERR_LABEL)
                                m.next = "RESPOND"
                            with m.Else():
                                m.d.sync += [active.eq(1), train.eq(word[27]), label.eq(lab),
                                             nsteps.eq(0), *respond(Status.OK)]
                                m.next = "CLEAR"
                        with m.Case(Op.STEP):
                            m.next = "RX_SPIKES"
                        with m.Case(Op.END):
                            with m.If(active):
                                m.d.sync += [kcnt.eq(1), pred.eq(0), best.eq(total[0]), arg_v.eq(0)]
                                m.next = "ARGMAX"
                            with m.Else():
                                m.d.sync += respond(Status.ERR_STATE)
                                m.next = "RESPOND"
                        with m.Case(Op.WRITE, Op.READ):
                            m.next = "RX_ADDR"
                        with m.Default():
                            m.d.sync += respond(Status.ERR_OPCODE)
                            m.next = "RESPOND"

            # START clears membranes and traces: one word per memory per cycle
            with m.State("CLEAR"):
                m.d.sync += [s.eq(0) for s in spikes]
                m.d.sync += [t.eq(0) for t in total]
                m.d.sync += [n.eq(0) for n in nz]
                for l in range(L):
                    m.d.comb += [U[l].wr.addr.eq(group), U[l].wr.en.eq(group < G[l + 1])]
                for l in range(L + 1):
                    m.d.comb += [A[l].wr.addr.eq(group), A[l].wr.en.eq(group < G[l])]
                m.d.sync += group.eq(group + 1)
                with m.If(group == max(G[:-1]) - 1):
                    m.d.sync += group.eq(0)
                    m.next = "RESPOND"

            with m.State("RX_SPIKES"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    m.d.sync += [x_words[rx_count].eq(self.i_stream.payload), rx_count.eq(rx_count + 1)]
                    with m.If(rx_count == words_in - 1):
                        m.next = "STEP_CHECK"

            with m.State("STEP_CHECK"):
                with m.If(~active | steps_full):
                    m.d.sync += respond(Status.ERR_STATE)
                    m.next = "RESPOND"
                with m.Else():
                    m.d.sync += [nsteps.eq(nsteps + 1), group.eq(0), dv.eq(0), scan_layer.eq(0),
                                 xbits.eq(Cat(*x_words)[:cfg.n_inputs]), tr_run.eq(1), tr_cnt.eq(0)]
                    U[0].read(m, 0)                         # read ahead for FWD0_START
                    m.next = "FWD0_START"

            with m.State("RX_ADDR"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    m.d.sync += [addr_row.eq(self.i_stream.payload[16:32]),
                                 addr_col.eq(self.i_stream.payload[:16])]
                    m.next = "RX_DATA"
                    with m.If(op == Op.READ):
                        m.next = "ACCESS"

            with m.State("RX_DATA"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    m.d.sync += data_word.eq(self.i_stream.payload)
                    m.next = "ACCESS"

            # host access, cycle 1: check, issue the read of the word holding the entry
            # host access, cycle 1: the address and value checks registered (they are
            # several compares deep); cycle 2: act on them and read the word of the entry
            with m.State("ACCESS"):
                m.d.sync += [acc_ok.eq(acc_valid & ((op != Op.WRITE) | acc_writable)),
                             val_ok_r.eq(val_ok)]
                m.next = "ACCESS1"
            def host_reads():
                for l in range(L):
                    W[l].read(m, (row_word << cb[l]) | addr_col)
                    MF[l].read(m, (row_word << kb) | addr_col)
                    U[l].read(m, row_word)
                WO.read(m, (row_word << cb[L]) | addr_col)
                for l in range(L + 1):
                    A[l].read(m, row_word)

            with m.State("ACCESS1"):
                is_write = op == Op.WRITE
                # the reads are harmless when the checks fail: the addresses never wait on them
                host_reads()
                with m.If(~acc_ok):
                    m.d.sync += respond(Status.ERR_ADDR)
                    m.next = "RESPOND"
                with m.Elif(is_write & ~val_ok_r):
                    m.d.sync += respond(Status.ERR_VALUE)
                    m.next = "RESPOND"
                with m.Else():
                    m.d.sync += [lfsr_we.eq(is_write & (mem_sel == Mem.LFSR)),
                                 hid_lr_we.eq(is_write & (mem_sel == Mem.PARAM) & (addr_row == 0)),
                                 ro_lr_we.eq(is_write & (mem_sel == Mem.PARAM) & (addr_row == 1))]
                    m.d.sync += [base_we[k].eq(is_write & (mem_sel == Mem.BASELINE) & (addr_row == k))
                                 for k in range(nout)]
                    m.next = "ACCESS2"
                # the values of register entries, picked by the row (for a read's answer)
                base_pick = _one_hot_pick((row_k_1h[k], b[k]) for k in range(nout))
                m.d.sync += [host_base.eq(base_pick), host_lfsr.eq(lfsr.rdata),
                             host_param.eq(Mux(row_is0, hid_lr, ro_lr))]

            # host access, cycle 2: read-modify-write one lane, or register the word read
            # (the lane is picked in cycle 3: no lane multiplexer hangs on a BRAM output)
            with m.State("ACCESS2"):
                is_write = op == Op.WRITE
                value = Signal(signed(33))
                with m.Switch(mem_sel):
                    with m.Case(Mem.BASELINE):
                        m.d.comb += value.eq(host_base)
                    with m.Case(Mem.LFSR):
                        m.d.comb += value.eq(host_lfsr)
                    with m.Case(Mem.PARAM):
                        m.d.comb += value.eq(host_param)
                m.d.sync += resp_value.eq(value[:32])
                host_reads()
                m.next = "ACCESS3"

            # host access, cycle 3: acc_word takes the addressed word (see host_src)
            with m.State("ACCESS3"):
                m.next = "ACCESS4"

            # host access, cycle 4: the lane of that word
            with m.State("ACCESS4"):
                is_write = op == Op.WRITE
                for l in range(L):
                    m.d.comb += [W[l].wr.en.eq(Mux(is_write & msel[Mem.W1 + l], row_lane, 0)),
                                 MF[l].wr.en.eq(Mux(is_write & msel[Mem.M1 + l], row_lane, 0))]
                m.d.comb += WO.wr.en.eq(Mux(is_write & msel[Mem.W_OUT], row_lane, 0))

                def lane_value(bits, signed_=True):
                    v = _one_hot_pick((row_lane[p], acc_word[p * bits:(p + 1) * bits]) for p in range(P))
                    return v.as_signed() if signed_ else v
                with m.Switch(mem_sel):
                    with m.Case(*(Mem.W1 + l for l in range(L)), Mem.W_OUT):
                        m.d.sync += resp_value.eq(lane_value(wb))
                    with m.Case(*(Mem.M1 + l for l in range(L))):
                        m.d.sync += resp_value.eq(lane_value(fbb))
                    with m.Case(Mem.MEMBRANE):
                        m.d.sync += resp_value.eq(lane_value(mb))
                    with m.Case(Mem.TRACE):
                        m.d.sync += resp_value.eq(lane_value(tb, False))
                    with m.Case(Mem.SPIKE):
                        m.d.sync += resp_value.eq(lane_value(1, False))
                m.d.sync += respond(Status.OK, Mux(is_write, 0, 1))
                m.next = "RESPOND"

            # argmax over the totals, first maximum wins: the candidate total is picked into
            # a register one cycle, compared with the best the next (no mux before the compare)
            with m.State("ARGMAX"):
                m.d.sync += [arg_v.eq(kcnt < nout), arg_k.eq(kcnt),
                             arg_total.eq(total[kcnt[:kb] if nout > 1 else 0])]
                with m.If(kcnt < nout):
                    m.d.sync += kcnt.eq(kcnt + 1)
                with m.If(arg_v & (arg_total > best)):
                    m.d.sync += [best.eq(arg_total), pred.eq(arg_k)]
                with m.If((kcnt == nout) & ~arg_v):
                    m.d.sync += [active.eq(0), *respond(Status.OK, 1 + nout)]
                    m.next = "RESPOND"

            with m.State("RESPOND"):
                hdr = Cat(resp_count, resp_status, op)
                tot_idx = (resp_idx - 2)[:kb]
                data = Signal(signed(33))          # sign-extends the totals
                with m.If(op == Op.END):
                    m.d.comb += data.eq(Mux(resp_idx == 1, pred, total[tot_idx]))
                with m.Else():
                    m.d.comb += data.eq(resp_value)
                m.d.comb += [self.o_stream.valid.eq(1),
                             self.o_stream.payload.eq(Mux(resp_idx == 0, hdr, data[:32])),
                             self.error.eq((resp_idx == 0) & (resp_status != Status.OK)
                                           & self.o_stream.ready)]
                with m.If(self.o_stream.ready):
                    m.d.sync += resp_idx.eq(resp_idx + 1)
                    with m.If(resp_idx == resp_count):
                        m.next = "IDLE"

            # ---------------------------------------------------------------- time step
            # forward pass, one hidden layer at a time, then the readout
            for l in range(L + 1):
                out_layer = l == L
                Wm = WO if out_layer else W[l]
                nxt = "OUT_START" if l == L - 1 else f"FWD{l + 1}_START"
                name = "OUT" if out_layer else f"FWD{l}"
                gsel = gsel_of(l + 1)

                def start_group(g, l=l, out_layer=out_layer):
                    """Set up the pass over group ``g``: its group bits, its trace word read
                    and the membrane word read the cycle before (the scan's load: START
                    drives it, and ``fin_load`` in FIN)."""
                    if not out_layer:
                        A[l + 1].read(m, g)
                        m.d.sync += u_word.eq(U[l].rd.data)
                    m.d.sync += [first.eq(1), dv.eq(0), lsel.eq(l), asel.eq(min(l + 1, L))]
                    m.d.sync += group_bits(l, g)
                # a layer's first group waits for the scan's snapshot of its mask (written
                # by the state before: STEP_CHECK, or the previous layer's last FIN), reading
                # the membrane's word 0 ahead all the while
                with m.State(f"{name}_START"):
                    m.d.sync += settled.eq(1)
                    if not out_layer:
                        U[l].read(m, 0)             # the membrane word read ahead: group 0
                    with m.If(settled & fwd_scan.primed):
                        m.d.sync += settled.eq(0)
                        m.d.comb += fwd_scan.load.eq(1)
                        start_group(group)
                        m.next = f"{name}_ACC"
                with m.State(f"{name}_ACC"):
                    with m.If(cand_v):
                        Wm.read(m, (group << cb[l]) | cand)
                        m.d.comb += fwd_scan.take.eq(1)
                    m.d.sync += [dv.eq(cand_v), first.eq(0), second.eq(first),
                                 last_grp.eq(group == G[l + 1] - 1)]
                    m.d.sync += [acc[p].eq(acc_next[p]) for p in range(P)]
                    if not out_layer:
                        with m.If(first):
                            m.d.sync += trace_word.eq(a_rd)
                    with m.If(acc_done):
                        m.next = f"{name}_FIN"
                        m.d.sync += fin_load.eq(~last_grp)    # FIN starts the next group
                        if not out_layer:
                            m.d.sync += lfsr_step.eq(train)   # high in FIN, the layer's noise draw
                        if not out_layer:           # read ahead for FIN's start of the next group
                            with m.If(group != G[l + 1] - 1):
                                U[l].read(m, gnext)
                # FIN also starts the layer's next group (the scan mask is the same for every
                # group of a layer); a layer's first group needs START, because its mask, the
                # previous layer's spikes, is only complete after that layer's last FIN.
                with m.State(f"{name}_FIN"):
                    if not out_layer:
                        m.d.sync += [spikes[l].word_select(gsel, P).eq(fin_s),
                                     zbits[l].word_select(gsel, P).eq(lfsr.bits)]
                        m.d.sync += [fin_v[0].eq(1), fin_l[0].eq(l), fin_g[0].eq(group), fin_u_r.eq(fin_u),
                                     fin_s_r[0].eq(fin_s), fin_tw.eq(trace_word)]
                    else:
                        for cc in range(G[L + 1]):
                            with m.If(group == cc):
                                m.d.sync += tot_add[cc].eq(1)     # the totals, a cycle later
                                for p in range(P):
                                    k = cc * P + p
                                    if k < nout:
                                        m.d.sync += o[k].eq(saturate(acc[p], ob))
                    with m.If(last_grp):
                        m.d.sync += [group.eq(0), scan_layer.eq(0 if out_layer else l + 1)]
                        if out_layer:
                            m.next = "STEP_END"
                        else:
                            if l + 1 < L:               # read ahead for the next layer's START
                                U[l + 1].read(m, 0)
                            m.next = nxt
                    with m.Else():
                        m.d.sync += group.eq(gnext)
                        start_group(gnext)
                        m.next = f"{name}_ACC"

            # the forward pass is done once the input trace unit is; then inference answers,
            # and learning starts: the class unit (above) and the first M pass
            with m.State("STEP_END"):
                with m.If(tr_idle & ~train):
                    m.d.sync += respond(Status.OK)
                    m.next = "RESPOND"
                with m.If(tr_idle & train):
                    # the class unit starts (stage A has class 0 in this cycle)
                    m.d.sync += [cls_idx.eq(1 % nout), cls_1h.eq(1), cls_on.eq(1), group.eq(0)]
                    m.next = "MP0_START"

            for l in range(L):
                nxt = "DRAIN" if l == L - 1 else f"MP{l + 1}_START"
                # M pass of word group c: g += M e (old M), M = momentum update
                def start_mp(g, l=l, read=True):
                    """Set up the M pass of group ``g``: its surrogate word read, its group bits."""
                    if read:
                        PSI[l].read(m, g)
                    m.d.sync += [kcnt.eq(0), dv.eq(0), fb_v.eq(0), first.eq(1), lsel.eq(l)]
                    m.d.sync += group_bits(l, g)
                with m.State(f"MP{l}_START"):      # a layer's first group
                    start_mp(group)
                    m.next = f"MP{l}_RUN"
                with m.State(f"MP{l}_RUN"):
                    with m.If(first):
                        m.d.sync += psi_word.eq(PSI[l].rd.data)
                    with m.If(kcnt < nout):
                        MF[l].read(m, (group << kb) | kcnt)
                        m.d.sync += [kcnt.eq(kcnt + 1), d_k.eq(kcnt)]
                    # class kcnt's values, for the data stage (d_k) next cycle; in the first
                    # M pass the class unit has registered class k just then (see above)
                    kpick = kcnt[:kb] if nout > 1 else 0
                    m.d.sync += [pick_e.eq(e[kpick]), pick_step.eq(oc_step[kpick]),
                                 pick_nstep.eq(oc_nstep[kpick])]
                    m.d.sync += [dv.eq(kcnt < nout), first.eq(0), last_grp.eq(group == G[l + 1] - 1)]
                    m.d.sync += [fb_v.eq(dv), fb_k.eq(d_k), fb_m.eq(m_rd), fb_step.eq(pick_step),
                                 fb_nstep.eq(pick_nstep), fb_first.eq(d_k == 0)]
                    with m.If(fb_pv):
                        m.d.sync += [gacc[p].eq(gacc_next[p]) for p in range(P)]
                    with m.If((kcnt == nout) & ~dv & ~fb_v & ~fb_pv & ~fb2_v & ~first):
                        m.next = f"MP{l}_G"
                        m.d.sync += fb_g.eq(1)
                with m.State(f"MP{l}_G"):
                    m.next = f"MP{l}_D"
                # the product g * psi registered (fb_prod_r, the products' only register, so
                # each multiplier drives one set of flip-flops) ...
                with m.State(f"MP{l}_D"):
                    m.next = f"MP{l}_D2"
                with m.State(f"MP{l}_D2"):      # ... then rounded and saturated into d
                    m.d.sync += [d[p].eq(factor_from_product(cfg, fb_prod_r[p])) for p in range(P)]
                    m.d.sync += d_any.eq(~Cat(*(factor_is_zero(cfg, v) for v in fb_prod_r)).all())
                    m.next = f"WP{l}_JOB"
                # weight pass of word group c over the inputs with a nonzero trace: handed
                # to the engine (skipped when d = 0), then on to the next group's M pass,
                # which this state also starts
                with m.State(f"WP{l}_JOB"):
                    PSI[l].read(m, gnext)         # the next group's, whether or not it starts now
                    m.d.comb += [hid_eng.layer.eq(l), hid_eng.group.eq(group), hid_eng.shift.eq(hid_shift)]
                    m.d.comb += [hid_eng.factor[p].eq(d[p]) for p in range(P)]
                    with m.If(hid_eng.ready | ~d_any):
                        m.d.comb += hid_eng.go.eq(d_any)
                        with m.If(last_grp):
                            m.d.sync += group.eq(0)
                            m.next = nxt
                        with m.Else():
                            m.d.sync += group.eq(gnext)
                            start_mp(gnext, read=False)
                            m.next = f"MP{l}_RUN"

            # the step ends when the engines have written their last weights
            with m.State("DRAIN"):
                with m.If(learning_done):
                    m.d.sync += respond(Status.OK)
                    m.next = "RESPOND"
        # one flip-flop per state: yosys does not re-encode a state register that has an
        # initial value by itself, and the binary state's decode sat in front of wide enables
        seq_fsm.state.attrs["fsm_encoding"] = "one-hot"
        # the feedback pass's write-back (fb3_we is only set inside MP passes and just after)
        for l in range(L):
            with m.If(fb3_we[l]):
                m.d.comb += [MF[l].wr.addr.eq(fb3_addr), MF[l].wr.en.eq(MF[l].all_lanes),
                             MF[l].wr.data.eq(m_new_r)]
        hid_eng.ports()
        ro_eng.ports()
        fin_writes()
        return m
