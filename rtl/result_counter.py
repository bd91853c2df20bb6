"""The resident result counter: reads the core's responses, counts correct predictions.

It consumes every response word of the core (golden/protocol.py) and, for each ``END``
answer, takes the sample's ``(label, train)`` from the feeder's label stream
(:mod:`rtl.feeder`, one entry per sample, in order) and the prediction (the word after
the ``END`` header), then counts samples and correct predictions per split and adds one
to the confusion matrix entry ``(split, label, prediction)``.  The host reads the counters
between runs and clears them at an epoch boundary.  Responses with a non-``OK`` status
are counted in ``errors``; an ``END`` that is not ``OK`` still takes its label entry, so
label and sample never drift apart.
"""

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.protocol import Op, Status
from rtl.dataset_store import LABEL_BITS

__all__ = ["ResultCounter", "COUNT_BITS"]

COUNT_BITS = 32
LABEL_DEPTH = 4     # the core answers in order, so the feeder is at most a sample or two ahead


class ResultCounter(wiring.Component):
    """Per-split sample and correct counts and a confusion matrix for ``n_outputs`` classes.

    Parameters
    ----------
    n_outputs : int
        Classes (2..256).

    Ports
    -----
    resp : In(stream.Signature(32))
        The core's ``o_stream``.  It enters through a two-word FIFO with a registered
        output, so that the core's response multiplexer and the counter's compare and
        32-bit additions are two paths, not one (25.8 ns estimated on the MNIST build).
    label : In(stream.Signature(9))
        The feeder's ``label`` stream: ``[7:0]`` label, ``[8]`` train.  It goes through a
        FIFO of ``LABEL_DEPTH`` entries: the feeder sends a sample's label before its
        ``START`` and the counter needs it only at that sample's ``END`` answer, so without
        the FIFO the two would wait for each other.
    clear : In(1)
        Zero every counter and the confusion matrix (``2 m^2`` cycles, ``busy`` meanwhile;
        responses wait).  Honoured between responses.
    train_seen, train_correct, test_seen, test_correct, errors : Out(32)
    cm_split, cm_label, cm_pred : In(1), In(range(m)), In(range(m))
        Confusion entry to read; ``cm_count`` has it one cycle later.
    cm_count : Out(32)
    pred_valid : Out(1)
        One cycle per counted prediction, with ``pred``, ``pred_label`` and ``pred_train``
        (for testbenches and LEDs).
    busy : Out(1)
    idle : Out(1)
        No label waits and no response is half read: every sample sent so far is counted.
    """

    def __init__(self, n_outputs):
        if not isinstance(n_outputs, int) or isinstance(n_outputs, bool) \
                or not 2 <= n_outputs <= 256:
            raise ValueError(f"n_outputs must be an integer in [2, 256], got {n_outputs!r}")
        self.n_outputs = n_outputs
        cls = range(n_outputs)
        super().__init__({
            "resp": In(stream.Signature(32)),
            "label": In(stream.Signature(LABEL_BITS + 1)),
            "clear": In(1),
            "train_seen": Out(COUNT_BITS),
            "train_correct": Out(COUNT_BITS),
            "test_seen": Out(COUNT_BITS),
            "test_correct": Out(COUNT_BITS),
            "errors": Out(COUNT_BITS),
            "cm_split": In(1),
            "cm_label": In(cls),
            "cm_pred": In(cls),
            "cm_count": Out(COUNT_BITS),
            "pred_valid": Out(1),
            "pred": Out(LABEL_BITS),
            "pred_label": Out(LABEL_BITS),
            "pred_train": Out(1),
            "busy": Out(1),
            "idle": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.n_outputs
        cells = n * n
        cm = Memory(shape=unsigned(COUNT_BITS), depth=2 * cells, init=[])
        m.submodules.confusion = cm
        rmw = cm.read_port()         # the increment's read
        host = cm.read_port()        # the host's read
        wr = cm.write_port()

        m.submodules.labels = fifo = SyncFIFO(width=LABEL_BITS + 1, depth=LABEL_DEPTH)
        m.d.comb += [fifo.w_data.eq(self.label.payload), fifo.w_en.eq(self.label.valid),
                     self.label.ready.eq(fifo.w_rdy)]
        label_valid, label_payload = fifo.r_rdy, fifo.r_data

        m.submodules.responses = rq = SyncFIFOBuffered(width=32, depth=2)
        wiring.connect(m, wiring.flipped(self.resp), rq.w_stream)
        resp = rq.r_stream
        word = resp.payload
        op, status, count = word[28:32], word[24:28], word[0:24]
        remaining = Signal(24)
        lab = Signal(LABEL_BITS)
        train = Signal()
        addr = Signal(range(2 * cells))
        clr = Signal(range(2 * cells))

        m.d.comb += [
            host.addr.eq(self.cm_split * cells + self.cm_label * n + self.cm_pred),
            self.cm_count.eq(host.data),
            self.pred.eq(word[:LABEL_BITS]),
            self.pred_label.eq(lab),
            self.pred_train.eq(train),
        ]

        with m.FSM():
            with m.State("HEAD"):
                m.d.comb += self.idle.eq(~label_valid & ~self.clear & ~resp.valid)
                is_end = op == Op.END
                # an END header waits for its sample's label
                m.d.comb += resp.ready.eq(~self.clear & (~is_end | label_valid))
                with m.If(self.clear):
                    m.d.sync += [clr.eq(0), self.train_seen.eq(0), self.train_correct.eq(0),
                                 self.test_seen.eq(0), self.test_correct.eq(0),
                                 self.errors.eq(0)]
                    m.next = "CLEAR"
                with m.Elif(resp.valid & resp.ready):
                    m.d.sync += remaining.eq(count)
                    with m.If(status != Status.OK):
                        m.d.sync += self.errors.eq(self.errors + 1)
                    with m.If(is_end):
                        m.d.comb += fifo.r_en.eq(1)
                        m.d.sync += [lab.eq(label_payload[:LABEL_BITS]),
                                     train.eq(label_payload[LABEL_BITS])]
                    with m.If(is_end & (status == Status.OK) & (count != 0)):
                        m.next = "PRED"
                    with m.Elif(count != 0):
                        m.next = "SKIP"
            with m.State("PRED"):
                m.d.comb += [resp.ready.eq(1), self.busy.eq(1)]
                target = Signal.like(addr)
                m.d.comb += [target.eq(~train * cells + lab * n + word[:LABEL_BITS]),
                             rmw.addr.eq(target)]
                with m.If(resp.valid):
                    m.d.comb += self.pred_valid.eq(1)
                    m.d.sync += [addr.eq(target), remaining.eq(remaining - 1)]
                    hit = word == lab
                    with m.If(train):
                        m.d.sync += [self.train_seen.eq(self.train_seen + 1),
                                     self.train_correct.eq(self.train_correct + hit)]
                    with m.Else():
                        m.d.sync += [self.test_seen.eq(self.test_seen + 1),
                                     self.test_correct.eq(self.test_correct + hit)]
                    m.next = "INC"
            with m.State("INC"):             # the entry read last cycle, plus one
                m.d.comb += [self.busy.eq(1), wr.addr.eq(addr), wr.data.eq(rmw.data + 1),
                             wr.en.eq(1)]
                with m.If(remaining != 0):
                    m.next = "SKIP"
                with m.Else():
                    m.next = "HEAD"
            with m.State("SKIP"):            # the totals after END (or a READ's value)
                m.d.comb += resp.ready.eq(1)
                with m.If(resp.valid):
                    m.d.sync += remaining.eq(remaining - 1)
                    with m.If(remaining == 1):
                        m.next = "HEAD"
            with m.State("CLEAR"):
                m.d.comb += [self.busy.eq(1), wr.addr.eq(clr), wr.data.eq(0), wr.en.eq(1)]
                m.d.sync += clr.eq(clr + 1)
                with m.If(clr == 2 * cells - 1):
                    m.next = "HEAD"
        return m
