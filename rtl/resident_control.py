"""The resident system's command interpreter: the core's commands pass through, the resident
commands (golden/resident_protocol.py) drive the store, the order, the feeder and the counter.

One command at a time: a core command (opcodes 0..7) is forwarded word by word to the core
and its whole response (header and data words) is passed back before the next command is
looked at, so the core's stream is free whenever this unit is idle.  A ``RUN`` hands the
core's streams to the feeder and the counter (``feeding``) until every sample of the run
has been counted, then answers.  The twin of :class:`golden.resident_model.ResidentModel`.
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.protocol import Op, Status
from golden.resident_protocol import STORE_BYTES, ResOp
from rtl.dataset_store import PIXEL_BITS
from rtl.result_counter import COUNT_BITS

__all__ = ["ResidentControl"]

CHECKSUM_SETTLE = 3     # cycles from the last accepted byte until the checksum holds it


class ResidentControl(wiring.Component):
    """Command interpreter of :class:`rtl.resident_core.ResidentCore`.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    n_train, n_test : int
        The store's split sizes.

    Ports
    -----
    i_stream, o_stream
        Commands in, responses out (the system's streams).
    core_cmd, core_rsp
        To and from the core while ``feeding`` is low.
    feeding : Out(1)
        A run owns the core's streams (feeder -> core -> counter).
    we, sample, col, wdata
        The store's write port.
    store_ready : In(1, init=1)
        The store takes a byte this cycle; a STORE waits while it is low (an SDRAM store's
        write queue is full).  Unconnected it is 1: a block RAM store.
    shuffle, restart, n, order_busy
        The order memory's control (:class:`rtl.sample_order.SampleOrder`).
    start, train, count, reseed, feeder_busy
        The feeder's run control.
    clear, counter_busy, counter_idle, train_seen, train_correct, test_seen, test_correct,
    errors, cm_split, cm_label, cm_pred, cm_count
        The result counter's.
    """

    def __init__(self, cfg, n_train, n_test):
        self.cfg, self.n_train, self.n_test = cfg, n_train, n_test
        rows = n_train + n_test
        m = cfg.n_outputs
        super().__init__({
            "i_stream": In(stream.Signature(32)),
            "o_stream": Out(stream.Signature(32)),
            "core_cmd": Out(stream.Signature(32)),
            "core_rsp": In(stream.Signature(32)),
            "feeding": Out(1),
            "we": Out(1),
            "sample": Out(range(rows)),
            "col": Out(range(cfg.n_inputs + 1)),
            "wdata": Out(PIXEL_BITS),
            "store_ready": In(1, init=1),
            "shuffle": Out(1),
            "restart": Out(1),
            "n": Out(range(n_train + 1)),
            "order_busy": In(1),
            "start": Out(1),
            "train": Out(1),
            "count": Out(range(max(n_train, n_test) + 1)),
            "reseed": Out(1),
            "feeder_busy": In(1),
            "clear": Out(1),
            "counter_busy": In(1),
            "counter_idle": In(1),
            **{name: In(COUNT_BITS) for name in ("train_seen", "train_correct", "test_seen",
                                                 "test_correct", "errors", "cm_count")},
            "cm_split": Out(1),
            "cm_label": Out(range(m)),
            "cm_pred": Out(range(m)),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, n_train, n_test = self.cfg, self.n_train, self.n_test
        rows, n_in, n_out = n_train + n_test, cfg.n_inputs, cfg.n_outputs
        spike_words = -(-n_in // 32)

        word = self.i_stream.payload
        head = Signal(32)
        op, flag, value = head[28:32], head[27], head[0:24]
        left = Signal(range(spike_words + 2))         # words of a core command still to forward
        rsp_left = Signal(24)
        status = Signal(4)
        count = Signal(24)                            # data words of the answer
        k = Signal(range(max(n_out, 6) + 1))           # answer word index / confusion column
        col = Signal(17)                              # the STORE's first column
        data = Signal(32)                             # the STORE's data word being written
        dword = Signal(range(STORE_BYTES // 4 + 1))
        dbyte = Signal(2)
        wait = Signal(range(CHECKSUM_SETTLE + 1))

        # checksum pipeline: v = b + c + r; s1 += v; s2 += s1 (golden.resident_protocol)
        s1, s2, v = Signal(16), Signal(16), Signal(16)
        v_valid, s1_valid = Signal(), Signal()
        m.d.sync += [v_valid.eq(self.we), s1_valid.eq(v_valid),
                     v.eq(self.wdata + self.col + self.sample)]
        with m.If(v_valid):
            m.d.sync += s1.eq(s1 + v)
        with m.If(s1_valid):
            m.d.sync += s2.eq(s2 + s1)

        # the answer's data words, by opcode
        answer = Array([Signal(32, name=f"answer_{i}") for i in range(5)])
        with m.Switch(op):
            with m.Case(ResOp.CHECKSUM):
                m.d.comb += answer[0].eq(Cat(s1, s2))
            with m.Case(ResOp.COUNTERS):
                m.d.comb += [answer[i].eq(getattr(self, name)) for i, name in enumerate(
                    ("train_seen", "train_correct", "test_seen", "test_correct", "errors"))]
            with m.Case(ResOp.STORE_INFO):
                m.d.comb += [answer[0].eq(n_train), answer[1].eq(n_test), answer[2].eq(n_in)]

        core_len = Mux(word[28:32] == Op.STEP, 1 + spike_words,
                       Mux(word[28:32] == Op.WRITE, 3, Mux(word[28:32] == Op.READ, 2, 1)))
        head_word_count = Cat(count, status, op)
        split_rows = Mux(flag, n_train, n_test)
        m.d.comb += [self.cm_split.eq(head[16]), self.cm_label.eq(head[0:8]), self.cm_pred.eq(k),
                     self.n.eq(value), self.train.eq(flag), self.count.eq(value),
                     self.restart.eq(flag), self.sample.eq(value)]

        def answer_with(st, n_words=0):
            m.d.sync += [status.eq(st), count.eq(n_words), k.eq(0)]
            m.next = "ANSWER"

        # high exactly in the states RUN and RUN_WAIT, but a register of its own rather than
        # a decode of the state: it switches the core's streams (rtl/resident_core.py), and
        # the decode in front of that multiplexer was the start of the slowest paths
        feeding = Signal()
        m.d.comb += self.feeding.eq(feeding)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.i_stream.valid):
                    with m.If(word[31]):                        # opcodes 8..15: ours
                        m.d.comb += self.i_stream.ready.eq(1)
                        m.d.sync += head.eq(word)
                        m.next = "DECODE"
                    with m.Else():
                        m.d.sync += left.eq(core_len)
                        m.next = "CORE_CMD"
            with m.State("CORE_CMD"):
                m.d.comb += [self.core_cmd.valid.eq(self.i_stream.valid),
                             self.core_cmd.payload.eq(word),
                             self.i_stream.ready.eq(self.core_cmd.ready)]
                with m.If(self.i_stream.valid & self.core_cmd.ready):
                    m.d.sync += left.eq(left - 1)
                    with m.If(left == 1):
                        m.next = "CORE_HEAD"
            with m.State("CORE_HEAD"):
                m.d.comb += [self.o_stream.valid.eq(self.core_rsp.valid),
                             self.o_stream.payload.eq(self.core_rsp.payload),
                             self.core_rsp.ready.eq(self.o_stream.ready)]
                with m.If(self.core_rsp.valid & self.o_stream.ready):
                    m.d.sync += rsp_left.eq(self.core_rsp.payload[0:24])
                    with m.If(self.core_rsp.payload[0:24] == 0):
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "CORE_DATA"
            with m.State("CORE_DATA"):
                m.d.comb += [self.o_stream.valid.eq(self.core_rsp.valid),
                             self.o_stream.payload.eq(self.core_rsp.payload),
                             self.core_rsp.ready.eq(self.o_stream.ready)]
                with m.If(self.core_rsp.valid & self.o_stream.ready):
                    m.d.sync += rsp_left.eq(rsp_left - 1)
                    with m.If(rsp_left == 1):
                        m.next = "IDLE"

            with m.State("DECODE"):
                with m.Switch(op):
                    with m.Case(ResOp.STORE):
                        m.next = "STORE_COL"
                    with m.Case(ResOp.CHECKSUM):
                        m.d.sync += wait.eq(0)
                        m.next = "CHECKSUM"
                    with m.Case(ResOp.SHUFFLE):
                        with m.If(value > n_train):
                            answer_with(Status.ERR_VALUE)
                        with m.Else():
                            m.d.comb += self.shuffle.eq(1)
                            m.next = "SHUFFLE"
                    with m.Case(ResOp.RUN):
                        with m.If((value == 0) | (value > split_rows)):
                            answer_with(Status.ERR_VALUE)
                        with m.Else():
                            m.d.comb += self.start.eq(1)
                            m.d.sync += feeding.eq(1)
                            m.next = "RUN"
                    with m.Case(ResOp.COUNTERS):
                        answer_with(Status.OK, 5)
                    with m.Case(ResOp.CLEAR):
                        m.d.comb += [self.clear.eq(1), self.reseed.eq(flag)]
                        m.next = "CLEAR"
                    with m.Case(ResOp.CONFUSION):
                        with m.If(head[0:8] >= n_out):
                            answer_with(Status.ERR_ADDR)
                        with m.Else():
                            m.d.sync += [status.eq(Status.OK), count.eq(n_out), k.eq(0)]
                            m.next = "CM_HEAD"
                    with m.Default():                     # STORE_INFO
                        answer_with(Status.OK, 3)

            with m.State("STORE_COL"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    m.d.sync += [col.eq(word[0:16]), dword.eq(0),
                                 status.eq(Mux((value >= rows) | (word[0:16] > n_in),
                                               Status.ERR_ADDR, Status.OK))]
                    m.next = "STORE_DATA"
            with m.State("STORE_DATA"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    m.d.sync += [data.eq(word), dbyte.eq(0)]
                    m.next = "STORE_WRITE"
            with m.State("STORE_WRITE"):
                byte_col = col + Cat(dbyte, dword[:2])
                m.d.comb += [self.col.eq(byte_col), self.wdata.eq(data.word_select(dbyte, 8)),
                             self.we.eq((status == Status.OK) & (byte_col <= n_in)
                                        & self.store_ready)]
                with m.If(self.store_ready):
                    m.d.sync += dbyte.eq(dbyte + 1)
                    with m.If(dbyte == 3):
                        m.d.sync += dword.eq(dword + 1)
                        with m.If(dword == STORE_BYTES // 4 - 1):
                            m.d.sync += [count.eq(0), k.eq(0)]
                            m.next = "ANSWER"
                        with m.Else():
                            m.next = "STORE_DATA"

            with m.State("CHECKSUM"):
                m.d.sync += wait.eq(wait + 1)
                with m.If(wait == CHECKSUM_SETTLE):
                    answer_with(Status.OK, 1)
            with m.State("SHUFFLE"):                 # busy rises the cycle after the pulse
                m.next = "SHUFFLE_WAIT"
            with m.State("SHUFFLE_WAIT"):
                with m.If(~self.order_busy):
                    answer_with(Status.OK)
            with m.State("RUN"):
                m.next = "RUN_WAIT"
            with m.State("RUN_WAIT"):
                with m.If(~self.feeder_busy & self.counter_idle):
                    m.d.sync += feeding.eq(0)
                    answer_with(Status.OK)
            with m.State("CLEAR"):
                m.next = "CLEAR_WAIT"
            with m.State("CLEAR_WAIT"):
                with m.If(~self.counter_busy):
                    answer_with(Status.OK)

            with m.State("ANSWER"):                  # header, then ``count`` words of answer
                m.d.comb += [self.o_stream.valid.eq(1),
                             self.o_stream.payload.eq(Mux(k == 0, head_word_count, answer[k - 1]))]
                with m.If(self.o_stream.ready):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == count):
                        with m.If((op == ResOp.CHECKSUM) & flag):
                            m.d.sync += [s1.eq(0), s2.eq(0)]
                        m.next = "IDLE"
            with m.State("CM_HEAD"):                 # the entry of column k arrives next cycle
                m.d.comb += [self.o_stream.valid.eq(1), self.o_stream.payload.eq(head_word_count)]
                with m.If(self.o_stream.ready):
                    m.next = "CM_WAIT"
            with m.State("CM_WAIT"):
                m.next = "CM_SEND"
            with m.State("CM_SEND"):
                m.d.comb += [self.o_stream.valid.eq(1), self.o_stream.payload.eq(self.cm_count)]
                with m.If(self.o_stream.ready):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == n_out - 1):
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "CM_WAIT"
        return m
