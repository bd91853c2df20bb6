"""cocotb drivers for ``amaranth.lib.stream`` ports of a generated Verilog top level.

Amaranth flattens a stream member ``i_stream`` into the ports ``i_stream__valid``,
``i_stream__ready`` and ``i_stream__payload``; the helpers take the prefix (``"i_stream"``).

Sampling rule used throughout: a transfer happens on a rising clock edge when ``valid`` and
``ready`` are both high just before it.  Values are sampled in the ``ReadOnly`` phase of the
time step of the previous rising edge, when every register has taken its new value and all
combinational logic (including a ``ready`` that depends on the testbench's inputs) has
settled; nothing changes between then and the next rising edge.  This is the same on every
simulator, unlike reading signals right at ``RisingEdge``, where some simulators still show
pre-edge and others post-edge register values.  Signals are driven only after a
``RisingEdge`` (never in ``ReadOnly``, where writes are illegal).

All helpers must be used in a clocked design whose clock is already running.
"""

import random

import cocotb
from cocotb.queue import Queue
from cocotb.triggers import ReadOnly, RisingEdge, SimTimeoutError, with_timeout

__all__ = ["StreamDriver", "StreamMonitor", "random_pauses"]


def random_pauses(seed, probability):
    """A seeded random pause inserter for :class:`StreamDriver` and :class:`StreamMonitor`.

    Parameters
    ----------
    seed : int
        Seed of a private :class:`random.Random`, so runs are reproducible and independent
        of the test's other random draws.
    probability : float
        Chance, per clock cycle, of a pause (an idle cycle for a driver, ``ready`` low for a
        monitor).  0 never pauses; must be below 1 or the stream never moves.

    Returns
    -------
    callable
        ``pause() -> bool``, drawn once per cycle.
    """
    if not 0 <= probability < 1:
        raise ValueError(f"pause probability must be in [0, 1), got {probability}")
    rng = random.Random(seed)
    return lambda: rng.random() < probability


def _as_pause(pause):
    """Accept None, a callable or an iterator of bools; return a callable."""
    if pause is None:
        return lambda: False
    if callable(pause):
        return pause
    iterator = iter(pause)
    return lambda: bool(next(iterator))


def _bit(handle):
    """Value of a 1-bit signal as bool, with a clear error for X/Z (a DUT bug on valid/ready)."""
    value = handle.value
    if not value.is_resolvable:
        raise ValueError(f"{handle._name} is {value} (not 0/1) during a stream handshake")
    return bool(value)


def _port(dut, prefix, member):
    """Handle of ``<prefix>__<member>`` with an error that names what exists."""
    name = f"{prefix}__{member}"
    try:
        return getattr(dut, name)
    except AttributeError:
        raise AttributeError(f"{dut._name} has no port {name!r}; Amaranth names stream ports "
                             "<member>__valid/__ready/__payload (pass the member name as "
                             "prefix)") from None


class StreamDriver:
    """Drives words into a stream input of the DUT (``<prefix>__valid/payload`` in,
    ``<prefix>__ready`` out).

    Parameters
    ----------
    dut : cocotb handle
        The top level.
    prefix : str
        Stream member name, e.g. ``"i_stream"``.
    clock : cocotb handle
        The clock the stream is synchronous to (``dut.clk``).
    idle : callable or iterable of bool, optional
        Asked once per cycle before each word is offered; while it gives True, ``valid``
        stays low for a cycle (e.g. :func:`random_pauses`).

    Attributes
    ----------
    sent : int
        Words accepted by the DUT so far.
    stall_cycles : int
        Cycles with ``valid`` high and ``ready`` low (back pressure seen by the driver).
    idle_cycles : int
        Cycles the ``idle`` pauses held ``valid`` low before a word.
    """

    def __init__(self, dut, prefix, clock, *, idle=None):
        self.valid = _port(dut, prefix, "valid")
        self.ready = _port(dut, prefix, "ready")
        self.payload = _port(dut, prefix, "payload")
        self.clock = clock
        self._idle = _as_pause(idle)
        self.sent = 0
        self.stall_cycles = 0
        self.idle_cycles = 0        # cycles the driver held valid low before a word
        self.valid.value = 0

    async def send(self, word):
        """Offer ``word`` and return after the rising edge on which the DUT accepted it.

        ``valid`` is left low on return, so call this from a writable phase (after a
        ``RisingEdge``, or at the start of a test), not from ``ReadOnly``.  Back-to-back
        calls (as in :meth:`send_many`) keep ``valid`` high with no gap: the low and high
        writes land in the same time step, and the last one wins.
        """
        while self._idle():
            self.valid.value = 0
            self.idle_cycles += 1
            await RisingEdge(self.clock)
        self.payload.value = word
        self.valid.value = 1
        while True:
            await ReadOnly()
            accepted = _bit(self.ready)
            await RisingEdge(self.clock)
            if accepted:
                break
            self.stall_cycles += 1
        self.valid.value = 0
        self.sent += 1

    async def send_many(self, words):
        """Send every word of an iterable, in order."""
        for word in words:
            await self.send(word)


