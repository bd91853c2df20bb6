"""UART host link gateware: 8N1 UART, packet deframer with a commit/rollback buffer, and the
response framer.  The byte format is specified in ``docs/host_protocol.md`` and modelled in
:mod:`boards.ulx3s.protocol` (:class:`~boards.ulx3s.protocol.LinkModel`).

Data path::

    rx pin -> UartRx -> deframer --words--> buffer (512 x 34) --> forwarder -> core i_stream
                                                                    | markers (ERROR/PONG)
    tx pin <- UartTx <- framer <--------- core o_stream (RESP) -----+

A packet's words are written to the buffer as they arrive but only *committed* (made visible
to the forwarder) once the CRC, the type and the command boundaries have been checked;
otherwise the write pointer rolls back and an error marker is committed instead, so a
malformed packet never reaches the core, not even partially.  Markers are answered in order:
the forwarder holds a marker until every command forwarded before it has been answered.
"""

from amaranth.hdl import Array, Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.protocol import Op
from golden.resident_protocol import ResOp, resident_command_length

from .uart import UartRx, UartTx
from .protocol import BUFFER_WORDS, MAX_WORDS, SYNC, LinkError, PacketType, info_words

__all__ = ["UartRx", "UartTx", "PacketLink", "HostLink", "crc16_step"]


def _crc16_taps():
    """For each CRC output bit, the (crc bits, byte bits) that XOR into it (the map is linear)."""
    from .protocol import crc16_update
    taps = []
    for k in range(16):
        cb = [i for i in range(16) if crc16_update(1 << i, 0) >> k & 1]
        bb = [i for i in range(8) if crc16_update(0, 1 << i) >> k & 1]
        taps.append((cb, bb))
    return taps


_TAPS = _crc16_taps()


def crc16_step(crc, byte):
    """CRC-16/CCITT-FALSE of one byte as an Amaranth expression: one flat XOR per bit."""
    bits = []
    for cb, bb in _TAPS:
        terms = [crc[i] for i in cb] + [byte[i] for i in bb]
        x = terms[0]
        for t in terms[1:]:
            x = x ^ t
        bits.append(x)
    return Cat(*bits)


