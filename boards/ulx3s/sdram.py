"""SDR SDRAM controller for the ULX3S's 16-bit SDRAM (MT48LC16M16A2 / AS4C32M16SB class).

The ULX3S carries either a 32 MB part (16M x 16: 4 banks x 8192 rows x 512 columns, e.g.
MT48LC16M16A2, AS4C16M16SA) or, on some revisions, a 64 MB part (32M x 16: 4 banks x 8192
rows x 1024 columns, AS4C32M16SB).  Both have 13 row bits and 2 bank bits; only the column
width differs, so it is the ``col_bits`` parameter of :class:`SdramConfig` (9 or 10).

Design choices, and why:

* **Burst length 1 in the mode register, one column command per word.**  An SDR SDRAM
  accepts a READ or WRITE on every clock edge, so issuing one per word moves a word per
  cycle exactly like a programmed burst, but a stalled stream (no write data, a full read
  buffer) simply skips a cycle instead of needing a burst-sized buffer, DQM masking or a
  BURST TERMINATE, and a request may start at any column and have any length.  The
  interface still moves *bursts*: one request is ``length`` consecutive words.
* **Close-page policy, one row open at a time.**  A request activates its row, streams
  its words, and precharges (PRECHARGE ALL) when it ends, when it crosses into another row
  (it then re-activates the next row and goes on) or when a refresh is due.  For the
  intended use, long sequential reads of the training set, the row overhead (tRCD + tRP,
  a few cycles per 512 or 1024 words) is negligible, and the controller needs no
  bank-state table.
* **Refresh is never starved.**  A free-running timer raises a refresh request every
  ``refresh_period`` cycles.  The request wins at the next word boundary: an access in
  progress stops after the current word, the row is closed, the refresh is issued and the
  access resumes afterwards.  ``refresh_period`` is tREFI minus the worst-case wait for
  that boundary (:attr:`SdramConfig.refresh_margin`), so consecutive refreshes are never
  more than tREFI apart, the rule the simulation model checks.
* **Registered pad outputs and a registered ``dq`` input.**  Every pad-facing signal is a
  flip-flop, and read data is captured in a register at the edge the SDRAM's CAS latency
  points to; the board top level can put these registers in the I/O cells.

Command latency seen on the pins: a command decided in cycle ``k`` is on the pins during
cycle ``k + 1`` and sampled by the SDRAM on the following rising edge.  Read data for a
READ sampled at edge ``c`` is captured at edge ``c + CL`` and written into the read buffer
one cycle later.

The SDRAM clock pin is not driven here: the board top level forwards the core clock (an
ODDR, possibly phase-shifted by the PLL so the SDRAM samples mid-cycle).  The pad-facing
signals are active high (``cs``, ``ras``, ``cas``, ``we``); amaranth-boards' ULX3S
``sdram`` resource inverts the ``_n`` pins.
"""

import dataclasses
import math
import numbers

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SdramConfig", "SdramController", "pad_signature", "request_layout",
           "ROW_BITS", "BANK_BITS", "DATA_WIDTH"]

ROW_BITS = 13
"""Row address bits (A0-A12) of both ULX3S parts."""
BANK_BITS = 2
"""Bank address bits (BA0, BA1)."""
DATA_WIDTH = 16
"""Data bus width (DQ0-DQ15); DQM has one bit per byte."""