class StreamMonitor:
    """Accepts words from a stream output of the DUT (``<prefix>__ready`` in,
    ``<prefix>__valid/payload`` out) and queues them.

    A background task, started by the constructor, drives ``ready`` every cycle and records
    the payload of every transfer (``valid`` and ``ready`` both high) in order.

    Parameters
    ----------
    dut : cocotb handle
        The top level.
    prefix : str
        Stream member name, e.g. ``"o_stream"``.
    clock : cocotb handle
        The clock the stream is synchronous to.
    backpressure : callable or iterable of bool, optional
        Asked once per cycle in which ``valid`` is high (and once when it rises); when it
        gives True, ``ready`` is low for that cycle (e.g. :func:`random_pauses`).  By
        default ``ready`` is always high.
    period_ns : float, optional
        Clock period; when given, :meth:`recv` waits with one timer instead of counting
        cycles in Python (much faster while the DUT is busy).

    Attributes
    ----------
    received : int
        Transfers seen so far (queued or already taken by :meth:`recv`).
    stall_cycles : int
        Cycles with ``valid`` high and ``ready`` low (the back pressure this monitor applied).
    """

    def __init__(self, dut, prefix, clock, *, backpressure=None, period_ns=None):
        self.period_ns = period_ns
        self.valid = _port(dut, prefix, "valid")
        self.ready = _port(dut, prefix, "ready")
        self.payload = _port(dut, prefix, "payload")
        self.prefix = prefix
        self.clock = clock
        self._backpressure = _as_pause(backpressure)
        self._queue = Queue()
        self.received = 0
        self.stall_cycles = 0       # cycles with valid high and ready low (back pressure)
        self._task = cocotb.start_soon(self._run())

    async def _run(self):
        while True:
            # writable phase: after a clock edge, after valid rose, or at start
            ready = not self._backpressure()
            self.ready.value = int(ready)
            await ReadOnly()
            # Transfer on the coming edge; payload is only read when valid, because
            # an idle payload may be X/Z in a 4-state simulator.
            valid = _bit(self.valid)
            if ready and valid:
                self._queue.put_nowait(self.payload.value.to_unsigned())
                self.received += 1
            elif valid:
                self.stall_cycles += 1
            if valid:
                await RisingEdge(self.clock)
            else:
                # Nothing to take: sleep until the DUT raises valid instead of waking every
                # cycle.  Ready only matters while valid is high, so the pauses drawn while
                # valid is high shake the stream exactly as before, at a fraction of the cost.
                await RisingEdge(self.valid)

    def stop(self):
        """Stop the background task (``ready`` keeps its last value)."""
        self._task.cancel()

    @property
    def pending(self):
        """Number of received words not yet taken by :meth:`recv`."""
        return self._queue.qsize()

    async def recv(self, timeout_cycles=10_000):
        """Return the next received word (an unsigned int).

        Parameters
        ----------
        timeout_cycles : int or None
            Give up after this many clock cycles without a word; None waits forever.

        Raises
        ------
        TimeoutError
            If no word arrived in time; says how many words had been received.
        """
        if not self._queue.empty():
            return self._queue.get_nowait()
        if timeout_cycles is None:
            return await self._queue.get()
        if self.period_ns is not None:
            # one timer instead of a wake-up per cycle
            try:
                word = await with_timeout(self._queue.get(), timeout_cycles * self.period_ns, "ns")
            except SimTimeoutError:
                pass
            else:
                # The word was queued in the ReadOnly phase before the edge that completes
                # the transfer; return after that edge, in a phase where the caller may drive.
                await RisingEdge(self.clock)
                return word
        else:
            waited = 0
            while self._queue.empty() and waited < timeout_cycles:
                await RisingEdge(self.clock)
                waited += 1
            if not self._queue.empty():
                return self._queue.get_nowait()
        raise TimeoutError(f"stream {self.prefix!r}: no transfer within {timeout_cycles} "
                           f"cycles (after {self.received} words)")

    async def recv_many(self, n, timeout_cycles=10_000):
        """Return the next ``n`` words as a list; ``timeout_cycles`` applies to each word."""
        return [await self.recv(timeout_cycles) for _ in range(n)]
