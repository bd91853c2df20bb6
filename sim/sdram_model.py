"""Cycle model of a 16-bit SDR SDRAM (MT48LC16M16A2 / AS4C32M16SB class), written from the
datasheets, that checks every command it sees.

The model is plain Python (:class:`SdramModel`: one call of :meth:`SdramModel.edge` per
rising clock edge with the pin values the SDRAM samples there), so hand-written pin
sequences can be checked without a simulator, plus a cocotb driver
(:class:`SdramPins`) that samples the pins of a simulated controller every edge and drives
the read data back.

What it models: the initialisation sequence, per-bank state (idle / active row), the mode
register (burst length 1, 2, 4, 8 or full page, sequential or interleaved, CAS latency 2
or 3, burst or single-location writes), read and write bursts and their interruption by
READ, WRITE, BURST TERMINATE and PRECHARGE, DQM (write latency 0, read latency 2), and
storage in a sparse dict.  Not modelled (reported as ``unsupported`` if used): CKE low
(power-down, self refresh, clock suspend), READ/WRITE with auto-precharge.

What it flags (:attr:`SdramModel.violations`, each a :class:`Violation` with a ``kind``):

==================  =========================================================================
kind                rule
==================  =========================================================================
``tRCD``            ACTIVE to READ/WRITE of that bank
``tRP``             PRECHARGE to ACTIVE of that bank, to REFRESH or LOAD MODE REGISTER
``tRAS``            ACTIVE to PRECHARGE of that bank (minimum)
``tRASmax``         a row open longer than tRAS max (the row's charge is not restored)
``tRC``             ACTIVE to ACTIVE of the same bank
``tRRD``            ACTIVE to ACTIVE of another bank
``tRFC``            AUTO REFRESH to any next command
``tWR``             last write data to PRECHARGE of that bank
``tMRD``            LOAD MODE REGISTER to any next command (cycles)
``tREFI``           more than tREFI between two AUTO REFRESH commands (or from the end of
                    the initialisation to the first one): every sliding tREFI window must hold
                    one, so 8192 of them cover the 8192 rows in 64 ms
``refresh_window``  fewer than ``rows`` refreshes in a ``refresh_window`` (64 ms), checked
                    once that much time has passed
``init``            a command before the power-up wait is over, a command out of the order
                    PRECHARGE ALL, >= ``init_refreshes`` AUTO REFRESH and LOAD MODE REGISTER,
                    or ACTIVE/READ/WRITE before that sequence is complete
``no_open_row``     READ/WRITE to a bank with no open row
``bank_open``       ACTIVE to a bank that already has an open row
``refresh_open``    AUTO REFRESH or LOAD MODE REGISTER while a bank is open
``dq_contention``   the controller drives DQ in a cycle the SDRAM drives read data
``unsupported``     a feature the model does not implement (see above)
==================  =========================================================================

Times are compared in ns (edge index x clock period) against the datasheet values given
to the model, independently of how the controller converted them to cycles.

Pins are the controller's active-high logical values (``cs``, ``ras``, ``cas``, ``we``), as
:mod:`boards.ulx3s.sdram` drives them; the board resource inverts the ``_n`` pins.
"""

import collections
import dataclasses

__all__ = ["SdramModel", "SdramPins", "SdramViolationError", "Violation"]

_EPS = 1e-6     # ns; absorbs float error in edge x period


@dataclasses.dataclass(frozen=True)
class Violation:
    """One rule broken at one clock edge."""
    edge: int
    time_ns: float
    kind: str
    message: str

    def __str__(self):
        return f"edge {self.edge} ({self.time_ns:.1f} ns): {self.kind}: {self.message}"


class SdramViolationError(AssertionError):
    """Raised by :meth:`SdramModel.finish` when violations were seen."""


# (ras, cas, we) of a selected chip -> command name (active-high logical values)
_COMMANDS = {
    (0, 0, 0): "NOP",
    (1, 0, 0): "ACTIVE",
    (0, 1, 0): "READ",
    (0, 1, 1): "WRITE",
    (1, 0, 1): "PRECHARGE",
    (1, 1, 0): "REFRESH",
    (1, 1, 1): "MODE",
    (0, 0, 1): "BST",
}