class PacketLink(wiring.Component):
    """The packet layer of the host link: bytes in and out, command and response words.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        For the STEP command length (spike words) and the ``PONG`` information.
    timeout_cycles : int
        A packet with no new byte for this many cycles is abandoned (``TIMEOUT`` error).
    depth : int
        Receive buffer words (a power of two, at least ``2 * max_words``).
    max_words : int
        Longest packet payload in words.
    resident : bool
        The stream behind the link is a resident system's (golden/resident_protocol.py):
        its STORE command is six words long.

    Ports
    -----
    rx_byte : In(stream 8, always ready)
        Received bytes (one cycle of ``valid`` per byte).
    tx_byte : Out(stream 8)
        Bytes to send.
    cmd : Out(stream 32)
        Command words to the core.
    rsp : In(stream 32)
        Response words from the core.
    link_error : Out(1)
        Pulses when the link reports an error packet.
    """

    def __init__(self, cfg, *, timeout_cycles, depth=BUFFER_WORDS, max_words=MAX_WORDS,
                 resident=False):
        self.resident = bool(resident)
        if depth & (depth - 1) or depth < 2 * max_words:
            raise ValueError(f"depth must be a power of two >= 2 * max_words, got {depth}")
        if not 1 <= max_words <= 255:
            raise ValueError(f"max_words must be in [1, 255], got {max_words}")
        self.cfg, self.timeout_cycles = cfg, timeout_cycles
        self.depth, self.max_words = depth, max_words
        super().__init__({
            "rx_byte": In(stream.Signature(8, always_ready=True)), "tx_byte": Out(stream.Signature(8)),
            "cmd": Out(stream.Signature(32)), "rsp": In(stream.Signature(32)),
            "link_error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg

        depth, abits = self.depth, (self.depth - 1).bit_length()
        # entry: [31:0] word, [32] command header, [33] marker (word = ERROR word, or PONG)
        m.submodules.buf = buf = Memory(shape=34, depth=depth, init=[])
        wr = buf.write_port()
        rd = buf.read_port()

        wr_ptr = Signal(abits + 1)
        commit_ptr = Signal(abits + 1)
        rd_ptr = Signal(abits + 1)

        # ---------------- deframer ----------------
        byte = self.rx_byte.payload
        got = self.rx_byte.valid
        ptype = Signal(8)
        plen = Signal(8)
        crc = Signal(16)
        crc_lo_ok = Signal()        # the CRC's first (low) byte matched: the check split over two bytes
        nbyte = Signal(2)
        shreg = Signal(24)
        words_left = Signal(8)
        cmd_left = Signal(8)        # words still owed by the current command (0: header next)
        overflow = Signal()
        idle = Signal(range(self.timeout_cycles + 1))
        mark_word = Signal(32)      # ERROR word, or 0 for PONG
        mark_pong = Signal()
        spike_words = (cfg.n_inputs + 31) // 32

        word = Cat(shreg, byte)
        op = word[28:32]
        extra = Signal(8)
        with m.Switch(op):
            with m.Case(Op.STEP):
                m.d.comb += extra.eq(spike_words)
            with m.Case(Op.WRITE):
                m.d.comb += extra.eq(2)
            with m.Case(Op.READ):
                m.d.comb += extra.eq(1)
            if self.resident:
                with m.Case(ResOp.STORE):
                    m.d.comb += extra.eq(resident_command_length(ResOp.STORE << 28, cfg.n_inputs) - 1)
        # Room in the buffer, from registered compares: a PAYLOAD write never follows a
        # change of wr_ptr in the cycle before (writes are four bytes apart, and a packet's
        # first write six bytes after HUNT's), nor does MARK follow a change of commit_ptr,
        # so the fill one cycle earlier, less the forwarder's advance in that cycle
        # (``advanced``), is the fill now: no subtract and compare before the enables.
        advance = Signal()
        advanced = Signal()
        used_lt, used_eq = Signal(), Signal()           # last cycle: wr_ptr - rd_ptr < / == depth - 1
        comm_lt, comm_eq = Signal(), Signal()           # last cycle: commit_ptr - rd_ptr < / == depth
        used, committed = wr_ptr - rd_ptr, commit_ptr - rd_ptr
        m.d.sync += [advanced.eq(advance), used_lt.eq(used[:abits + 1] < depth - 1),
                     used_eq.eq(used[:abits + 1] == depth - 1), comm_lt.eq(committed[:abits + 1] < depth),
                     comm_eq.eq(committed[:abits + 1] == depth)]
        room = used_lt | (advanced & used_eq)           # wr_ptr - rd_ptr < depth - 1, now
        mark_room = comm_lt | (advanced & comm_eq)      # commit_ptr - rd_ptr < depth, now

        timed_out = Signal()
        idle_full = Signal()        # registered idle == timeout_cycles (no wide compare here)
        m.d.comb += timed_out.eq(idle_full & ~got)

        def error(code):
            m.d.sync += [mark_word.eq(code | (ptype << 8) | (plen << 16)), mark_pong.eq(0)]
            m.next = "MARK"

        with m.FSM(name="rxfsm") as rxfsm:
            with m.State("HUNT"):
                with m.If(got & (byte == SYNC)):
                    m.d.sync += [ptype.eq(0), plen.eq(0), crc.eq(0xFFFF), overflow.eq(0),
                                 cmd_left.eq(0), nbyte.eq(0), wr_ptr.eq(commit_ptr)]
                    m.next = "TYPE"
            with m.State("TYPE"):
                with m.If(got):
                    m.d.sync += [ptype.eq(byte), crc.eq(crc16_step(crc, byte))]
                    m.next = "LEN"
                with m.If(timed_out):
                    error(LinkError.TIMEOUT)
            with m.State("LEN"):
                with m.If(got):
                    m.d.sync += [plen.eq(byte), words_left.eq(byte), crc.eq(crc16_step(crc, byte))]
                    with m.If(byte > self.max_words):
                        m.d.sync += mark_word.eq(LinkError.BAD_LENGTH | (ptype << 8) | (byte << 16))
                        m.d.sync += mark_pong.eq(0)
                        m.next = "MARK"
                    with m.Elif(byte == 0):
                        m.next = "CRC0"
                    with m.Else():
                        m.next = "PAYLOAD"
                with m.If(timed_out):
                    error(LinkError.TIMEOUT)
            with m.State("PAYLOAD"):
                with m.If(got):
                    m.d.sync += [crc.eq(crc16_step(crc, byte)), nbyte.eq(nbyte + 1),
                                 shreg.eq(Cat(shreg[8:], byte))]
                    with m.If(nbyte == 3):
                        m.d.sync += words_left.eq(words_left - 1)
                        with m.If(room):
                            m.d.comb += [wr.addr.eq(wr_ptr[:abits]), wr.en.eq(1),
                                         wr.data.eq(Cat(word, cmd_left == 0, Const(0, 1)))]
                            m.d.sync += wr_ptr.eq(wr_ptr + 1)
                        with m.Else():
                            m.d.sync += overflow.eq(1)
                        with m.If(cmd_left == 0):
                            m.d.sync += cmd_left.eq(extra)
                        with m.Else():
                            m.d.sync += cmd_left.eq(cmd_left - 1)
                        with m.If(words_left == 1):
                            m.next = "CRC0"
                with m.If(timed_out):
                    error(LinkError.TIMEOUT)
            with m.State("CRC0"):
                with m.If(got):
                    m.d.sync += crc_lo_ok.eq(byte == crc[:8])
                    m.next = "CRC1"
                with m.If(timed_out):
                    error(LinkError.TIMEOUT)
            with m.State("CRC1"):
                with m.If(got):
                    with m.If(~crc_lo_ok | (byte != crc[8:])):
                        error(LinkError.BAD_CRC)
                    with m.Elif(ptype == PacketType.CMD):
                        with m.If((plen == 0) | (cmd_left != 0)):
                            error(LinkError.BAD_LENGTH)
                        with m.Elif(overflow):
                            error(LinkError.OVERFLOW)
                        with m.Else():
                            m.d.sync += commit_ptr.eq(wr_ptr)
                            m.next = "HUNT"
                    with m.Elif(ptype == PacketType.PING):
                        with m.If(plen != 0):
                            error(LinkError.BAD_LENGTH)
                        with m.Else():
                            m.d.sync += [mark_word.eq(0), mark_pong.eq(1)]
                            m.next = "MARK"
                    with m.Else():
                        error(LinkError.BAD_TYPE)
                with m.If(timed_out):
                    error(LinkError.TIMEOUT)
            with m.State("MARK"):
                # roll back the packet's words and commit one marker (dropped if no room)
                with m.If(mark_room):
                    m.d.comb += [wr.addr.eq(commit_ptr[:abits]), wr.en.eq(1),
                                 wr.data.eq(Cat(mark_word, mark_pong, Const(1, 1)))]
                    m.d.sync += [commit_ptr.eq(commit_ptr + 1), wr_ptr.eq(commit_ptr + 1)]
                with m.Else():
                    m.d.sync += wr_ptr.eq(commit_ptr)
                m.d.comb += self.link_error.eq(~mark_pong)
                m.next = "HUNT"


        # inter-byte timeout inside a packet
        with m.If(rxfsm.ongoing("HUNT") | rxfsm.ongoing("MARK") | got | timed_out):
            m.d.sync += [idle.eq(0), idle_full.eq(self.timeout_cycles == 0)]
        with m.Else():
            m.d.sync += [idle.eq(idle + 1), idle_full.eq(idle == self.timeout_cycles - 1)]

        # ---------------- forwarder ----------------
        # The entry at rd_ptr is read (ent_ok: the read data is it), then registered
        # (ent_word, ent_v) before any decision: no logic hangs on the block RAM's output.
        # One entry per three cycles, far above the UART's pace.
        ent_ok = Signal()
        ent_word = Signal(34)
        ent_v = Signal()
        m.d.comb += [rd.addr.eq(rd_ptr[:abits]), rd.en.eq(1)]
        m.d.sync += [ent_ok.eq((rd_ptr != commit_ptr) & ~advance), ent_word.eq(rd.data),
                     ent_v.eq(ent_ok & ~advance)]
        is_marker = ent_word[33]
        outstanding = Signal(range(depth + 1))
        rsp_done = Signal()
        tx_busy = Signal()
        link_valid = Signal()
        link_take = Signal()
        with m.If(ent_v & ~is_marker):
            m.d.comb += [self.cmd.valid.eq(1), self.cmd.payload.eq(ent_word[:32]),
                         advance.eq(self.cmd.ready)]
        with m.If(ent_v & is_marker & (outstanding == 0) & ~tx_busy):
            m.d.comb += [link_valid.eq(1), advance.eq(link_take)]
        with m.If(advance):
            m.d.sync += rd_ptr.eq(rd_ptr + 1)
        inc = advance & ~is_marker & ent_word[32]
        with m.If(inc & ~rsp_done):
            m.d.sync += outstanding.eq(outstanding + 1)
        with m.Elif(rsp_done & ~inc):
            m.d.sync += outstanding.eq(outstanding - 1)

        # ---------------- framer ----------------
        info = Array(Const(w, 32) for w in info_words(cfg, depth, self.max_words))
        t_type = Signal(8)
        t_len = Signal(8)
        t_left = Signal(8)
        t_word = Signal(32)
        t_idx = Signal(range(len(info) + 1))
        t_core = Signal()
        t_crc = Signal(16)
        t_byte = Signal(2)
        out = self.tx_byte
        with m.FSM(name="txfsm") as txfsm:
            with m.State("IDLE"):
                with m.If(self.rsp.valid):
                    m.d.comb += self.rsp.ready.eq(1)
                    m.d.sync += [t_type.eq(PacketType.RESP), t_len.eq(self.rsp.payload[:8] + 1),
                                 t_word.eq(self.rsp.payload), t_core.eq(1)]
                    m.next = "SYNC"
                with m.Elif(link_valid):
                    m.d.comb += link_take.eq(1)
                    with m.If(ent_word[32]):
                        m.d.sync += [t_type.eq(PacketType.PONG), t_len.eq(len(info)),
                                     t_word.eq(info[0]), t_idx.eq(1)]
                    with m.Else():
                        m.d.sync += [t_type.eq(PacketType.ERROR), t_len.eq(1),
                                     t_word.eq(ent_word[:32])]
                    m.d.sync += t_core.eq(0)
                    m.next = "SYNC"
            with m.State("SYNC"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(SYNC)]
                with m.If(out.ready):
                    m.d.sync += t_crc.eq(0xFFFF)
                    m.next = "TYPE"
            with m.State("TYPE"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(t_type)]
                with m.If(out.ready):
                    m.d.sync += t_crc.eq(crc16_step(t_crc, t_type))
                    m.next = "LEN"
            with m.State("LEN"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(t_len)]
                with m.If(out.ready):
                    m.d.sync += [t_crc.eq(crc16_step(t_crc, t_len)), t_left.eq(t_len), t_byte.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(t_word[:8])]
                with m.If(out.ready):
                    m.d.sync += [t_crc.eq(crc16_step(t_crc, t_word[:8])), t_byte.eq(t_byte + 1),
                                 t_word.eq(t_word >> 8)]
                    with m.If(t_byte == 3):
                        m.d.sync += t_left.eq(t_left - 1)
                        with m.If(t_left == 1):
                            m.next = "CRC0"
                        with m.Else():
                            m.next = "NEXT"
            with m.State("NEXT"):
                with m.If(t_core):
                    m.d.comb += self.rsp.ready.eq(1)
                    with m.If(self.rsp.valid):
                        m.d.sync += t_word.eq(self.rsp.payload)
                        m.next = "DATA"
                with m.Else():
                    m.d.sync += [t_word.eq(info[t_idx]), t_idx.eq(t_idx + 1)]
                    m.next = "DATA"
            with m.State("CRC0"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(t_crc[:8])]
                with m.If(out.ready):
                    m.next = "CRC1"
            with m.State("CRC1"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(t_crc[8:])]
                with m.If(out.ready):
                    m.d.comb += rsp_done.eq(t_core)
                    m.next = "IDLE"
        m.d.comb += tx_busy.eq(~txfsm.ongoing("IDLE"))
        # one flip-flop per state (yosys keeps a state register with an initial value binary)
        for fsm in (rxfsm, txfsm):
            fsm.state.attrs["fsm_encoding"] = "one-hot"
        # what the formal checks (sim/formal_link.py) state properties about; set by each
        # elaboration
        self.observed = {"wr_ptr": wr_ptr, "commit_ptr": commit_ptr, "rd_ptr": rd_ptr,
                         "fsms": {"rx": rxfsm, "tx": txfsm}}
        return m


class HostLink(wiring.Component):
    """Packet link between UART pins and the core's command/response streams: a
    :class:`~boards.ulx3s.uart.UartRx` and :class:`~boards.ulx3s.uart.UartTx` around a
    :class:`PacketLink`.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    divisor : int
        Clock cycles per UART bit (``f_clk / baud``).
    timeout_cycles, depth, max_words
        As :class:`PacketLink`.

    Ports
    -----
    rx, tx : UART pins.  cmd : Out(stream 32) to the core.  rsp : In(stream 32) from it.
    link_error : pulses when the link reports an error packet.  rx_activity : pulses per byte.
    """

    def __init__(self, cfg, *, divisor, timeout_cycles, depth=BUFFER_WORDS, max_words=MAX_WORDS,
                 resident=False):
        self.packets = PacketLink(cfg, timeout_cycles=timeout_cycles, depth=depth, max_words=max_words,
                                  resident=resident)
        self.cfg, self.divisor, self.timeout_cycles = cfg, divisor, timeout_cycles
        self.depth, self.max_words = depth, max_words
        super().__init__({
            "rx": In(1, init=1), "tx": Out(1, init=1),
            "cmd": Out(stream.Signature(32)), "rsp": In(stream.Signature(32)),
            "link_error": Out(1), "rx_activity": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.urx = urx = UartRx(self.divisor)
        m.submodules.utx = utx = UartTx(self.divisor)
        m.submodules.packets = packets = self.packets
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx), self.rx_activity.eq(urx.o.valid),
                     self.link_error.eq(packets.link_error)]
        wiring.connect(m, urx.o, packets.rx_byte)
        wiring.connect(m, packets.tx_byte, utx.i)
        wiring.connect(m, packets.cmd, wiring.flipped(self.cmd))
        wiring.connect(m, wiring.flipped(self.rsp), packets.rsp)
        return m
