"""Cycle model of a 16-bit SDR SDRAM (MT48LC16M16A2 / AS4C32M16SB class), written from the
datasheets, that checks every command it sees.

The model is plain Python (:class:`SdramModel`: one call of :meth:`SdramModel.edge` per
rising clock edge with the pin values the SDRAM samples there), so hand-written pin
sequences can be checked without a simulator; :class:`sim.sdram_pins.SdramPins`
drives it from the pins of a controller simulated under cocotb.

What it models: the initialisation sequence, per-bank state (idle / active row), the mode
register (burst length 1, 2, 4, 8 or full page, sequential or interleaved, CAS latency 2
or 3, burst or single-location writes), read and write bursts and their interruption by
READ, WRITE, BURST TERMINATE and PRECHARGE, DQM (write latency 0, read latency 2), and
storage in a sparse dict.  Not modelled (reported as ``unsupported`` if used): CKE low
(power-down, self refresh, clock suspend), READ/WRITE with auto-precharge.

What it flags (:attr:`SdramModel.violations`, each a :class:`sim.sdram_timing.Violation` with a ``kind``):
the datasheet times (``tRCD`` ... ``refresh_window``), checked and tabled by its base
:class:`sim.sdram_timing.SdramTiming`, and the rules of the commands and states:

==================  =========================================================================
kind                rule
==================  =========================================================================
``init``            a command out of the order PRECHARGE ALL, >= ``init_refreshes`` AUTO
                    REFRESH and LOAD MODE REGISTER, ACTIVE/READ/WRITE before that sequence
                    is complete, or a sequence never completed
``no_open_row``     READ/WRITE to a bank with no open row
``bank_open``       ACTIVE to a bank that already has an open row
``refresh_open``    AUTO REFRESH or LOAD MODE REGISTER while a bank is open
``dq_contention``   the controller drives DQ in a cycle the SDRAM drives read data
``unsupported``     a feature the model does not implement (see above)
==================  =========================================================================
"""

import collections

from sim.sdram_timing import SdramTiming

__all__ = ["SdramModel"]


# (ras, cas, we) of a selected chip -> command name (active-high logical values, as
# boards.ulx3s.sdram drives them; the board resource inverts the _n pins)
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


class SdramModel(SdramTiming):
    """The SDRAM, edge by edge.

    Parameters
    ----------
    period_ns, t_rcd, ..., powerup_ns
        Clock period and datasheet times: the keywords of :class:`sim.sdram_timing.SdramTiming`.
    init_refreshes : int
        AUTO REFRESH commands the initialisation needs.
    col_bits, banks : int
        Geometry: 9 column bits for the 32 MB part, 10 for the 64 MB part.
    seed : int
        Seed for the contents of never-written locations (:meth:`initial_word`; reads of
        them are counted in :attr:`uninitialised_reads`).

    Attributes
    ----------
    violations, refreshes, edge_index
        See :class:`sim.sdram_timing.SdramTiming`.
    counts : collections.Counter
        Commands seen, by name.
    init_done_ns : float or None
        Time at which the initialisation sequence completed.
    mem : dict
        ``(bank, row, col) -> 16-bit word``.
    words_written, words_read : int
        Write beats stored and read words put on the bus.
    """

    def __init__(self, *, init_refreshes=2, col_bits=9, banks=4, seed=0, **timing):
        super().__init__(banks=banks, **timing)
        self.init_refreshes = init_refreshes
        self.col_bits = col_bits
        self.banks = banks
        self.seed = seed
        self.counts = collections.Counter()
        self.mem = {}
        self.uninitialised_reads = 0
        self.words_written = 0
        self.words_read = 0
        # bank state
        self.open_row = [None] * banks
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
    def initialised(self):
        return self.init_state == "ready"

    def dq_at(self, edge):
        """What the SDRAM drives for the controller to sample at ``edge``: ``(value,
        byte_mask)``, the word and which bytes are driven (a byte masked by DQM is high
        impedance), or None when the SDRAM does not drive DQ."""
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

        # init_done_ns is None until the initialisation is complete (tREFI starts there)
        self._check_edge(self.init_done_ns, self.open_row)
        if name != "NOP":
            self._check_command(name, powering_up=self.init_state == "powerup")

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
        self._check_active(ba)
        self.open_row[ba] = a & ((1 << 13) - 1)

    def _column_command(self, kind, ba, a):
        if not self.initialised:
            self._flag("init", f"{kind} before the initialisation sequence is complete")
        if a >> 10 & 1:
            self._flag("unsupported", f"{kind} with auto-precharge")
        if self.open_row[ba] is None:
            self._flag("no_open_row", f"{kind} to bank {ba}, which has no open row")
            return None
        self._check_column(ba)
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
        self._note_write_data(w["bank"])
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
            self._check_precharge(b, was_open=self.open_row[b] is not None)
            self.open_row[b] = None

    def _all_idle(self, what):
        open_banks = [b for b in range(self.banks) if self.open_row[b] is not None]
        if open_banks:
            self._flag("refresh_open", f"{what} while bank(s) {open_banks} are open")
        self._check_idle()

    def _cmd_refresh(self, **_):
        self._all_idle("AUTO REFRESH")
        # a refresh that completes the initialisation is not one of the counted refreshes
        after_init = self.initialised
        if self.init_state == "powerup":
            self._flag("init", "AUTO REFRESH before the initial PRECHARGE ALL")
        elif self.init_state == "precharged":
            self.init_refresh_count += 1
            self._maybe_ready()
        self._note_refresh(self.init_done_ns if after_init else None)

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
        self._note_mode()
        self._maybe_ready()

    def _maybe_ready(self):
        if (self.init_state == "precharged" and self.mode_set
                and self.init_refresh_count >= self.init_refreshes):
            self.init_state = "ready"
            self.init_done_ns = self.now

    # --- end of a test -------------------------------------------------------------

    def finish(self, raise_on_violation=True):
        """End of the test: run the end-of-time check (the initialisation completed), then
        raise :class:`SdramViolationError` if anything was flagged (see
        :meth:`sim.sdram_timing.SdramTiming.finish`)."""
        if not self.initialised:
            self._flag("init", "the initialisation sequence never completed")
        return super().finish(raise_on_violation)
