"""Host access: the READ and WRITE commands' checks, reads and writes, and the registers the
host can write (learning-rate shifts, baselines, LFSR states).

An access takes five cycles after its last word (``ACCESS``, ``ACCESS1`` .. ``ACCESS4``): the
address and value checks are registered (they are several compares deep), then the
addressed word is read (a block-RAM word registered on its own first), then its lane is
picked.  A WRITE puts its value into every lane of the write data and enables only its own
lane (the block RAMs' byte enables): no word is read, patched and written back.  The
semantics are :class:`golden.command_model.CoreModel`'s.
"""

from amaranth.hdl import Cat, Mux, Signal, signed

from golden.lanes import address_bits
from golden.protocol import Mem, Op, Status, lr_shift_range

from .arith import fits_signed
from .memories import group_select

__all__ = ["HostAccess", "one_hot_pick"]




def one_hot_pick(pairs):
    """The word whose select is high, of ``(select, word)`` pairs with at most one select
    high (0 when none is): an AND-OR, with no priority chain behind it."""
    picked = 0
    for select, word in pairs:
        picked = picked | Mux(select, word, 0)
    return picked


class HostAccess:
    """The host's view of the memories and registers.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    memories : rtl.memories.CoreMemories
    regs : rtl.memories.NetworkRegisters
    rates : rtl.learning_rates.LearningRates
    lfsr : rtl.noise.LfsrBank
    head : Signal
        The command's first word (holds still through the access).

    Attributes
    ----------
    addr_row, addr_col, data_word : Signal
        The command's address and value words (set by the sequencer's receive states).
    value : Signal
        The answer of a READ (valid in ``RESPOND``).
    """

    def __init__(self, cfg, memories, regs, rates, lfsr, head):
        self.cfg, self.mem, self.regs, self.rates, self.lfsr, self.head = cfg, memories, regs, rates, lfsr, head
        P = cfg.lanes
        wb, fbb, mb, tb = cfg.weight_bits, cfg.feedback_bits, cfg.membrane_bits, cfg.trace_bits
        self.op = head[28:32]
        self.mem_sel = head[24:28]
        self.addr_row = Signal(16, name="addr_row")
        self.addr_col = Signal(16, name="addr_col")
        self.data_word = Signal(32, name="data_word")
        self.value = Signal(32, name="resp_value")
        self.acc_word = Signal(P * max(wb, fbb, mb, tb), name="acc_word", reset_less=True)  # the memory word read

    def checks(self, m):
        """The address and value checks, as a sum of products over a one-hot register of the
        memory selector (decoded from the command header, which holds still)."""
        cfg, P, L, nout, sizes = self.cfg, self.cfg.lanes, self.cfg.n_hidden_layers, self.cfg.n_outputs, self.cfg.sizes
        lp = (P - 1).bit_length()
        wb, fbb, ob = cfg.weight_bits, cfg.feedback_bits, cfg.output_bits
        addr_row, addr_col, data_word = self.addr_row, self.addr_col, self.data_word
        # the entry's lane, decoded into a one-hot register: each bit selects one lane of
        # the wide words (a binary lane number would fan out to every one of them)
        self.row_lane = Signal(P, name="row_lane")
        m.d.sync += self.row_lane.eq(1 << (addr_row[:lp] if lp else 0))
        self.row_word = addr_row[lp:] if lp else addr_row
        self.acc_valid = Signal(name="acc_valid")
        self.acc_ok = Signal(name="acc_ok")                 # registered: the access is valid (and writable)
        self.val_ok_r = Signal(name="val_ok_r")             # registered: the value fits the entry
        self.acc_writable = Signal(name="acc_writable")
        wval = data_word.as_signed()
        self.val_ok = Signal(name="val_ok")
        self.msel = msel = Signal(16, name="msel")
        m.d.sync += msel.eq(1 << self.mem_sel)
        (hlo, hhi), (rlo, rhi) = lr_shift_range(cfg, 0), lr_shift_range(cfg, 1)
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
        m.d.comb += [self.acc_valid.eq(Cat(*(msel[k] & ok for k, ok, _, _ in checks)).any()),
                     self.acc_writable.eq(Cat(*(msel[k] for k, _, w, _ in checks if w)).any()),
                     self.val_ok.eq(Cat(*(msel[k] & v for k, _, w, v in checks if w)).any())]

    def write_pulses(self, m):
        """Host writes of register entries: enable pulses registered in ACCESS1 (they are
        high exactly in ACCESS2), so no state or address decode sits before the enables."""
        cfg, nout = self.cfg, self.cfg.n_outputs
        self.lfsr_we, self.hid_lr_we, self.ro_lr_we = Signal(name="lfsr_we"), Signal(name="hid_lr_we"), Signal(name="ro_lr_we")
        self.base_we = Signal(nout, name="base_we")
        self.host_base = Signal(signed(cfg.output_bits), name="host_base")
        self.host_lfsr = Signal(cfg.lfsr_bits, name="host_lfsr")
        self.host_param = Signal(5, name="host_param")
        m.d.sync += [self.lfsr_we.eq(0), self.hid_lr_we.eq(0), self.ro_lr_we.eq(0), self.base_we.eq(0)]

    def register_writes(self, m, lfsr_step):
        """The LFSR bank's host port (and its step pulse), the PARAM writes (the baseline
        writes are ``base_we`` into the class unit's port)."""
        nout, lfsr = self.cfg.n_outputs, self.lfsr
        addr_row, data_word = self.addr_row, self.data_word
        # register copies of the row for the LFSR bank and the baseline multiplexer, so that
        # ``addr_row`` (which also addresses every memory) fans out less
        self.row_lfsr = Signal.like(lfsr.sel, name="row_lfsr")
        self.row_is0 = Signal(name="row_is0")
        self.row_k_1h = Signal(nout, name="row_k_1h")           # one-hot: each bit picks one baseline
        m.d.sync += [self.row_lfsr.eq(addr_row), self.row_is0.eq(addr_row == 0),
                     self.row_k_1h.eq(Cat(*(addr_row == k for k in range(nout))))]
        m.d.comb += [lfsr.sel.eq(self.row_lfsr), lfsr.wdata.eq(data_word), lfsr.we.eq(self.lfsr_we),
                     lfsr.step.eq(lfsr_step)]
        m.d.comb += [self.rates.hidden_we.eq(self.hid_lr_we), self.rates.readout_we.eq(self.ro_lr_we),
                     self.rates.wdata.eq(data_word)]

    def memory_ports(self, m):
        """The block RAMs' words registered for a READ, their write ports' default address
        and data (the host's lane write; a pipeline's registered valid takes the port over,
        ACCESS4 only enables), and the one-hot pick of the addressed word."""
        cfg, P, L, mem, regs = self.cfg, self.cfg.lanes, self.cfg.n_hidden_layers, self.mem, self.regs
        wb, fbb = cfg.weight_bits, cfg.feedback_bits
        groups = [cfg.groups(n) for n in cfg.sizes]
        col_bits = [address_bits(n) for n in cfg.sizes]
        class_bits = address_bits(cfg.n_outputs)
        row_word, addr_col, data_word, mem_sel = self.row_word, self.addr_col, self.data_word, self.mem_sel

        # the word read (address out in ACCESS1 and ACCESS2) is registered on its own first
        # (a BRAM's data arrives late in the cycle), for the READ answer
        def bram_word(memory, name):
            r = Signal.like(memory.rd.data, name=f"host_{name}", reset_less=True)
            m.d.sync += r.eq(memory.rd.data)
            return r
        host_w = [bram_word(mem.weights[l], f"w{l}") for l in range(L)]
        host_m = [bram_word(mem.feedback[l], f"m{l}") for l in range(L)]
        host_wo = bram_word(mem.readout, "wo")
        # the host's requests are always valid (the lowest priority): ACCESS4 only enables
        for l in range(L):
            w, f = mem.weights[l].writer("host"), mem.feedback[l].writer("host")
            m.d.comb += [w.valid.eq(1), w.addr.eq((row_word << col_bits[l]) | addr_col),
                         w.data.eq(data_word[:wb].replicate(P)),
                         f.valid.eq(1), f.addr.eq((row_word << class_bits) | addr_col),
                         f.data.eq(data_word[:fbb].replicate(P))]
        wo = mem.readout.writer("host")
        m.d.comb += [wo.valid.eq(1), wo.addr.eq((row_word << col_bits[L]) | addr_col),
                     wo.data.eq(data_word[:wb].replicate(P))]

        # host READ: the addressed word, registered every cycle (ACCESS3 uses the one that
        # ACCESS1's address read), picked by one-hot source registers decoded from the
        # command's memory and column, which hold still through the access
        def spike_word(l):
            return regs.spikes[l].word_select(group_select(row_word, groups[l + 1]), P)
        # the read addresses stay out in ACCESS1 and ACCESS2, so the LUT-RAM words are
        # still there in ACCESS3, when acc_word takes the pick
        sources = ([(mem_sel == Mem.W1 + l, host_w[l]) for l in range(L)]
                   + [(mem_sel == Mem.M1 + l, host_m[l]) for l in range(L)]
                   + [(mem_sel == Mem.W_OUT, host_wo)]
                   + [((mem_sel == Mem.MEMBRANE) & (addr_col == l), mem.membrane[l].rd.data) for l in range(L)]
                   + [((mem_sel == Mem.SPIKE) & (addr_col == l), spike_word(l)) for l in range(L)]
                   + [((mem_sel == Mem.TRACE) & (addr_col == l), mem.trace[l].rd.data) for l in range(L + 1)])
        host_src = Signal(len(sources), name="host_src")
        m.d.sync += host_src.eq(Cat(*(cond for cond, _ in sources)))
        m.d.sync += self.acc_word.eq(one_hot_pick((host_src[i], word) for i, (_, word) in enumerate(sources)))

    def _reads(self, m):
        """Read every memory's word holding the entry (harmless when the checks fail)."""
        cfg, L, mem, row_word, addr_col = self.cfg, self.cfg.n_hidden_layers, self.mem, self.row_word, self.addr_col
        col_bits = [address_bits(n) for n in cfg.sizes]
        class_bits = address_bits(cfg.n_outputs)
        for l in range(L):
            mem.weights[l].read(m, (row_word << col_bits[l]) | addr_col)
            mem.feedback[l].read(m, (row_word << class_bits) | addr_col)
            mem.membrane[l].read(m, row_word)
        mem.readout.read(m, (row_word << col_bits[L]) | addr_col)
        for l in range(L + 1):
            mem.trace[l].read(m, row_word)

    def states(self, m, respond):
        """The sequencer states ``ACCESS`` .. ``ACCESS4``; they end in ``RESPOND``.
        ``respond(status, count)`` gives the statements that set up the answer."""
        cfg, P, L, nout = self.cfg, self.cfg.lanes, self.cfg.n_hidden_layers, self.cfg.n_outputs
        wb, fbb, mb, tb = cfg.weight_bits, cfg.feedback_bits, cfg.membrane_bits, cfg.trace_bits
        mem, op, mem_sel, msel, row_lane = self.mem, self.op, self.mem_sel, self.msel, self.row_lane
        # cycle 1: the address and value checks registered (they are several compares deep)
        with m.State("ACCESS"):
            m.d.sync += [self.acc_ok.eq(self.acc_valid & ((op != Op.WRITE) | self.acc_writable)),
                         self.val_ok_r.eq(self.val_ok)]
            m.next = "ACCESS1"
        # cycle 2: act on them and read the word of the entry
        with m.State("ACCESS1"):
            is_write = op == Op.WRITE
            self._reads(m)
            with m.If(~self.acc_ok):
                m.d.sync += respond(Status.ERR_ADDR)
                m.next = "RESPOND"
            with m.Elif(is_write & ~self.val_ok_r):
                m.d.sync += respond(Status.ERR_VALUE)
                m.next = "RESPOND"
            with m.Else():
                m.d.sync += [self.lfsr_we.eq(is_write & (mem_sel == Mem.LFSR)),
                             self.hid_lr_we.eq(is_write & (mem_sel == Mem.PARAM) & (self.addr_row == 0)),
                             self.ro_lr_we.eq(is_write & (mem_sel == Mem.PARAM) & (self.addr_row == 1))]
                m.d.sync += [self.base_we[k].eq(is_write & (mem_sel == Mem.BASELINE) & (self.addr_row == k))
                             for k in range(nout)]
                m.next = "ACCESS2"
            # the values of register entries, picked by the row (for a read's answer)
            base_pick = one_hot_pick((self.row_k_1h[k], self.regs.baseline[k]) for k in range(nout))
            m.d.sync += [self.host_base.eq(base_pick), self.host_lfsr.eq(self.lfsr.rdata),
                         self.host_param.eq(Mux(self.row_is0, self.rates.hidden_rate, self.rates.readout_rate))]

        # cycle 3: a register entry's value, or the memory word read registered (the lane is
        # picked in cycle 5: no lane multiplexer hangs on a BRAM output)
        with m.State("ACCESS2"):
            value = Signal(signed(33))
            with m.Switch(mem_sel):
                with m.Case(Mem.BASELINE):
                    m.d.comb += value.eq(self.host_base)
                with m.Case(Mem.LFSR):
                    m.d.comb += value.eq(self.host_lfsr)
                with m.Case(Mem.PARAM):
                    m.d.comb += value.eq(self.host_param)
            m.d.sync += self.value.eq(value[:32])
            self._reads(m)
            m.next = "ACCESS3"

        with m.State("ACCESS3"):              # cycle 4: acc_word takes the addressed word
            m.next = "ACCESS4"

        # cycle 5: the lane of that word; a WRITE enables its lane
        with m.State("ACCESS4"):
            is_write = op == Op.WRITE
            for l in range(L):
                m.d.comb += [mem.weights[l].writer("host").en.eq(Mux(is_write & msel[Mem.W1 + l], row_lane, 0)),
                             mem.feedback[l].writer("host").en.eq(Mux(is_write & msel[Mem.M1 + l], row_lane, 0))]
            m.d.comb += mem.readout.writer("host").en.eq(Mux(is_write & msel[Mem.W_OUT], row_lane, 0))

            def lane_value(bits, signed_=True):
                v = one_hot_pick((row_lane[p], self.acc_word[p * bits:(p + 1) * bits]) for p in range(P))
                return v.as_signed() if signed_ else v
            with m.Switch(mem_sel):
                with m.Case(*(Mem.W1 + l for l in range(L)), Mem.W_OUT):
                    m.d.sync += self.value.eq(lane_value(wb))
                with m.Case(*(Mem.M1 + l for l in range(L))):
                    m.d.sync += self.value.eq(lane_value(fbb))
                with m.Case(Mem.MEMBRANE):
                    m.d.sync += self.value.eq(lane_value(mb))
                with m.Case(Mem.TRACE):
                    m.d.sync += self.value.eq(lane_value(tb, False))
                with m.Case(Mem.SPIKE):
                    m.d.sync += self.value.eq(lane_value(1, False))
            m.d.sync += respond(Status.OK, Mux(is_write, 0, 1))
            m.next = "RESPOND"