class SdramModel:
    """The SDRAM, edge by edge.

    Parameters
    ----------
    period_ns : float
        Clock period.
    t_rcd, t_rp, t_ras, t_rc, t_rrd, t_rfc, t_wr : float
        Datasheet minimum times in ns (defaults: the slower of MT48LC16M16A2-6A and
        AS4C32M16SB-7).
    t_mrd : int
        LOAD MODE REGISTER to next command, in cycles (datasheets: 2 tCK).
    t_ras_max : float
        Longest time a row may stay open, ns (AS4C32M16SB 100 us, MT48LC16M16A2 120 us).
    t_refi : float
        Longest time between two AUTO REFRESH commands, ns.
    refresh_window, rows : float, int
        Every row must be refreshed within ``refresh_window`` ns: ``rows`` REFRESH commands.
    powerup_ns : float
        Power-up wait before the first command (datasheet 100 to 200 us; tests shorten it
        to match the controller's ``t_powerup``).
    init_refreshes : int
        AUTO REFRESH commands the initialisation needs.
    col_bits, banks : int
        Geometry: 9 column bits for the 32 MB part, 10 for the 64 MB part.
    seed : int
        Seed for the contents of never-written locations (:meth:`initial_word`; reads of
        them are counted in :attr:`uninitialised_reads`).

    Attributes
    ----------
    violations : list of Violation
    counts : collections.Counter
        Commands seen, by name.
    refreshes : int
        AUTO REFRESH commands after the initialisation.
    init_done_ns : float or None
        Time at which the initialisation sequence completed.
    mem : dict
        ``(bank, row, col) -> 16-bit word``.
    words_written, words_read : int
        Write beats stored and read words put on the bus.
    """

    def __init__(self, *, period_ns, t_rcd=21.0, t_rp=21.0, t_ras=42.0, t_rc=63.0, t_rrd=14.0,
                 t_rfc=66.0, t_wr=15.0, t_mrd=2, t_ras_max=100_000.0, t_refi=7812.5,
                 refresh_window=64e6, rows=8192,
                 powerup_ns=200_000.0, init_refreshes=2, col_bits=9, banks=4, seed=0):
        self.period_ns = period_ns
        self.t = dict(tRCD=t_rcd, tRP=t_rp, tRAS=t_ras, tRC=t_rc, tRRD=t_rrd, tRFC=t_rfc, tWR=t_wr)
        self.t_mrd = t_mrd
        self.t_ras_max = t_ras_max
        self._ras_max_flagged = [False] * banks
        self.t_refi = t_refi
        self.refresh_window = refresh_window
        self.rows = rows
        self.powerup_ns = powerup_ns
        self.init_refreshes = init_refreshes
        self.col_bits = col_bits
        self.banks = banks
        self.seed = seed
        self.violations = []
        self.counts = collections.Counter()
        self.mem = {}
        self.uninitialised_reads = 0
        self.words_written = 0
        self.words_read = 0
        self.refreshes = 0
        self.edge_index = -1
        # bank state
        self.open_row = [None] * banks
        self.t_act = [None] * banks        # last ACTIVE per bank (ns)
        self.t_pre = [None] * banks        # last PRECHARGE per bank (ns)
        self.t_wdata = [None] * banks      # last write data in per bank (ns)
        self.t_act_any = None
        self.t_ref = None                  # last AUTO REFRESH (ns)
        self.e_mode = None                 # edge of the last LOAD MODE REGISTER
        self.ref_times = collections.deque()
        self._refi_flagged = False
        # initialisation: "powerup" -> "precharged" -> "ready"
        self.init_state = "powerup"
        self.init_refresh_count = 0
        self.mode_set = False
        self.init_done_ns = None
        # mode register
        self.burst_length = None
        self.cas_latency = None
        self.interleaved = False
        self.single_writes = False
        # bursts in progress
        self._read = None      # dict(bank, row, start, n, length) of the read burst
        self._write = None
        self._out = {}         # edge -> (value, driven byte mask)

    # --- helpers -------------------------------------------------------------------

    def _flag(self, kind, message):
        self.violations.append(Violation(self.edge_index, self.now, kind, message))

    def _since(self, name, then, now=None):
        """Check ``now - then >= t[name]``; flag otherwise."""
        if then is None:
            return
        now = self.now if now is None else now
        if now - then < self.t[name] - _EPS:
            self._flag(name, f"{now - then:.1f} ns after, {name} is {self.t[name]} ns")

    def _column(self, start, n):
        """Column of beat ``n`` of a burst that started at column ``start``."""
        bl = self.burst_length
        if bl == "page":
            size = 1 << self.col_bits
            return (start + n) % size
        base = start & ~(bl - 1)
        offset = (start ^ n) if self.interleaved else (start + n)
        return base | (offset & (bl - 1))

    def _burst_len(self):
        return (1 << self.col_bits) if self.burst_length == "page" else self.burst_length

    def _stop_read(self, from_edge):
        """Cancel read data at edges >= ``from_edge`` (interrupted burst)."""
        for e in [e for e in self._out if e >= from_edge]:
            del self._out[e]
        self._read = None

    # --- public ----------------------------------------------------------------------

    def initial_word(self, bank, row, col):
        """Contents of a never-written location: a fixed hash of the seed and the address,
        so a testbench can predict it (a real SDRAM powers up with arbitrary data)."""
        x = (((self.seed * 4 + bank) * 8192 + row) * 1024 + col) & 0xFFFF_FFFF_FFFF
        x = (x * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFF_FFFF_FFFF_FFFF
        return (x >> 29 ^ x >> 47) & 0xFFFF

    @property
    def now(self):
        """Time of the current edge in ns."""
        return self.edge_index * self.period_ns

    @property
    def initialised(self):
        return self.init_state == "ready"

    def dq_at(self, edge):
        """What the SDRAM drives for the controller to sample at ``edge``.

        Returns
        -------
        (int, int) or None
            ``(value, byte_mask)``: the word and which bytes are driven (a byte masked by
            DQM is high impedance); None when the SDRAM does not drive DQ.
        """
        return self._out.get(edge)

    def edge(self, *, cke=1, cs, ras, cas, we, ba, a, dqm, dq_o=0, dq_oe=0):
        """Process one rising clock edge with the pin values sampled there.

        Returns
        -------
        (int, int) or None
            What the SDRAM drives for the *next* edge (see :meth:`dq_at`).
        """
        self.edge_index += 1
        e = self.edge_index
        now = self.now
        for old in [k for k in self._out if k < e]:
            del self._out[old]

        if e in self._out:
            self.words_read += 1       # a word on the bus in the cycle ending at this edge
        # DQ contention: read data is on the bus in the cycle ending at this edge.
        if dq_oe and e in self._out:
            self._flag("dq_contention", "controller drives DQ while the SDRAM outputs read data")
        # DQM read latency 2: mask the output two edges later.
        if dqm:
            later = self._out.get(e + 2)
            if later is not None:
                mask = later[1] & ~(0xFF if dqm & 1 else 0) & ~(0xFF00 if dqm & 2 else 0)
                self._out[e + 2] = (later[0] & mask, mask)

        if not cke:
            self._flag("unsupported", "CKE low (power-down / self refresh / clock suspend)")
        name = _COMMANDS[(ras, cas, we)] if cs else "NOP"
        if name != "NOP":
            self.counts[name] += 1

        # Refresh interval: one AUTO REFRESH in every sliding tREFI window.
        if self.initialised and not self._refi_flagged:
            last = self.t_ref if self.t_ref is not None and self.t_ref > self.init_done_ns \
                else self.init_done_ns
            if now - last > self.t_refi + _EPS:
                self._flag("tREFI", f"no AUTO REFRESH for more than {self.t_refi} ns "
                           f"(last at {last:.1f} ns)")
                self._refi_flagged = True

        for b, row in enumerate(self.open_row):
            if (row is not None and not self._ras_max_flagged[b]
                    and now - self.t_act[b] > self.t_ras_max + _EPS):
                self._flag("tRASmax", f"bank {b} row {row} open for more than {self.t_ras_max} ns")
                self._ras_max_flagged[b] = True

        # Timing rules that apply to every command.
        if name != "NOP":
            if self.t_ref is not None:
                self._since("tRFC", self.t_ref)
            if self.e_mode is not None and e - self.e_mode < self.t_mrd:
                self._flag("tMRD", f"{e - self.e_mode} cycles after LOAD MODE REGISTER, "
                           f"tMRD is {self.t_mrd} cycles")
            if self.init_state == "powerup" and now < self.powerup_ns - _EPS:
                self._flag("init", f"{name} at {now:.1f} ns, before the {self.powerup_ns} ns "
                           "power-up wait")

        # Write burst beat (the WRITE's own beat is handled with the command).
        if self._write is not None and name not in ("WRITE", "READ", "BST", "PRECHARGE"):
            self._write_beat(dq_o, dqm)

        getattr(self, f"_cmd_{name.lower()}")(ba=ba, a=a, dqm=dqm, dq_o=dq_o)
        return self._out.get(e + 1)

    # --- commands ------------------------------------------------------------------------

    def _cmd_nop(self, **_):
        pass

    def _cmd_active(self, *, ba, a, **_):
        if not self.initialised:
            self._flag("init", "ACTIVE before the initialisation sequence is complete")
        if self.open_row[ba] is not None:
            self._flag("bank_open", f"ACTIVE to bank {ba}, which has row {self.open_row[ba]} open")
        self._since("tRP", self.t_pre[ba])
        self._since("tRC", self.t_act[ba])
        if self.t_act_any is not None and self.t_act_any != self.t_act[ba]:
            self._since("tRRD", self.t_act_any)
        self.open_row[ba] = a & ((1 << 13) - 1)
        self.t_act[ba] = self.t_act_any = self.now
        self._ras_max_flagged[ba] = False

    def _column_command(self, kind, ba, a):
        if not self.initialised:
            self._flag("init", f"{kind} before the initialisation sequence is complete")
        if a >> 10 & 1:
            self._flag("unsupported", f"{kind} with auto-precharge")
        if self.open_row[ba] is None:
            self._flag("no_open_row", f"{kind} to bank {ba}, which has no open row")
            return None
        self._since("tRCD", self.t_act[ba])
        return a & ((1 << self.col_bits) - 1)

    def _cmd_read(self, *, ba, a, **_):
        e = self.edge_index
        self._stop_read(e + (self.cas_latency or 2))
        self._write = None
        col = self._column_command("READ", ba, a)
        if col is None or self.cas_latency is None:
            return
        self._read = dict(bank=ba, row=self.open_row[ba], start=col)
        for n in range(self._burst_len()):
            key = (ba, self.open_row[ba], self._column(col, n))
            if key not in self.mem:
                self.uninitialised_reads += 1
                self.mem[key] = self.initial_word(*key)
            self._out[e + self.cas_latency + n] = (self.mem[key], 0xFFFF)

    def _cmd_write(self, *, ba, a, dqm, dq_o, **_):
        e = self.edge_index
        # A WRITE interrupts a read burst: read data from this edge on is cancelled (the
        # controller must have masked the data around it with DQM, else contention above).
        self._stop_read(e)
        col = self._column_command("WRITE", ba, a)
        if col is None:
            self._write = None
            return
        length = 1 if self.single_writes else self._burst_len()
        self._write = dict(bank=ba, row=self.open_row[ba], start=col, n=0, length=length)
        self._write_beat(dq_o, dqm)

    def _write_beat(self, dq_o, dqm):
        w = self._write
        key = (w["bank"], w["row"], self._column(w["start"], w["n"]))
        old = self.mem.get(key, 0)
        keep = (0xFF if dqm & 1 else 0) | (0xFF00 if dqm & 2 else 0)
        self.mem[key] = (old & keep) | (dq_o & ~keep & 0xFFFF)
        self.words_written += 1
        self.t_wdata[w["bank"]] = self.now
        w["n"] += 1
        if w["n"] >= w["length"]:
            self._write = None

    def _cmd_bst(self, **_):
        self._stop_read(self.edge_index + (self.cas_latency or 2))
        self._write = None

    def _cmd_precharge(self, *, ba, a, **_):
        banks = range(self.banks) if a >> 10 & 1 else [ba]
        if self.init_state == "powerup":
            if a >> 10 & 1:
                self.init_state = "precharged"
            else:
                self._flag("init", "the initialisation must start with PRECHARGE ALL")
        # A PRECHARGE ends a read burst CL edges later and a write burst now.
        if self._read is not None and self._read["bank"] in banks:
            self._stop_read(self.edge_index + (self.cas_latency or 2))
        if self._write is not None and self._write["bank"] in banks:
            self._write = None
        for b in banks:
            if self.open_row[b] is not None:
                self._since("tRAS", self.t_act[b])
                self._since("tWR", self.t_wdata[b])
            self.open_row[b] = None
            self.t_pre[b] = self.now

    def _all_idle(self, what):
        open_banks = [b for b in range(self.banks) if self.open_row[b] is not None]
        if open_banks:
            self._flag("refresh_open", f"{what} while bank(s) {open_banks} are open")
        # one check against the latest PRECHARGE (PRECHARGE ALL sets every bank's time)
        self._since("tRP", max((t for t in self.t_pre if t is not None), default=None))

    def _cmd_refresh(self, **_):
        self._all_idle("AUTO REFRESH")
        now = self.now
        if self.init_state == "powerup":
            self._flag("init", "AUTO REFRESH before the initial PRECHARGE ALL")
        elif self.init_state == "precharged":
            self.init_refresh_count += 1
            self._maybe_ready()
        else:
            self.refreshes += 1
            # refresh_window: the window that ends just before this refresh
            if now - self.init_done_ns >= self.refresh_window:
                while self.ref_times and self.ref_times[0] < now - self.refresh_window:
                    self.ref_times.popleft()
                if len(self.ref_times) < self.rows:
                    self._flag("refresh_window", f"{len(self.ref_times)} refreshes in the last "
                               f"{self.refresh_window} ns, need {self.rows}")
            self.ref_times.append(now)
        self.t_ref = now
        self._refi_flagged = False

    def _cmd_mode(self, *, ba, a, **_):
        self._all_idle("LOAD MODE REGISTER")
        if self.init_state == "powerup":
            self._flag("init", "LOAD MODE REGISTER before the initial PRECHARGE ALL")
        bl_code, cl = a & 7, a >> 4 & 7
        bl = {0: 1, 1: 2, 2: 4, 3: 8, 7: "page"}.get(bl_code)
        if bl is None or cl not in (2, 3) or a >> 7 & 3 or ba or a >> 10:
            self._flag("unsupported", f"mode register value {a:#x} (BA {ba})")
            bl = bl or 1
            cl = cl if cl in (2, 3) else 3
        self.burst_length, self.cas_latency = bl, cl
        self.interleaved = bool(a >> 3 & 1)
        if self.interleaved and bl == "page":
            self._flag("unsupported", "full-page bursts must be sequential")
        self.single_writes = bool(a >> 9 & 1)
        self.mode_set = True
        self.e_mode = self.edge_index
        self._maybe_ready()

    def _maybe_ready(self):
        if (self.init_state == "precharged" and self.mode_set
                and self.init_refresh_count >= self.init_refreshes):
            self.init_state = "ready"
            self.init_done_ns = self.now

    # --- end of a test -------------------------------------------------------------

    def finish(self, raise_on_violation=True):
        """End of the test: run the end-of-time checks, then raise if anything was flagged.

        Raises
        ------
        SdramViolationError
            When ``raise_on_violation`` and there are violations; the message lists them
            (the first 20) and counts each kind.
        """
        if not self.initialised:
            self._flag("init", "the initialisation sequence never completed")
        if raise_on_violation and self.violations:
            raise SdramViolationError(self.report())
        return self.violations

    def kinds(self):
        """Counter of violation kinds."""
        return collections.Counter(v.kind for v in self.violations)

    def report(self):
        lines = [f"{len(self.violations)} SDRAM violations: {dict(self.kinds())}"]
        lines += [f"  {v}" for v in self.violations[:20]]
        return "\n".join(lines)


class SdramPins:
    """Attach an :class:`SdramModel` to a cocotb DUT's SDRAM pins.

    Every rising edge: drive ``dq.i`` for the next edge (in the writable phase after the
    edge), then in the ``ReadOnly`` phase sample the pins the SDRAM will see at the next
    edge and feed them to the model.  Pin names are ``<prefix>__cs``, ``<prefix>__dq__o``, ...
    as Amaranth flattens :func:`boards.ulx3s.sdram.pad_signature`.

    Parameters
    ----------
    dut : cocotb handle
    model : SdramModel
    prefix : str
    undriven : int
        Value put on ``dq.i`` when the SDRAM does not drive (a 2-state simulator has no Z;
        a recognisable pattern makes a capture at the wrong edge show up as a data error).
    """

    _PINS = ("clk_en", "cs", "ras", "cas", "we", "ba", "a", "dqm")

    def __init__(self, dut, model, prefix="sdram", undriven=0xDEAD):
        self.dut, self.model, self.undriven = dut, model, undriven
        self.pins = {name: getattr(dut, f"{prefix}__{name}") for name in self._PINS}
        self.dq_o = getattr(dut, f"{prefix}__dq__o")
        self.dq_oe = getattr(dut, f"{prefix}__dq__oe")
        self.dq_i = getattr(dut, f"{prefix}__dq__i")
        self._task = None

    def start(self):
        import cocotb
        self._task = cocotb.start_soon(self._run())
        return self

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self):
        from cocotb.triggers import ReadOnly, RisingEdge
        clk = self.dut.clk
        self.dq_i.value = self.undriven
        nxt = None
        while True:
            await RisingEdge(clk)
            if nxt is None:
                self.dq_i.value = self.undriven
            else:
                value, mask = nxt
                self.dq_i.value = (value & mask) | (self.undriven & ~mask & 0xFFFF)
            await ReadOnly()
            p = {name: int(h.value) for name, h in self.pins.items()}
            nxt = self.model.edge(cke=p["clk_en"], cs=p["cs"], ras=p["ras"], cas=p["cas"],
                                  we=p["we"], ba=p["ba"], a=p["a"], dqm=p["dqm"],
                                  dq_o=int(self.dq_o.value), dq_oe=int(self.dq_oe.value))
