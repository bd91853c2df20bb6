"""Timing checker of the SDRAM model: the datasheet's minimum and maximum times, checked
edge by edge, and the list of the rules broken (:class:`Violation`).

:class:`SdramTiming` is the base of :class:`sim.sdram_model.SdramModel`.  It owns the
clock (edge index and time), the per-bank times of the last ACTIVE, PRECHARGE and write
data, the refresh history, and the violation list with its report; the model decodes the
commands and calls one ``_check_*`` or ``_note_*`` hook per event, passing what it knows of
the banks and of the initialisation as arguments, so this module reads no state of the
model's own.

The kinds it flags (the model adds the command and state rules, see :mod:`sim.sdram_model`):

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
``init``            (the timing part) a command before the power-up wait is over
==================  =========================================================================

Times are compared in ns (edge index x clock period) against the datasheet values given
to the model, independently of how the controller converted them to cycles.
"""

import collections
import dataclasses

__all__ = ["SdramTiming", "SdramViolationError", "Violation"]

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
    """Raised by :meth:`SdramTiming.finish` when violations were seen."""


class SdramTiming:
    """The clock, the datasheet times and the violations of an SDRAM model.

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
    banks : int
        Number of banks (each has its own ACTIVE, PRECHARGE and write-data times).

    Attributes
    ----------
    violations : list of Violation
    refreshes : int
        AUTO REFRESH commands after the initialisation.
    edge_index : int
        The current edge (-1 before the first).
    """

    def __init__(self, *, period_ns, t_rcd=21.0, t_rp=21.0, t_ras=42.0, t_rc=63.0, t_rrd=14.0,
                 t_rfc=66.0, t_wr=15.0, t_mrd=2, t_ras_max=100_000.0, t_refi=7812.5,
                 refresh_window=64e6, rows=8192, powerup_ns=200_000.0, banks=4):
        self.period_ns = period_ns
        self.t = dict(tRCD=t_rcd, tRP=t_rp, tRAS=t_ras, tRC=t_rc, tRRD=t_rrd, tRFC=t_rfc, tWR=t_wr)
        self.t_mrd = t_mrd
        self.t_ras_max = t_ras_max
        self._ras_max_flagged = [False] * banks
        self.t_refi = t_refi
        self.refresh_window = refresh_window
        self.rows = rows
        self.powerup_ns = powerup_ns
        self.violations = []
        self.refreshes = 0
        self.edge_index = -1
        self.t_act = [None] * banks        # last ACTIVE per bank (ns)
        self.t_pre = [None] * banks        # last PRECHARGE per bank (ns)
        self.t_wdata = [None] * banks      # last write data in per bank (ns)
        self.t_act_any = None
        self.t_ref = None                  # last AUTO REFRESH (ns)
        self.e_mode = None                 # edge of the last LOAD MODE REGISTER
        self.ref_times = collections.deque()
        self._refi_flagged = False

    @property
    def now(self):
        """Time of the current edge in ns."""
        return self.edge_index * self.period_ns

    def _flag(self, kind, message):
        self.violations.append(Violation(self.edge_index, self.now, kind, message))

    def _since(self, name, then, now=None):
        """Check ``now - then >= t[name]``; flag otherwise."""
        if then is None:
            return
        now = self.now if now is None else now
        if now - then < self.t[name] - _EPS:
            self._flag(name, f"{now - then:.1f} ns after, {name} is {self.t[name]} ns")

    # --- every edge and every command ----------------------------------------------------

    def _check_edge(self, init_done_ns, open_row):
        """The maximum times, whatever the command: tREFI (once the initialisation ended at
        ``init_done_ns``; None while it runs) and tRASmax of the rows in ``open_row``."""
        now = self.now
        # Refresh interval: one AUTO REFRESH in every sliding tREFI window.
        if init_done_ns is not None and not self._refi_flagged:
            last = self.t_ref if self.t_ref is not None and self.t_ref > init_done_ns \
                else init_done_ns
            if now - last > self.t_refi + _EPS:
                self._flag("tREFI", f"no AUTO REFRESH for more than {self.t_refi} ns "
                           f"(last at {last:.1f} ns)")
                self._refi_flagged = True

        for b, row in enumerate(open_row):
            if (row is not None and not self._ras_max_flagged[b]
                    and now - self.t_act[b] > self.t_ras_max + _EPS):
                self._flag("tRASmax", f"bank {b} row {row} open for more than {self.t_ras_max} ns")
                self._ras_max_flagged[b] = True

    def _check_command(self, name, powering_up):
        """Timing rules that apply to every command (``name``, not NOP); ``powering_up`` while
        the initialisation has not begun."""
        e, now = self.edge_index, self.now
        if self.t_ref is not None:
            self._since("tRFC", self.t_ref)
        if self.e_mode is not None and e - self.e_mode < self.t_mrd:
            self._flag("tMRD", f"{e - self.e_mode} cycles after LOAD MODE REGISTER, "
                       f"tMRD is {self.t_mrd} cycles")
        if powering_up and now < self.powerup_ns - _EPS:
            self._flag("init", f"{name} at {now:.1f} ns, before the {self.powerup_ns} ns "
                       "power-up wait")

    # --- per command -----------------------------------------------------------------------

    def _check_active(self, ba):
        """ACTIVE to bank ``ba``: tRP, tRC, tRRD, then the row's times start."""
        self._since("tRP", self.t_pre[ba])
        self._since("tRC", self.t_act[ba])
        if self.t_act_any is not None and self.t_act_any != self.t_act[ba]:
            self._since("tRRD", self.t_act_any)
        self.t_act[ba] = self.t_act_any = self.now
        self._ras_max_flagged[ba] = False

    def _check_column(self, ba):
        """READ or WRITE to the open row of bank ``ba``."""
        self._since("tRCD", self.t_act[ba])

    def _note_write_data(self, ba):
        """A write beat went into bank ``ba`` (tWR counts from the last)."""
        self.t_wdata[ba] = self.now

    def _check_precharge(self, b, was_open):
        """PRECHARGE of bank ``b``: tRAS and tWR if it had a row open."""
        if was_open:
            self._since("tRAS", self.t_act[b])
            self._since("tWR", self.t_wdata[b])
        self.t_pre[b] = self.now

    def _check_idle(self):
        """AUTO REFRESH or LOAD MODE REGISTER: tRP from the last PRECHARGE of any bank."""
        # one check against the latest PRECHARGE (PRECHARGE ALL sets every bank's time)
        self._since("tRP", max((t for t in self.t_pre if t is not None), default=None))

    def _note_refresh(self, init_done_ns):
        """An AUTO REFRESH; ``init_done_ns`` when it is one after the initialisation (counted
        towards the refresh window), else None."""
        now = self.now
        if init_done_ns is not None:
            self.refreshes += 1
            # refresh_window: the window that ends just before this refresh
            if now - init_done_ns >= self.refresh_window:
                while self.ref_times and self.ref_times[0] < now - self.refresh_window:
                    self.ref_times.popleft()
                if len(self.ref_times) < self.rows:
                    self._flag("refresh_window", f"{len(self.ref_times)} refreshes in the last "
                               f"{self.refresh_window} ns, need {self.rows}")
            self.ref_times.append(now)
        self.t_ref = now
        self._refi_flagged = False

    def _note_mode(self):
        """A LOAD MODE REGISTER (tMRD counts in cycles from it)."""
        self.e_mode = self.edge_index

    # --- end of a test -------------------------------------------------------------

    def finish(self, raise_on_violation=True):
        """Raise if anything was flagged.

        Raises
        ------
        SdramViolationError
            When ``raise_on_violation`` and there are violations; the message lists them
            (the first 20) and counts each kind.
        """
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
