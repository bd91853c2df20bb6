"""The resident data set in SDRAM, read by the feeder through a double-buffered row cache.

:class:`rtl.dataset_store.DatasetStore` keeps the data set in block RAM; a data set that
does not fit (MNIST: 4,500 rows of 785 bytes) lives in the board's SDRAM instead.
:class:`SdramStore` has the same host write port (one byte per cycle) and the same feeder
read port (one-cycle latency), and talks to an SDRAM controller through request streams
shaped like ``boards.ulx3s.sdram.SdramController``'s (``mem``), which the board top level
or the test harness connects (gateware does not import boards/).

SDRAM layout: row ``r`` (the DatasetStore's numbering) is ``row_words = ceil((n_inputs + 1)
/ 2)`` 16-bit words at ``r << stride_bits`` (``2^stride_bits >= row_words``, so an address is
a concatenation); byte column ``c`` (pixel ``c``, the label at ``c = n_inputs``) is byte
``c % 2`` (0: bits 7:0) of word ``c // 2``.

Reading: two row buffers in block RAM, each a row in the feeder's word layout plus its
label.  The feeder names the row it wants (``read``, ``fetch.want``) and the next one
(``fetch.next_*``); a wanted row in neither buffer is fetched on demand, and while the
feeder reads one buffer the next row is fetched into the other.  ``fetch.ready`` says the
wanted row is in a buffer; a buffer the read port names is never refilled.

Writing: bytes queue in a FIFO (``wready``: room for one more) and are combined into 16-bit
words, two bytes of one word in a row forming one write request; a word with one byte
known is read, merged and written back (the controller has no byte masks).  A byte written
invalidates both buffers (the host loads the store while the feeder is idle), and row
fetches wait until every queued byte is in the SDRAM.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.dataset_store import (LABEL_BITS, PIXEL_BITS, store_fetch_signature, store_geometry,
                               store_read_signature)

__all__ = ["SdramStore", "memory_request_signature"]

WORD_BITS = 16          # the SDRAM data bus


def memory_request_signature(addr_bits, length_bits):
    """The store's side of an SDRAM controller (``boards.ulx3s.sdram.SdramController``).

    Members
    -------
    cmd : Out(stream.Signature(StructLayout({"addr", "length", "write"})))
        Requests of ``length`` consecutive words from word address ``addr``.
    wdata : Out(stream.Signature(16))
        Write data, in order.
    rdata : In(stream.Signature(16))
        Read data, in order.
    init_done : In(1)
        No request is issued before it is high.
    """
    layout = data.StructLayout({"addr": addr_bits, "length": length_bits, "write": 1})
    return wiring.Signature({
        "cmd": Out(stream.Signature(layout)),
        "wdata": Out(stream.Signature(WORD_BITS)),
        "rdata": In(stream.Signature(WORD_BITS)),
        "init_done": In(1),
    })


def _int(name, value, lo, hi):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")


class SdramStore(wiring.Component):
    """Pixels and labels of ``n_train`` + ``n_test`` samples in SDRAM.

    Parameters
    ----------
    n_inputs, n_train, n_test : int
        As :class:`rtl.dataset_store.DatasetStore`.
    addr_bits, length_bits : int
        The controller's request fields (24 and 16 for the 32 MB ULX3S part); the rows must
        fit the address space and a row the length field.
    write_buffer : int
        Bytes the write FIFO holds (4 .. 1024).

    Ports
    -----
    we, sample, col, wdata : In
        As :class:`rtl.dataset_store.DatasetStore`; a byte is taken only while ``wready``.
    wready : Out(1)
        The write FIFO has room for a byte this cycle.
    read : In(store_read_signature(...))
        The feeder's read port (one-cycle latency, while ``fetch.ready``).
    fetch : In(store_fetch_signature(n_train, n_test))
        The feeder's look-ahead and wait port.
    mem : Out(memory_request_signature(addr_bits, length_bits))
        To the SDRAM controller.
    """

    def __init__(self, n_inputs, n_train, n_test, *, addr_bits=24, length_bits=16,
                 write_buffer=32):
        self.lanes, self.words, self.words_pow2, self.rows = store_geometry(n_inputs, n_train, n_test)
        _int("addr_bits", addr_bits, 1, 32)
        _int("length_bits", length_bits, 1, 24)
        _int("write_buffer", write_buffer, 4, 1024)
        self.row_words = (n_inputs + 2) // 2
        self.stride_bits = (self.row_words - 1).bit_length()
        if self.rows << self.stride_bits > 1 << addr_bits:
            raise ValueError(f"addr_bits {addr_bits} is too small for {self.rows} rows of "
                             f"{1 << self.stride_bits} words")
        if self.row_words >= 1 << length_bits:
            raise ValueError(f"length_bits {length_bits} is too small for a row of "
                             f"{self.row_words} words")
        self.n_inputs, self.n_train, self.n_test = n_inputs, n_train, n_test
        self.addr_bits, self.length_bits, self.write_buffer = addr_bits, length_bits, write_buffer
        super().__init__({
            "we": In(1),
            "sample": In(range(max(self.rows, 2))),
            "col": In(range(n_inputs + 1)),
            "wdata": In(PIXEL_BITS),
            "wready": Out(1),
            "read": In(store_read_signature(n_inputs, n_train, n_test)),
            "fetch": In(store_fetch_signature(n_train, n_test)),
            "mem": Out(memory_request_signature(addr_bits, length_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        n, E, rows = self.n_inputs, self.lanes, range(max(self.rows, 2))
        word_bits = (self.words_pow2 - 1).bit_length()
        mem = self.mem

        def row_of(split, index):
            return index + Mux(split, self.n_train, 0)

        def address(row, word):
            return (row << self.stride_bits) | word

        # --- the host's bytes: queued, then combined per SDRAM word ------------------------
        m.submodules.wfifo = wq = fifo.SyncFIFO(
            width=len(self.wdata) + len(self.col) + len(self.sample), depth=self.write_buffer)
        m.d.comb += [wq.w_en.eq(self.we), wq.w_data.eq(Cat(self.wdata, self.col, self.sample)),
                     self.wready.eq(wq.w_rdy)]
        h_byte = wq.r_data[:PIXEL_BITS]
        h_col = wq.r_data[PIXEL_BITS:PIXEL_BITS + len(self.col)]
        h_row = wq.r_data[PIXEL_BITS + len(self.col):]
        p_valid, p_have = Signal(), Signal(2)          # the word being combined
        p_row, p_word = Signal(rows), Signal(range(self.row_words))
        p_bytes = Signal(WORD_BITS)
        same_word = (h_row == p_row) & ((h_col >> 1) == p_word)

        # --- the row buffers --------------------------------------------------------------
        buf = Memory(shape=unsigned(E * PIXEL_BITS), depth=2 * self.words_pow2, init=[])
        m.submodules.buffers = buf
        bw = buf.write_port(granularity=PIXEL_BITS)
        br = buf.read_port()
        # a buffer's tag is the row's (split, index) key, not its row number: the feeder's
        # index comes from the order memory's read port, and comparing keys keeps the adder
        # of the row number (index + n_train) off the path to ``fetch.ready`` and the FSM
        key_bits = 1 + len(self.read.index)
        tag = [Signal(key_bits, name=f"tag{b}") for b in range(2)]
        valid = [Signal(name=f"valid{b}") for b in range(2)]
        label = [Signal(LABEL_BITS, name=f"label{b}") for b in range(2)]
        filling, fill_buf, stale = Signal(), Signal(), Signal()
        fill_row = Signal(rows)
        k = Signal(range(self.row_words))              # word of the fill

        cur = Cat(self.read.index, self.read.split)
        hit = [valid[b] & (tag[b] == cur) for b in range(2)]

        def claimed(key):       # in a buffer or on its way there
            return [(valid[b] | (filling & (fill_buf == b))) & (tag[b] == key) for b in range(2)]

        # The fill decisions use registered names, a cycle late (the read port's name comes
        # from the order memory's data output, too late for a decision that enables a dozen
        # registers): a demand for the row the read port named last cycle, a prefetch of
        # the next row named last cycle into the buffer the read port did not name.  Names
        # change only when the feeder moves to its next row: if that row was claimed, the
        # prefetch is off; if not, the feeder waits for it (``fetch.ready`` low) and reads
        # no buffer.  Between runs ``next_valid`` is low.  So a stale name costs at most one
        # unneeded fill and never refills the buffer being read; ``fetch.ready`` and the
        # read address compare the current name.
        cur_r, cur_row = Signal(key_bits), Signal(rows)
        nxt, nxt_row, nxt_valid = Signal(key_bits), Signal(rows), Signal()
        demand, hit_r = Signal(), [Signal(name=f"hit{b}_r") for b in range(2)]
        m.d.sync += [hit_r[b].eq(hit[b]) for b in range(2)]
        m.d.sync += [cur_r.eq(cur), cur_row.eq(row_of(self.read.split, self.read.index)),
                     nxt.eq(Cat(self.fetch.next_index, self.fetch.next_split)),
                     nxt_row.eq(row_of(self.fetch.next_split, self.fetch.next_index)),
                     nxt_valid.eq(self.fetch.next_valid)]
        cur_claimed, nxt_claimed = claimed(cur_r), claimed(nxt)
        m.d.sync += demand.eq(self.fetch.want & ~Cat(*claimed(cur)).any())
        # the next row goes into the buffer the feeder is not reading
        prefetch = (nxt_valid & (hit_r[0] | hit_r[1])
                    & ~nxt_claimed[0] & ~nxt_claimed[1])
        label_q = Signal(LABEL_BITS)                   # block RAM-like: one cycle late
        m.d.sync += label_q.eq(Mux(hit[1], label[1], label[0]))
        read_word = self.read.word[:word_bits] if word_bits else Const(0, 0)
        m.d.comb += [self.fetch.ready.eq(hit[0] | hit[1]),
                     br.addr.eq(Cat(read_word, hit[1])),
                     self.read.pixels.eq(br.data),
                     self.read.label.eq(label_q)]

        # a fill word: bytes 2k and 2k+1 into their lanes, the label byte into its register
        c = Cat(Const(0, 1), k)
        lane = c[:5] if n > 1 else Const(0, 1)
        fill_word = (c >> 5) if n > 32 else Const(0, 1)
        enables = ((c < n).as_unsigned() << lane) | ((c + 1 < n).as_unsigned() << (lane + 1))
        m.d.comb += [bw.addr.eq(Cat(fill_word[:word_bits] if word_bits else Const(0, 0), fill_buf)),
                     bw.data.eq(mem.rdata.payload.replicate(-(-E // 2))[:E * PIXEL_BITS])]
        label_byte = mem.rdata.payload.word_select(n % 2, PIXEL_BITS)

        def start_fill(key, row, target):
            m.d.sync += [filling.eq(1), fill_buf.eq(target), fill_row.eq(row), stale.eq(0),
                         k.eq(0)]
            for b in range(2):
                with m.If(target == b):
                    m.d.sync += [tag[b].eq(key), valid[b].eq(0)]
            m.next = "FILL_CMD"

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~mem.init_done):
                    pass                                # the controller is initialising
                with m.Elif(wq.r_rdy & (~p_valid | same_word)):
                    m.d.comb += wq.r_en.eq(1)
                    m.d.sync += [p_valid.eq(1), p_row.eq(h_row), p_word.eq(h_col >> 1)]
                    with m.If(h_col[0]):
                        m.d.sync += [p_bytes[8:].eq(h_byte), p_have.eq(Mux(p_valid, p_have, 0) | 2)]
                    with m.Else():
                        m.d.sync += [p_bytes[:8].eq(h_byte), p_have.eq(Mux(p_valid, p_have, 0) | 1)]
                with m.Elif(p_valid):
                    # a word with both bytes is written; with one, the other is read first
                    with m.If(p_have == 3):
                        m.next = "WRITE_CMD"
                    with m.Else():
                        m.next = "MERGE_CMD"
                with m.Elif(~self.we & demand & ~cur_claimed[0] & ~cur_claimed[1]):
                    start_fill(cur_r, cur_row, 0)
                with m.Elif(~self.we & prefetch):
                    start_fill(nxt, nxt_row, ~hit_r[1])
            with m.State("MERGE_CMD"):
                m.d.comb += [mem.cmd.valid.eq(1), mem.cmd.payload.addr.eq(address(p_row, p_word)),
                             mem.cmd.payload.length.eq(1)]
                with m.If(mem.cmd.ready):
                    m.next = "MERGE_DATA"
            with m.State("MERGE_DATA"):
                m.d.comb += mem.rdata.ready.eq(1)
                with m.If(mem.rdata.valid):
                    with m.If(~p_have[0]):
                        m.d.sync += p_bytes[:8].eq(mem.rdata.payload[:8])
                    with m.If(~p_have[1]):
                        m.d.sync += p_bytes[8:].eq(mem.rdata.payload[8:])
                    m.d.sync += p_have.eq(3)
                    m.next = "WRITE_CMD"
            with m.State("WRITE_CMD"):
                m.d.comb += [mem.cmd.valid.eq(1), mem.cmd.payload.addr.eq(address(p_row, p_word)),
                             mem.cmd.payload.length.eq(1), mem.cmd.payload.write.eq(1)]
                with m.If(mem.cmd.ready):
                    m.next = "WRITE_DATA"
            with m.State("WRITE_DATA"):
                m.d.comb += [mem.wdata.valid.eq(1), mem.wdata.payload.eq(p_bytes)]
                with m.If(mem.wdata.ready):
                    m.d.sync += p_valid.eq(0)
                    m.next = "IDLE"
            with m.State("FILL_CMD"):
                m.d.comb += [mem.cmd.valid.eq(1),
                             mem.cmd.payload.addr.eq(address(fill_row, 0)),
                             mem.cmd.payload.length.eq(self.row_words)]
                with m.If(mem.cmd.ready):
                    m.next = "FILL_DATA"
            with m.State("FILL_DATA"):
                m.d.comb += mem.rdata.ready.eq(1)
                with m.If(mem.rdata.valid):
                    m.d.comb += bw.en.eq(enables[:E])
                    with m.If(k == n // 2):
                        for b in range(2):
                            with m.If(fill_buf == b):
                                m.d.sync += label[b].eq(label_byte)
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == self.row_words - 1):
                        m.d.sync += filling.eq(0)
                        for b in range(2):
                            with m.If(fill_buf == b):
                                m.d.sync += valid[b].eq(~stale)
                        m.next = "IDLE"

        # a byte written makes every cached row suspect (last, so it wins over a fill's end)
        with m.If(self.we):
            m.d.sync += [valid[0].eq(0), valid[1].eq(0), stale.eq(1)]
        return m
