"""Host access: the READ and WRITE commands' checks, reads and writes, and the host's writes
of the registers (learning-rate shifts, baselines, LFSR states).

A component (:class:`HostAccess`).  The sequencer loads the command's address and value
words into it (``load_addr``, ``load_data``), starts it (``start``) and waits for ``done``;
``status``, ``count`` and ``value`` are then the answer.  The unit asks for the memories'
read ports through ``reads`` (:func:`rtl.memories.read_request`) and for their write ports
through ``writes`` (the ``host`` requester of :data:`rtl.memories.WRITERS`, always valid: its
``en`` alone says when it writes); :class:`rtl.core.Core` hands them to the memories.

An access takes five cycles after its last word (stages 0 .. 4, a shift register): the
address and value checks are registered (they are several compares deep), then the
addressed word is read (a block-RAM word registered on its own first), then its lane is
picked.  An access that fails its checks ends in stage 1.  A WRITE puts its value into every
lane of the write data and enables only its own lane (the block RAMs' byte enables): no word
is read, patched and written back.  The semantics are :class:`golden.command_model.CoreModel`'s.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from golden.lanes import address_bits
from golden.protocol import Mem, Op, Status, lr_shift_range

from .arith import fits_signed, in_small_range, one_hot_pick, widen
from .learning_rates import RATE_BITS
from .memories import group_select, memory_shapes, read_request
from .params import check_config
from .write_port_mux import write_request

__all__ = ["HostAccess"]


class HostAccess(wiring.Component):
    """The host's view of the memories and registers.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only: the sizes (the address checks), the widths (the value checks), the lanes.

    Ports
    -----
    head : In(32)
        The command's first word (holds still through the access).
    word : In(32)
        The input stream's word; ``load_addr`` / ``load_data`` (In(1)) take it as the address
        (row ``[16:32]``, column ``[:16]``) or the value.
    start : In(1)
        Starts an access (the cycle the last word is taken).
    done : Out(1)
        The access ends this cycle (combinational: stage 1 when a check fails, else stage 4).
    status : Out(4), count : Out(1)
        With ``done``: the answer's status and its word count (1 for a READ that succeeds).
    value : Out(32)
        The answer of a READ (a register, valid the cycle after ``done``).
    reads : Out(...)
        One :func:`rtl.memories.read_request` per memory the host reads, by memory name:
        ``weights_<l>``, ``feedback_<l>``, ``readout``, ``membrane_<l>``, ``trace_<l>``.
    writes : Out(...)
        The ``host`` write request (:func:`rtl.write_port_mux.write_request`) of ``weights_<l>``,
        ``feedback_<l>`` and ``readout``.
    spikes : In(sum of the hidden layers' word groups times lanes)
        The spike vectors, layer 0's first (``Cat`` of ``NetworkRegisters.spikes``).
    baseline : In(signed(output_bits)).array(n_outputs)
        The class unit's baselines; ``base_we`` (Out(n_outputs), one-hot) and ``base_data``
        (Out(signed(output_bits))) write one.
    lfsr_sel, lfsr_we, lfsr_wdata, lfsr_rdata
        The LFSR bank's host port (:class:`rtl.noise.LfsrBank`: ``sel``, one-hot, ``we``,
        ``wdata``, ``rdata``, a register one cycle behind ``sel``).
    hidden_we, readout_we, rate_data, hidden_rate, readout_rate
        The PARAM registers' port (:class:`rtl.learning_rates.LearningRates`: ``hidden_we``,
        ``readout_we``, ``wdata``, ``hidden_rate``, ``readout_rate``).
    """

    def __init__(self, *, cfg):
        check_config(cfg)
        self.cfg = cfg
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        shapes = memory_shapes(cfg)
        self.read_names = (*(f"weights_{l}" for l in range(L)), *(f"feedback_{l}" for l in range(L)), "readout",
                           *(f"membrane_{l}" for l in range(L)), *(f"trace_{l}" for l in range(L + 1)))
        self.write_names = (*(f"weights_{l}" for l in range(L)), *(f"feedback_{l}" for l in range(L)), "readout")
        self.spike_bits = [cfg.groups(n) * P for n in cfg.hidden]
        super().__init__({
            "head": In(32), "word": In(32), "load_addr": In(1), "load_data": In(1),
            "start": In(1), "done": Out(1), "status": Out(4), "count": Out(1), "value": Out(32),
            "reads": Out(wiring.Signature({name: Out(read_request(cfg, name)) for name in self.read_names})),
            "writes": Out(wiring.Signature({
                name: Out(write_request(ceil_log2(shapes[name][1]), P, shapes[name][0] * P))
                for name in self.write_names})),
            "spikes": In(sum(self.spike_bits)),
            "baseline": In(signed(cfg.output_bits)).array(nout),
            "base_we": Out(nout), "base_data": Out(signed(cfg.output_bits)),
            "lfsr_sel": Out(P), "lfsr_we": Out(1),
            "lfsr_wdata": Out(cfg.lfsr_bits), "lfsr_rdata": In(cfg.lfsr_bits),
            "hidden_we": Out(1), "readout_we": Out(1), "rate_data": Out(RATE_BITS),
            "hidden_rate": In(RATE_BITS), "readout_rate": In(RATE_BITS),
        })

    def elaborate(self, platform):
        cfg, P, L, nout, sizes = self.cfg, self.cfg.lanes, self.cfg.n_hidden_layers, self.cfg.n_outputs, self.cfg.sizes
        wb, fbb, mb, tb, ob = cfg.weight_bits, cfg.feedback_bits, cfg.membrane_bits, cfg.trace_bits, cfg.output_bits
        groups = [cfg.groups(n) for n in sizes]
        col_bits = [address_bits(n) for n in sizes]
        class_bits = address_bits(nout)
        lp = (P - 1).bit_length()
        m = Module()
        op, mem_sel = self.head[28:32], self.head[24:28]
        # "the command is a WRITE", registered: the head holds still from a cycle before the
        # access starts, so the register is right from stage 0 on, and the write enables and
        # the answer's selects below start at registers
        is_write = Signal(name="is_write")
        m.d.sync += is_write.eq(op == Op.WRITE)
        addr_row = Signal(16, name="addr_row")
        addr_col = Signal(16, name="addr_col")
        data_word = Signal(32, name="data_word")
        with m.If(self.load_addr):
            m.d.sync += [addr_row.eq(self.word[16:32]), addr_col.eq(self.word[:16])]
        with m.If(self.load_data):
            m.d.sync += data_word.eq(self.word)
        row_word = addr_row[lp:] if lp else addr_row
        stage = Signal(5, name="acc_stage")        # one-hot: stage k of the access

        # ---- the address and value checks, as a sum of products over a one-hot register of
        # the memory selector (decoded from the command header, which holds still)
        msel = Signal(16, name="msel")
        m.d.sync += msel.eq(1 << mem_sel)
        wval = data_word.as_signed()
        (hlo, hhi), (rlo, rhi) = lr_shift_range(cfg, 0), lr_shift_range(cfg, 1)
        lfsr_ok = ((data_word != 0) & ((data_word >> cfg.lfsr_bits) == 0)
                   if cfg.lfsr_bits < 32 else data_word != 0)
        # the address's compares with the sizes, registered as the address word is taken
        # (so that stage 0 only combines them with the memory select)
        compares = {}

        def addr_cmp(field, op_, n):
            key = (field, op_, n)
            if key not in compares:
                v = self.word[16:32] if field == "row" else self.word[:16]
                compares[key] = r = Signal(name=f"{field}_{op_}_{n}")
                with m.If(self.load_addr):
                    m.d.sync += r.eq(v < n if op_ == "lt" else v == n)
            return compares[key]

        def row_lt(n):
            return addr_cmp("row", "lt", n)

        def col_lt(n):
            return addr_cmp("col", "lt", n)

        def col_eq(n):
            return addr_cmp("col", "eq", n)
        checks = []                       # (memory, entry exists, writable, value fits)
        for l in range(L):
            checks.append((Mem.W1 + l, row_lt(sizes[l + 1]) & col_lt(sizes[l]), True, fits_signed(wval, wb)))
            checks.append((Mem.M1 + l, row_lt(sizes[l + 1]) & col_lt(nout), True, fits_signed(wval, fbb)))
        checks += [
            (Mem.W_OUT, row_lt(nout) & col_lt(sizes[L]), True, fits_signed(wval, wb)),
            (Mem.BASELINE, row_lt(nout) & col_eq(0), True, fits_signed(wval, ob)),
            (Mem.LFSR, row_lt(P) & col_eq(0), True, lfsr_ok),
            (Mem.PARAM, row_lt(2) & col_eq(0), True,
             Mux(addr_row == 0, in_small_range(wval, hlo, hhi), in_small_range(wval, rlo, rhi))),
        ]
        hidden_entry = Cat(*(col_eq(l) & row_lt(sizes[l + 1]) for l in range(L))).any()
        checks += [(Mem.MEMBRANE, hidden_entry, False, 0), (Mem.SPIKE, hidden_entry, False, 0),
                   (Mem.TRACE, Cat(*(col_eq(l) & row_lt(sizes[l]) for l in range(L + 1))).any(),
                    False, 0)]
        acc_valid = Cat(*(msel[k] & ok for k, ok, _, _ in checks)).any()
        acc_writable = Cat(*(msel[k] for k, _, w, _ in checks if w)).any()
        val_ok = Cat(*(msel[k] & v for k, _, w, v in checks if w)).any()
        # stage 0: the checks registered; stage 1 acts on them
        acc_ok = Signal(name="acc_ok")                 # the access is valid (and writable)
        val_ok_r = Signal(name="val_ok_r")             # the value fits the entry
        with m.If(stage[0]):
            m.d.sync += [acc_ok.eq(acc_valid & (~is_write | acc_writable)), val_ok_r.eq(val_ok)]
        fail = ~acc_ok | (is_write & ~val_ok_r)
        m.d.sync += stage.eq(Cat(self.start, stage[0], stage[1] & ~fail, stage[2], stage[3]))
        m.d.comb += [self.done.eq((stage[1] & fail) | stage[4]),
                     self.status.eq(Mux(stage[4], Status.OK, Mux(acc_ok, Status.ERR_VALUE, Status.ERR_ADDR))),
                     self.count.eq(stage[4] & ~is_write)]

        # ---- register entries: write pulses registered in stage 1 (high exactly in stage 2,
        # so no decode sits before the enables); one-hot register copies of the row for the
        # LFSR bank and the baseline pick, so that ``addr_row`` fans out less (the bank's
        # state read is registered behind its select: valid from stage 2)
        row_lfsr = Signal(P, name="row_lfsr")          # one-hot: each bit selects one LFSR
        row_is0 = Signal(name="row_is0")
        row_k_1h = Signal(nout, name="row_k_1h")       # one-hot: each bit picks one baseline
        m.d.sync += [row_lfsr.eq(Cat(*(addr_row == p for p in range(P)))), row_is0.eq(addr_row == 0),
                     row_k_1h.eq(Cat(*(addr_row == k for k in range(nout))))]
        m.d.sync += [self.lfsr_we.eq(0), self.hidden_we.eq(0), self.readout_we.eq(0), self.base_we.eq(0)]
        with m.If(stage[1] & ~fail):
            # the row's decodes are registers by stage 1; a PARAM access that passed its
            # checks has row 0 or 1
            m.d.sync += [self.lfsr_we.eq(is_write & msel[Mem.LFSR]),
                         self.hidden_we.eq(is_write & msel[Mem.PARAM] & row_is0),
                         self.readout_we.eq(is_write & msel[Mem.PARAM] & ~row_is0)]
            m.d.sync += [self.base_we[k].eq(is_write & msel[Mem.BASELINE] & row_k_1h[k]) for k in range(nout)]
        m.d.comb += [self.lfsr_sel.eq(row_lfsr), self.lfsr_wdata.eq(data_word), self.rate_data.eq(data_word),
                     self.base_data.eq(data_word)]
        # the values of register entries, picked by the row (for a read's answer)
        host_base = Signal(signed(ob), name="host_base")
        host_param = Signal(RATE_BITS, name="host_param")
        with m.If(stage[1]):
            m.d.sync += [host_base.eq(one_hot_pick((row_k_1h[k], self.baseline[k]) for k in range(nout))),
                         host_param.eq(Mux(row_is0, self.hidden_rate, self.readout_rate))]

        # ---- memories: every memory's word holding the entry is read in stages 1 and 2
        # (harmless when the checks fail), so that the LUT-RAM words are still there in
        # stage 3; the block RAMs' words are registered on their own first (a BRAM's data
        # arrives late in the cycle)
        addresses = {**{f"weights_{l}": (row_word << col_bits[l]) | addr_col for l in range(L)},
                     **{f"feedback_{l}": (row_word << class_bits) | addr_col for l in range(L)},
                     "readout": (row_word << col_bits[L]) | addr_col}
        for name in self.read_names:
            req = getattr(self.reads, name)
            m.d.comb += [req.en.eq(stage[1] | stage[2]), req.addr.eq(addresses.get(name, row_word))]

        def bram_word(name):
            r = Signal.like(getattr(self.reads, name).data, name=f"host_{name}", reset_less=True)
            m.d.sync += r.eq(getattr(self.reads, name).data)
            return r
        # the host's write requests are always valid (the lowest priority): stage 4 enables
        # a WRITE's lane
        row_lane = Signal(P, name="row_lane")    # one-hot: each bit selects one lane of the wide words
        m.d.sync += row_lane.eq(1 << (addr_row[:lp] if lp else 0))
        for name, kind, bits in ([(f"weights_{l}", Mem.W1 + l, wb) for l in range(L)]
                                 + [(f"feedback_{l}", Mem.M1 + l, fbb) for l in range(L)]
                                 + [("readout", Mem.W_OUT, wb)]):
            w = getattr(self.writes, name)
            # a copy of the value per memory (not marked ``keep``: yosys's opt_merge folds
            # copies with the same input, so the 16-bit ones are one register in the netlist)
            data = Signal(bits, name=f"host_wdata_{name}", reset_less=True)
            with m.If(self.load_data):
                m.d.sync += data.eq(self.word[:bits])
            m.d.comb += [w.valid.eq(1), w.addr.eq(getattr(self.reads, name).addr),
                         w.data.eq(data.replicate(P)),
                         w.en.eq(Mux(stage[4] & is_write & msel[kind], row_lane, 0))]

        # READ: the addressed word, registered every cycle (stage 3 takes the one that stage
        # 1's address read), picked by one-hot source registers decoded from the command's
        # memory and column, which hold still through the access
        spike_vec = [self.spikes[sum(self.spike_bits[:l]):sum(self.spike_bits[:l + 1])] for l in range(L)]

        def spike_word(l):
            # registered on its own first, like a BRAM word: the row's word multiplexer and
            # the source pick are then two cycles (the spikes hold still through an access)
            r = Signal(P, name=f"host_spikes_{l}", reset_less=True)
            m.d.sync += r.eq(spike_vec[l].word_select(group_select(row_word, groups[l + 1]), P))
            return r
        sources = ([(mem_sel == Mem.W1 + l, bram_word(f"weights_{l}")) for l in range(L)]
                   + [(mem_sel == Mem.M1 + l, bram_word(f"feedback_{l}")) for l in range(L)]
                   + [(mem_sel == Mem.W_OUT, bram_word("readout"))]
                   + [((mem_sel == Mem.MEMBRANE) & (addr_col == l), getattr(self.reads, f"membrane_{l}").data)
                      for l in range(L)]
                   + [((mem_sel == Mem.SPIKE) & (addr_col == l), spike_word(l)) for l in range(L)]
                   + [((mem_sel == Mem.TRACE) & (addr_col == l), getattr(self.reads, f"trace_{l}").data)
                      for l in range(L + 1)])
        # each source's lanes are extended to ``lw`` bits as their entries read (signed, or
        # unsigned for traces and spikes), so that stage 4 picks a lane with no multiplexer
        # over the memory kinds behind it
        lw = max(wb, fbb, mb, tb) + 1
        lane_kind = ([(wb, True)] * L + [(fbb, True)] * L + [(wb, True)] + [(mb, True)] * L + [(1, False)] * L
                     + [(tb, False)] * (L + 1))     # (bits, signed) of each source's entries

        def extended(word, kind):
            bits, signed_ = kind
            lanes = [word[p * bits:(p + 1) * bits] for p in range(P)]
            return Cat(*(widen(v.as_signed() if signed_ else v, lw) for v in lanes))
        host_src = Signal(len(sources), name="host_src")
        acc_word = Signal(P * lw, name="acc_word", reset_less=True)
        m.d.sync += host_src.eq(Cat(*(cond for cond, _ in sources)))
        m.d.sync += acc_word.eq(one_hot_pick((host_src[i], extended(word, lane_kind[i]))
                                             for i, (_, word) in enumerate(sources)))

        # ---- the answer: stage 3 a register entry's value; stage 4 the lane of the memory
        # word (no lane multiplexer hangs on a BRAM output, and none over the memory kinds:
        # the lanes are extended already).  The selects are registers (``msel``, ``row_lane``,
        # ``mem_word``).
        mem_word = Signal(name="mem_word")          # the access reads a memory word (not a register entry)
        m.d.sync += mem_word.eq(Cat(*(msel[k] for k in (*(Mem.W1 + l for l in range(L)), *(Mem.M1 + l for l in range(L)),
                                                        Mem.W_OUT, Mem.MEMBRANE, Mem.TRACE, Mem.SPIKE))).any())
        with m.If(stage[3]):
            m.d.sync += self.value.eq(one_hot_pick([(msel[Mem.BASELINE], widen(host_base, 32)),
                                                    (msel[Mem.LFSR], widen(self.lfsr_rdata, 32)),
                                                    (msel[Mem.PARAM], widen(host_param, 32))]))
        with m.If(stage[4] & mem_word):
            lane = one_hot_pick((row_lane[p], acc_word[p * lw:(p + 1) * lw]) for p in range(P))
            # a READ answers the low 32 bits of the entry (golden.command_model: ``& WORD_MASK``);
            # membranes may be up to 40 bits wide
            m.d.sync += self.value.eq(widen(lane.as_signed(), 32) if lw <= 32 else lane[:32])
        # what the formal checks (sim/formal_core.py) look at: the registers that must hold
        # at most one high bit (a one-hot code, or 0 when idle)
        self.observed = {"one_hot": {"acc_stage": stage, "msel": msel, "row_lane": row_lane, "row_k_1h": row_k_1h,
                                     "row_lfsr": row_lfsr, "host_src": host_src, "base_we": self.base_we}}
        return m