# Minimum cycle counts a datasheet states in clocks rather than ns.
_MIN_CYCLES = {"t_mrd": 2}     # tMRD = 2 tCK (Micron, Alliance, ISSI)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SdramConfig:
    """Clock and datasheet timing of the SDRAM, validated, with their cycle counts.

    All times are in ns, as the datasheet states them.  Minimum times are converted to
    cycles with ``ceil`` (rounding up keeps them at least as long as the datasheet asks);
    the refresh interval tREFI is a *maximum* and is rounded down.  The defaults are the
    slower of the MT48LC16M16A2-6A and AS4C32M16SB-7 figures, so they hold for either part.

    Parameters
    ----------
    clk_freq : int or float
        Controller (and SDRAM) clock in Hz, 1 MHz to 166 MHz.
    cas_latency : int
        CAS latency programmed into the mode register: 2 or 3.  CL 2 is specified up to
        100 MHz (-6A/-7 parts: 133/143 MHz for CL 3).
    t_rcd, t_rp, t_ras, t_rc, t_rfc, t_wr, t_mrd : float
        ACTIVE to READ/WRITE; PRECHARGE to ACTIVE/REFRESH; ACTIVE to PRECHARGE (minimum);
        ACTIVE to ACTIVE of a bank; REFRESH to the next command; last write data to
        PRECHARGE; LOAD MODE REGISTER to the next command (at least 2 cycles).
    t_refi : float
        Longest allowed time between two AUTO REFRESH commands: 64 ms / 8192 rows = 7812.5 ns.
    t_powerup : float
        Wait after power-up (clock running, NOP) before the first command, datasheet
        100 to 200 us.  Simulations pass a short value (a few us) to skip it: the wait is
        a counter and is exercised the same way whatever its length.
    init_refreshes : int
        AUTO REFRESH commands in the initialisation sequence (datasheets ask for at least
        2; some Alliance parts 8, the default).
    col_bits : int
        Column address bits: 9 for the 32 MB part, 10 for the 64 MB part.

    Raises
    ------
    ValueError
        On any invalid value, naming the parameter.
    """

    clk_freq: float
    cas_latency: int = 3
    t_rcd: float = 21.0
    t_rp: float = 21.0
    t_ras: float = 42.0
    t_rc: float = 63.0
    t_rfc: float = 66.0
    t_wr: float = 15.0
    t_mrd: float = 15.0
    t_refi: float = 7812.5
    t_powerup: float = 200_000.0
    init_refreshes: int = 8
    col_bits: int = 9

    _TIMES = ("t_rcd", "t_rp", "t_ras", "t_rc", "t_rfc", "t_wr", "t_mrd")

    def __post_init__(self):
        def number(name, value):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"SdramConfig: {name} must be a finite number, got {value!r}")

        def integer(name, value):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"SdramConfig: {name} must be an integer, got {value!r}")

        number("clk_freq", self.clk_freq)
        if not 1e6 <= self.clk_freq <= 166e6:
            raise ValueError(f"SdramConfig: clk_freq must be 1 MHz to 166 MHz (in Hz), "
                             f"got {self.clk_freq!r}")
        integer("cas_latency", self.cas_latency)
        if self.cas_latency not in (2, 3):
            raise ValueError(f"SdramConfig: cas_latency must be 2 or 3, got {self.cas_latency}")
        for name in (*self._TIMES, "t_refi"):
            value = getattr(self, name)
            number(name, value)
            if value <= 0:
                raise ValueError(f"SdramConfig: {name} must be a positive time in ns, got {value!r}")
        number("t_powerup", self.t_powerup)
        if self.t_powerup < 0:
            raise ValueError(f"SdramConfig: t_powerup must be >= 0 ns, got {self.t_powerup!r}")
        if self.t_rc < self.t_ras:
            raise ValueError(f"SdramConfig: t_rc ({self.t_rc} ns) must be >= t_ras "
                             f"({self.t_ras} ns)")
        integer("init_refreshes", self.init_refreshes)
        if not 2 <= self.init_refreshes <= 16:
            raise ValueError(f"SdramConfig: init_refreshes must be 2 to 16, got {self.init_refreshes}")
        integer("col_bits", self.col_bits)
        if self.col_bits not in (9, 10):
            raise ValueError(f"SdramConfig: col_bits must be 9 (32 MB part) or 10 (64 MB part), "
                             f"got {self.col_bits}")
        if self.refresh_period < 2 * self.refresh_margin:
            raise ValueError(f"SdramConfig: t_refi ({self.t_refi} ns) is too short at "
                             f"{self.clk_freq / 1e6:g} MHz: {self.cycles_of('t_refi')} cycles "
                             f"leave {self.refresh_period} after the {self.refresh_margin}-cycle "
                             "margin for an access to close")

    # --- cycle counts ----------------------------------------------------------------

    @property
    def period_ns(self):
        """Clock period in ns."""
        return 1e9 / self.clk_freq

    def cycles_of(self, name):
        """Cycle count of one time parameter (``"t_rcd"``, ..., ``"t_refi"``, ``"t_powerup"``).

        Minimum times round up (a tiny tolerance absorbs float error, so 20 ns at 50 MHz
        is 1 cycle, not 2); ``t_refi`` rounds down.
        """
        ratio = getattr(self, name) / self.period_ns
        if name == "t_refi":
            return math.floor(ratio + 1e-9)
        return max(math.ceil(ratio - 1e-9), _MIN_CYCLES.get(name, 1))

    @property
    def refresh_margin(self):
        """Cycles a due refresh may wait for the access in progress to close, worst case.

        A refresh raised just after an ACTIVE waits for tRAS, write recovery tWR, the
        PRECHARGE, tRP, and tRC of the last ACTIVE; plus a few cycles of pipeline.  tRFC and
        tMRD are added because the timer starts after the initialisation, whose last
        REFRESH is tRFC + tMRD before that.
        """
        c = self.cycles_of
        return (c("t_rc") + c("t_ras") + c("t_wr") + c("t_rp") + c("t_rfc") + c("t_mrd")
                + 4)

    @property
    def refresh_period(self):
        """Cycles between refresh requests: ``t_refi`` in cycles minus :attr:`refresh_margin`."""
        return self.cycles_of("t_refi") - self.refresh_margin

    def cycles(self):
        """Every cycle count as a dict (the timing table of the docs)."""
        out = {name: self.cycles_of(name) for name in (*self._TIMES, "t_refi", "t_powerup")}
        out["cas_latency"] = self.cas_latency
        out["refresh_period"] = self.refresh_period
        return out

    @property
    def addr_bits(self):
        """Word address bits: bank, row, column."""
        return BANK_BITS + ROW_BITS + self.col_bits

    @property
    def mode_register(self):
        """LOAD MODE REGISTER value: burst length 1, sequential, the CAS latency, standard
        operation, programmed-burst writes."""
        return self.cas_latency << 4


