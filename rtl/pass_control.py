"""The registers the forward pass (:mod:`rtl.forward_pass`) runs on, and its bit scan
(:class:`PassControl`)."""

from amaranth.hdl import Array, Signal, signed

from golden.lanes import address_bits

from .bit_scan import BitScan
from .memories import group_select, valid_lanes

__all__ = ["PassControl"]


class PassControl:
    """The registers the forward pass runs on: the word group, the layer select, the
    data-stage valid bits and the current group's bits of the bit-vector registers; the
    accumulators, the words read and FIN's stages; the forward pass's bit scan.

    Parameters
    ----------
    m : Module
        The scan (:class:`rtl.bit_scan.BitScan`) is built into it at once.
    cfg : golden.config.CoreConfig
    regs : rtl.memories.NetworkRegisters
        The forward pass's own (``xbits`` and ``spikes`` are the scan's masks).
    """

    def __init__(self, m, cfg, regs):
        self.cfg, self.regs = cfg, regs
        P, L = cfg.lanes, cfg.n_hidden_layers
        self.groups = groups = [cfg.groups(n) for n in cfg.sizes]
        # the scan of a forward pass (rtl/bit_scan.py): layer l walks its inputs' spikes
        self.fwd_scan = BitScan(m, "fwd_scan", [regs.xbits, *regs.spikes])
        self.cand, self.cand_v = self.fwd_scan.cand, self.fwd_scan.cand_v
        self.settled = Signal(name="settled")         # a START state's second cycle or later
        self.scan_layer = Signal(range(L + 1), name="scan_layer")   # the layer whose mask the scan loads
        m.d.comb += self.fwd_scan.select.eq(self.scan_layer)
        self.last_grp = Signal(name="last_grp")       # registered: ``group`` is the layer's last
        # The group schedule (rtl/forward_pass.py): ``switch`` (a register) is high in the
        # cycle after a group's last take, or in its third cycle if it has fewer than two
        # inputs: the next group starts (the scan loads, the group registers move on);
        # ``fin`` two cycles later is the group's firing (FIN), when its last weight is in
        # the accumulator.  ``fin_group`` is the firing group's number (loaded at the
        # switch, so it holds from the cycle after it until the next switch).
        self.switch = Signal(name="switch")
        self.fin_pre = Signal(name="fin_pre")         # the cycle between the switch and FIN
        self.fin = Signal(L + 1, name="fin")          # FIN of a group of layer l (one-hot)
        # a hidden layer's last FIN has been: its spikes are written the cycle after it
        # (FIN's stage 2), and FIN hands over to the next layer's START then
        self.fin_seen = Signal(name="fin_seen")
        m.d.sync += [self.fin_pre.eq(self.switch)]
        with m.If(self.switch):
            m.d.comb += self.fwd_scan.load.eq(1)
        self.group = Signal(range(max(groups) + 1), name="group")
        self.fin_group = Signal.like(self.group, name="fin_group")
        self.gnext = Signal.like(self.group, name="gnext")   # registered ``group + 1`` (group holds still in a pass)
        m.d.sync += self.gnext.eq(self.group + 1)
        self.data_valid = Signal(name="data_valid")                   # data stage valid
        self.first = Signal(name="first")             # data stage: first cycle of a group
        # One copy of each lane's arithmetic serves every layer: the per-layer states only
        # choose the layer (``lsel``) whose memory words feed it and whose memory takes the
        # result.  Both are registers, set by the pass's START state, so no state decode
        # sits before the wide multiplexers.
        self.lsel = Signal(range(L + 1), name="lsel")   # layer of the current pass (L: the readout)
        self.asel = Signal(range(L + 1), name="asel")   # trace memory read by the current pass
        # the current group's bits of the bit-vector registers, picked in START / FIN
        self.s_prev = Signal(P, name="s_prev")        # last step's spikes
        self.gv_word = Signal(P, name="gv_word")      # which lanes hold a neuron
        self.fin_gv_word = Signal(P, name="fin_gv_word")   # the same for the firing group

        # ---- the datapath's registers
        mb, wb, tb = cfg.membrane_bits, cfg.weight_bits, cfg.trace_bits
        accw = mb + address_bits(max(cfg.sizes) + 1) + 3
        self.acc = [Signal(signed(accw), name=f"acc_{p}") for p in range(P)]
        # Pipeline data registers (words read, operands) are reset_less: a valid bit or the
        # sequencer's state says when they hold something, and the reset net (one
        # flip-flop, thousands of loads) stays smaller.
        self.trace_word = Signal(P * tb, name="trace_word", reset_less=True)
        self.fin_trace_word = Signal(P * tb, name="fin_trace_word", reset_less=True)   # the firing group's
        self.u_word = Signal(P * mb, name="u_word", reset_less=True)
        # one registered word per weight memory (``weights_0 .. weights_{L-1}``, ``readout``):
        # each block RAM's output (5.8 ns clock-to-output, unregistered) runs into a flip-flop
        # of its own that can sit beside it, and the layer is picked after the registers, by
        # ``w_take`` (one-hot: ``w_take[p][l]``: ``w_words[l]`` holds a weight of this pass).
        # ``w_take`` and ``second`` are registers of one copy per lane, equal in every lane: one
        # shared flip-flop fanned out to every lane's adder across the die (7.7 ns of routing
        # on the critical path at P = 16); rtl/toolchain.py keeps yosys from merging them
        self.w_words = [Signal(P * wb, name=f"w_word_{l}", reset_less=True) for l in range(L + 1)]
        self.w_take = [Signal(L + 1, name=f"w_take_{p}") for p in range(P)]
        self.reset_value = [Signal(signed(mb + 1), name=f"reset_{p}", reset_less=True) for p in range(P)]
        self.second = [Signal(name=f"acc_second_{p}") for p in range(P)]   # ACC's second cycle
        self.acc_next = [Signal(signed(accw), name=f"acc_next_{p}") for p in range(P)]
        # FIN's stages (rtl/forward_pass.py: ForwardPass.finish_stages)
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
        # the sample's totals add the outputs of a readout group the cycle after its FIN
        # (saturating the accumulator and adding are two carry chains)
        self.total_add = Signal(groups[L + 1], name="tot_add")

    def trace_pick(self, words):
        """The word of the trace memory the current pass reads (``asel``)."""
        return Array(words)[self.asel]

    def group_bits(self, l, g):
        """Loads of ``s_prev`` and ``gv_word`` for group ``g`` of layer ``l`` (``L``: the
        readout)."""
        cfg, P, L = self.cfg, self.cfg.lanes, self.cfg.n_hidden_layers
        gs = group_select(g, self.groups[l + 1])
        loads = [self.gv_word.eq(valid_lanes(cfg.sizes[l + 1], self.groups[l + 1], P).word_select(gs, P))]
        if l < L:
            loads.append(self.s_prev.eq(self.regs.spikes[l].word_select(gs, P)))
        return loads
