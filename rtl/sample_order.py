"""The resident system's training order: an order memory and its Fisher-Yates shuffle engine.

The twin of :class:`golden.sample_order.SampleOrder` (definition there and in
docs/fixed_point.md, "Sample order"): ``order[0 .. n_train-1]`` in block RAM, the identity
after reset and after a restart; ``shuffle`` permutes ``order[0:n]`` with one 16-bit LFSR
draw per position, ``j = (r * (i + 1)) >> 16``, four cycles per position (draw and read
``order[i]``; read ``order[j]``; write ``order[i]``; write ``order[j]``).  The feeder reads
it through ``pos`` / ``row`` while no shuffle runs, and through ``pos_next`` / ``row_next``
(the engine's read port, free outside a shuffle) the row after it, for a store that fetches
rows ahead (:mod:`rtl.sdram_store`).
"""

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.sample_order import DRAW_BITS, MAX_ROWS, ORDER_BITS, shuffle_seed

from .feeder import step8

__all__ = ["SampleOrder", "order_read_signature"]


def order_read_signature(n_train):
    """The read port seen from the reader (the feeder): ``row`` is ``order[pos]`` one cycle
    after ``pos``; ``row_next`` is ``order[pos_next]`` the same way (valid while no shuffle
    runs)."""
    return wiring.Signature({
        "pos": Out(range(max(n_train, 2))),
        "row": In(range(max(n_train, 2))),
        "pos_next": Out(range(max(n_train, 2))),
        "row_next": In(range(max(n_train, 2))),
    })


class SampleOrder(wiring.Component):
    """The order memory, its LFSR and the shuffle engine.

    Parameters
    ----------
    n_train : int
        Training rows (1 .. 65536).
    seed : int
        The configuration seed (:func:`golden.sample_order.shuffle_seed`).

    Ports
    -----
    shuffle : In(1)
        Start (ignored while ``busy``): optionally a restart, then a shuffle of ``order[0:n]``.
    restart : In(1)
        With ``shuffle``: reload the identity and the LFSR seed first.
    n : In(range(n_train + 1))
        Rows to shuffle (``n < 2`` draws nothing).
    busy : Out(1)
    read : In(order_read_signature(n_train))
    """

    def __init__(self, n_train, seed):
        if not isinstance(n_train, int) or isinstance(n_train, bool) or not 1 <= n_train <= MAX_ROWS:
            raise ValueError(f"n_train must be an integer in [1, {MAX_ROWS}], got {n_train!r}")
        self.n_train, self.seed = n_train, seed
        super().__init__({
            "shuffle": In(1),
            "restart": In(1),
            "n": In(range(n_train + 1)),
            "busy": Out(1),
            "read": In(order_read_signature(n_train)),
        })

    def elaborate(self, platform):
        m = Module()
        n_train = self.n_train
        rows = range(max(n_train, 2))
        mem = Memory(shape=unsigned(rows.stop.bit_length()), depth=n_train, init=list(range(n_train)))
        m.submodules.order = mem
        feeder_rd = mem.read_port()
        engine_rd = mem.read_port()
        wr = mem.write_port()
        m.d.comb += [feeder_rd.addr.eq(self.read.pos), self.read.row.eq(feeder_rd.data),
                     # the look-ahead borrows the engine's port; DRAW and READ_J override it
                     engine_rd.addr.eq(self.read.pos_next),
                     self.read.row_next.eq(engine_rd.data)]

        seed = shuffle_seed(self.seed)
        lfsr = Signal(ORDER_BITS, init=seed)
        i = Signal(range(n_train + 1))
        j = Signal(range(max(n_train, 2)))
        a = Signal.like(wr.data)
        restart_at = Signal(range(max(n_train, 2)))
        n = Signal.like(self.n)
        draw = lfsr[:DRAW_BITS]

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.shuffle):
                    m.d.sync += [n.eq(self.n), i.eq(self.n - 1), restart_at.eq(0)]
                    with m.If(self.restart):
                        m.d.sync += lfsr.eq(seed)
                        m.next = "RESTART"
                    with m.Elif(self.n >= 2):
                        m.next = "DRAW"
            with m.State("RESTART"):        # the identity, one row per cycle
                m.d.comb += [self.busy.eq(1), wr.addr.eq(restart_at), wr.data.eq(restart_at),
                             wr.en.eq(1)]
                m.d.sync += restart_at.eq(restart_at + 1)
                with m.If(restart_at == n_train - 1):
                    with m.If(n >= 2):
                        m.next = "DRAW"
                    with m.Else():
                        m.next = "IDLE"
            with m.State("DRAW"):           # j from the draw; read order[i]
                m.d.comb += [self.busy.eq(1), engine_rd.addr.eq(i)]
                m.d.sync += [j.eq((draw * (i + 1)) >> DRAW_BITS), lfsr.eq(step8(step8(lfsr)))]
                m.next = "READ_J"
            with m.State("READ_J"):
                m.d.comb += [self.busy.eq(1), engine_rd.addr.eq(j)]
                m.d.sync += a.eq(engine_rd.data)
                m.next = "WRITE_I"
            with m.State("WRITE_I"):
                m.d.comb += [self.busy.eq(1), wr.addr.eq(i), wr.data.eq(engine_rd.data),
                             wr.en.eq(1)]
                m.next = "WRITE_J"
            with m.State("WRITE_J"):
                m.d.comb += [self.busy.eq(1), wr.addr.eq(j), wr.data.eq(a), wr.en.eq(1)]
                m.d.sync += i.eq(i - 1)
                with m.If(i == 1):
                    m.next = "IDLE"
                with m.Else():
                    m.next = "DRAW"
        return m