def pad_signature():
    """The pad-facing signals, as the controller drives them (``Out``) and reads them.

    ``clk_en``, ``cs``, ``ras``, ``cas``, ``we`` are active high (the board resource inverts
    the ``_n`` pins); ``dq`` is a tristate as ``o``/``oe``/``i`` for the board's I/O buffer or
    the simulation model.
    """
    return wiring.Signature({
        "clk_en": Out(1), "cs": Out(1), "ras": Out(1), "cas": Out(1), "we": Out(1),
        "ba": Out(BANK_BITS), "a": Out(ROW_BITS), "dqm": Out(DATA_WIDTH // 8),
        "dq": Out(wiring.Signature({"o": Out(DATA_WIDTH), "oe": Out(1), "i": In(DATA_WIDTH)})),
    })


def request_layout(addr_bits, length_bits):
    """Payload of the request stream: word address, length in words, direction."""
    return data.StructLayout({"addr": addr_bits, "length": length_bits, "write": 1})


class SdramController(wiring.Component):
    """SDR SDRAM controller: initialisation, auto-refresh, burst reads and writes.

    Parameters
    ----------
    config : SdramConfig
        Clock and timing.
    length_bits : int
        Width of a request's length field (longest request ``2**length_bits - 1`` words).
    read_buffer : int
        Depth of the read-data FIFO.  A READ is issued only when the FIFO has room for it
        and for every read still in the pipeline, so back-pressure on ``rdata`` never loses
        a word; ``read_buffer`` larger than CL + 2 keeps reads back to back.
    _cycle_overrides : dict, optional
        Test-only: replace computed cycle counts (e.g. ``{"t_rcd": 1}``) to build a
        deliberately broken controller for the model's violation tests.  Never use it in
        a design.

    Attributes
    ----------
    cmd : In(stream.Signature(request_layout))
        Requests: ``addr`` (word address: bank, row, column from the top bit down),
        ``length`` (words; 0 does nothing), ``write``.  Accepted when the previous request
        is finished issuing (a read's data may still be in the read FIFO).  Addresses
        advance linearly across rows and banks, and wrap from the last word to 0.
    wdata : In(stream.Signature(16))
        Write data, one word per written word, in order.
    rdata : Out(stream.Signature(16))
        Read data, in order.
    sdram : Out(pad_signature())
        The pads.
    init_done : Out(1)
        High once the initialisation sequence has completed.
    refresh_overrun : Out(1)
        Sticky: a refresh request came while the previous one was still pending (never
        happens by construction; a debugging aid).
    """

    def __init__(self, config, *, length_bits=16, read_buffer=16, _cycle_overrides=None):
        if not isinstance(config, SdramConfig):
            raise TypeError(f"config must be an SdramConfig, got {type(config).__name__}")
        if isinstance(length_bits, bool) or not isinstance(length_bits, int) or not 1 <= length_bits <= 24:
            raise ValueError(f"length_bits must be an integer from 1 to 24, got {length_bits!r}")
        if isinstance(read_buffer, bool) or not isinstance(read_buffer, int) or not 4 <= read_buffer <= 512:
            raise ValueError(f"read_buffer must be an integer from 4 to 512, got {read_buffer!r}")
        self.config = config
        self.length_bits = length_bits
        self.read_buffer = read_buffer
        self.timing = config.cycles()
        for name, value in (_cycle_overrides or {}).items():
            if name not in self.timing:
                raise ValueError(f"_cycle_overrides: unknown parameter {name!r}")
            if not isinstance(value, int) or value < (0 if name == "t_powerup" else 1):
                raise ValueError(f"_cycle_overrides: {name} must be a positive cycle count, "
                                 f"got {value!r}")
            self.timing[name] = value
        super().__init__({
            "cmd": In(stream.Signature(request_layout(config.addr_bits, length_bits))),
            "wdata": In(stream.Signature(DATA_WIDTH)),
            "rdata": Out(stream.Signature(DATA_WIDTH)),
            "sdram": Out(pad_signature()),
            "init_done": Out(1),
            "refresh_overrun": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        t = self.timing
        cfg = self.config
        cl = t["cas_latency"]
        col_bits = cfg.col_bits
        pads = self.sdram

        # --- the decision of this cycle ----------------------------------------------------
        # The FSM below only raises one of these (one-hot by construction); the pads, the
        # timers and the address are then registered from them in one place, so each pad
        # has one small multiplexer rather than one per place a command is issued.
        c_pre, c_ref, c_mode, c_act, c_read, c_write = (
            Signal(name=n) for n in ("c_pre", "c_ref", "c_mode", "c_act", "c_read", "c_write"))
        c_any = c_pre | c_ref | c_mode | c_act | c_read | c_write

        # --- counters ---------------------------------------------------------------
        # `timer`: cycles until the next command may be issued (tRP, tRCD, tRFC, tMRD and
        # the power-up wait); loaded with n - 1 when a command is issued, so the next one
        # can go n cycles later.
        longest = max(t["t_powerup"], t["t_rfc"], t["t_rp"], t["t_rcd"], t["t_mrd"], 1)
        timer = Signal(range(longest + 1), init=t["t_powerup"])
        with m.If(c_pre):
            m.d.sync += timer.eq(t["t_rp"] - 1)
        with m.Elif(c_ref):
            m.d.sync += timer.eq(t["t_rfc"] - 1)
        with m.Elif(c_mode):
            m.d.sync += timer.eq(t["t_mrd"] - 1)
        with m.Elif(c_act):
            m.d.sync += timer.eq(t["t_rcd"] - 1)
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        # Cycles since the last ACTIVE (tRAS, tRC) and the last WRITE (tWR); saturating,
        # starting satisfied.
        sat_act = max(t["t_ras"], t["t_rc"])
        since_act = Signal(range(sat_act + 1), init=sat_act)
        with m.If(c_act):
            m.d.sync += since_act.eq(1)
        with m.Elif(since_act != sat_act):
            m.d.sync += since_act.eq(since_act + 1)
        sat_wr = t["t_wr"]
        since_wr = Signal(range(sat_wr + 1), init=sat_wr)
        with m.If(c_write):
            m.d.sync += since_wr.eq(1)
        with m.Elif(since_wr != sat_wr):
            m.d.sync += since_wr.eq(since_wr + 1)

        # Refresh requests: the timer runs once the initialisation is done; issuing a
        # REFRESH after the initialisation clears the request.
        refresh_timer = Signal(range(t["refresh_period"] + 1), init=t["refresh_period"])
        refresh_pending = Signal()
        with m.If(c_ref & self.init_done):
            m.d.sync += refresh_pending.eq(0)
        with m.If(self.init_done):
            with m.If(refresh_timer == 0):
                m.d.sync += [refresh_timer.eq(t["refresh_period"]), refresh_pending.eq(1)]
                with m.If(refresh_pending & ~c_ref):
                    m.d.sync += self.refresh_overrun.eq(1)
            with m.Else():
                m.d.sync += refresh_timer.eq(refresh_timer - 1)

        # --- the request ------------------------------------------------------------------
        busy = Signal()
        write = Signal()
        addr = Signal(cfg.addr_bits)
        remaining = Signal(self.length_bits)
        open_row = Signal(BANK_BITS + ROW_BITS)    # bank and row of the open row
        row_of_addr = addr[col_bits:]              # bank and row of the next word
        m.d.comb += self.cmd.ready.eq(~busy & self.init_done)
        with m.If(self.cmd.valid & self.cmd.ready & (self.cmd.payload.length != 0)):
            m.d.sync += [busy.eq(1), write.eq(self.cmd.payload.write),
                         addr.eq(self.cmd.payload.addr), remaining.eq(self.cmd.payload.length)]
        with m.If(c_read | c_write):
            m.d.sync += [addr.eq(addr + 1), remaining.eq(remaining - 1)]
            with m.If(remaining == 1):
                m.d.sync += busy.eq(0)
        with m.If(c_act):
            m.d.sync += open_row.eq(row_of_addr)

        # --- pad registers ------------------------------------------------------------
        # Every cycle without a command is a NOP with CKE high (COMMAND INHIBIT, cs low,
        # during the initialisation) and dq released.  Active-high encodings:
        # ACTIVE ras; READ cas; WRITE cas we; PRECHARGE ras we; REFRESH ras cas;
        # LOAD MODE REGISTER ras cas we.
        cs = Signal(); ras = Signal(); cas = Signal(); we = Signal()
        ba = Signal(BANK_BITS); a = Signal(ROW_BITS)
        dq_o = Signal(DATA_WIDTH); dq_oe = Signal()
        dqm = Signal(DATA_WIDTH // 8, init=(1 << DATA_WIDTH // 8) - 1)
        m.d.comb += [pads.clk_en.eq(1), pads.cs.eq(cs), pads.ras.eq(ras), pads.cas.eq(cas),
                     pads.we.eq(we), pads.ba.eq(ba), pads.a.eq(a), pads.dqm.eq(dqm),
                     pads.dq.o.eq(dq_o), pads.dq.oe.eq(dq_oe)]
        m.d.sync += [cs.eq(self.init_done | c_any),
                     ras.eq(c_act | c_pre | c_ref | c_mode),
                     cas.eq(c_read | c_write | c_ref | c_mode),
                     we.eq(c_write | c_pre | c_mode),
                     dq_oe.eq(c_write)]
        A10 = 1 << 10   # PRECHARGE: all banks; READ/WRITE: auto-precharge (not used)
        with m.If(c_act):
            m.d.sync += [ba.eq(row_of_addr[ROW_BITS:]), a.eq(row_of_addr[:ROW_BITS])]
        with m.Elif(c_read | c_write):
            m.d.sync += [ba.eq(open_row[ROW_BITS:]), a.eq(addr[:col_bits])]
        with m.Elif(c_pre):
            m.d.sync += [ba.eq(0), a.eq(A10)]
        with m.Elif(c_mode):
            m.d.sync += [ba.eq(0), a.eq(cfg.mode_register)]
        with m.If(c_write):
            m.d.sync += dq_o.eq(self.wdata.payload)

        # --- read pipeline --------------------------------------------------------------
        # A READ decided in cycle k is on the pins in cycle k + 1 and sampled by the SDRAM at
        # the edge that ends it; its word is sampled CL edges later, at the end of cycle
        # k + 1 + CL, into dq_in.  in_pipe[j] is high in cycle k + 1 + j, so in_pipe[CL]
        # marks the cycle whose closing edge captures the word.
        m.submodules.rfifo = rfifo = fifo.SyncFIFO(width=DATA_WIDTH, depth=self.read_buffer)
        in_pipe = Signal(cl + 1)
        m.d.sync += in_pipe.eq(Cat(c_read, in_pipe[:-1]))
        dq_in = Signal(DATA_WIDTH)
        dq_in_valid = Signal()
        m.d.sync += [dq_in.eq(pads.dq.i), dq_in_valid.eq(in_pipe[-1])]
        m.d.comb += [rfifo.w_data.eq(dq_in), rfifo.w_en.eq(dq_in_valid)]
        m.d.comb += [self.rdata.payload.eq(rfifo.r_data), self.rdata.valid.eq(rfifo.r_rdy),
                     rfifo.r_en.eq(self.rdata.ready)]
        # Reads not yet in the FIFO: in the pipe or in the capture register.
        in_flight = Signal(range(cl + 3))
        m.d.comb += in_flight.eq(sum(in_pipe) + dq_in_valid)
        read_room = Signal()
        m.d.comb += read_room.eq(rfifo.level + in_flight < self.read_buffer)
        # A WRITE must not drive dq while read data may still be on the bus: wait until the
        # last read word has been captured, which leaves a full idle cycle for the SDRAM's
        # output to turn off (tHZ) before the FPGA drives.
        bus_free = Signal()
        m.d.comb += bus_free.eq((in_pipe == 0) & ~dq_in_valid)

        # --- the sequencer ---------------------------------------------------------------
        init_refreshes = Signal(range(cfg.init_refreshes + 1))
        with m.FSM(name="state"):
            with m.State("POWERUP"):
                # NOP (command inhibit) with DQM high for t_powerup, as the datasheet asks.
                with m.If(timer == 0):
                    m.d.comb += c_pre.eq(1)                     # PRECHARGE ALL
                    m.d.sync += init_refreshes.eq(cfg.init_refreshes)
                    m.next = "INIT_REFRESH"
            with m.State("INIT_REFRESH"):
                with m.If(timer == 0):
                    with m.If(init_refreshes != 0):
                        m.d.comb += c_ref.eq(1)                 # AUTO REFRESH
                        m.d.sync += init_refreshes.eq(init_refreshes - 1)
                    with m.Else():
                        m.d.comb += c_mode.eq(1)                # LOAD MODE REGISTER
                        m.next = "INIT_MODE"
            with m.State("INIT_MODE"):
                with m.If(timer == 0):
                    m.d.sync += [self.init_done.eq(1), dqm.eq(0)]
                    m.next = "IDLE"

            with m.State("IDLE"):
                # All banks precharged.  A due refresh goes first: after tRP since the
                # PRECHARGE (timer) and, to be safe on parts that state it, tRC since the
                # last ACTIVE.
                with m.If(refresh_pending):
                    with m.If((timer == 0) & (since_act >= t["t_rc"])):
                        m.d.comb += c_ref.eq(1)                 # AUTO REFRESH
                with m.Elif(busy & (timer == 0) & (since_act >= t["t_rc"])):
                    m.d.comb += c_act.eq(1)                     # ACTIVE
                    m.next = "ACCESS"

            with m.State("ACCESS"):
                # Stop at the next word when a refresh is due, the request is done or the
                # next word is in another row.
                with m.If(refresh_pending | ~busy | (row_of_addr != open_row)):
                    m.next = "CLOSE"
                with m.Elif(timer == 0):
                    with m.If(write):
                        m.d.comb += self.wdata.ready.eq(bus_free)
                        m.d.comb += c_write.eq(self.wdata.valid & bus_free)      # WRITE
                    with m.Else():
                        m.d.comb += c_read.eq(read_room)                         # READ

            with m.State("CLOSE"):
                # PRECHARGE once tRAS and write recovery allow (a READ needs no wait with
                # burst length 1: its word still comes out CL cycles after the READ).
                with m.If((since_act >= t["t_ras"]) & (since_wr >= t["t_wr"])):
                    m.d.comb += c_pre.eq(1)                     # PRECHARGE ALL
                    m.next = "IDLE"
        return m

