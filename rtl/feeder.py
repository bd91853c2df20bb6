"""The resident feeder: samples from the store, spikes made on chip, the core's command stream.

For each sample of a run (``count`` samples of one split, in store order) the feeder sends
the core ``START`` (train flag, label), ``T`` times ``STEP`` with ``ceil(n_inputs / 32)``
spike words, then ``END`` -- the same words a host would send (golden/protocol.py) -- and
hands ``(label, train)`` to the result counter (:mod:`rtl.result_counter`) on a separate
stream, in sample order.  The spike words are the ``lfsr_rate`` code of
:mod:`golden.input_encoding`, bit for bit: one 8-bit draw per lane per word, eight LFSR steps
in one cycle, a train bank that keeps stepping across runs and a test bank that restarts
from its seeds at every test run.

The next spike word is computed before the core asks for it (while it still works on the
previous command), so the core waits for the feeder only for the store read and the word
computation between two words of one step (two cycles) and before a sample's ``START``
(two cycles).  A store that is not always ready (the SDRAM store) is told, through
``fetch``, which row comes next and makes the feeder wait before a sample's label until the
sample's row is readable; nothing else changes, so the words sent are the same.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.config import LFSR_TAPS
from golden.input_encoding import (DRAW_BITS, ENCODER_BITS, MAX_ENCODER_LANES, TEST, TRAIN,
                                   encoder_seeds)
from golden.protocol import Op, header
from rtl.dataset_store import (LABEL_BITS, PIXEL_BITS, store_fetch_signature, store_geometry,
                                store_read_signature)

__all__ = ["Feeder", "step8"]


def step8(s):
    """Eight steps of a 32-bit Fibonacci LFSR state ``s`` in one cycle (golden.input_encoding):
    ``(s >> 8) | (XOR_t (s >> t) & 0xFF) << 24``."""
    new = []
    for j in range(DRAW_BITS):
        b = 0
        for t in LFSR_TAPS[ENCODER_BITS]:
            b = b ^ s[j + t]
        new.append(b)
    return Cat(s[DRAW_BITS:], *new)


class Feeder(wiring.Component):
    """Drives the core's command stream from the data set store.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        ``n_inputs``, ``timesteps`` and ``seed`` (the encoder banks' reset states) are used.
    n_train, n_test : int
        The store's split sizes (see :class:`rtl.dataset_store.DatasetStore`).
    ordered : bool
        Training runs read their rows through an order memory (:mod:`rtl.sample_order`):
        the run's ``k``-th sample is row ``order[k]``, two cycles more per sample.

    Ports
    -----
    start : In(1)
        Begin a run (ignored while ``busy``): ``count`` samples of split ``train`` (1 train,
        0 test), from sample 0.  A test run restarts the test bank.
    train : In(1)
    count : In(range(max(n_train, n_test) + 1))
        Samples in the run, 1 .. the split's size; any other value is refused (``refused``
        is set until the next accepted start) and nothing is sent.
    reseed : In(1)
        Restart the train bank from its seeds (epoch 0 again); honoured while idle.
    busy, refused : Out(1)
    store : Out(store_read_signature(...))
        To :class:`rtl.dataset_store.DatasetStore` ``.read``.
    fetch : Out(rtl.dataset_store.store_fetch_signature(n_train, n_test))
        Look-ahead and wait, for :class:`rtl.sdram_store.SdramStore` ``.fetch``; left
        unconnected (``ready`` stays 1) with a block RAM store.  ``want`` while busy (but for
        ``ORDER``, where the read port still names the previous row); from a
        sample's label on, ``next_*`` name the run's next row (``order[k + 1]`` through the
        order memory's second port for a training run).
    cmd : Out(stream.Signature(32))
        To the core's ``i_stream``.
    label : Out(stream.Signature(9))
        ``[7:0]`` label, ``[8]`` train: one per sample, sent before its ``START``.
    order : Out(rtl.sample_order.order_read_signature(n_train)), with ``ordered`` only
        To :class:`rtl.sample_order.SampleOrder` ``.read``.
    """

    def __init__(self, cfg, n_train, n_test, *, ordered=False):
        self.cfg = cfg
        self.lanes, self.words, _, _ = store_geometry(cfg.n_inputs, n_train, n_test)
        if n_test < 1:
            raise ValueError(f"n_test must be at least 1 for a feeder (it runs test passes), "
                             f"got {n_test}")
        self.n_train, self.n_test = n_train, n_test
        self.ordered = bool(ordered)
        order = {}
        if self.ordered:
            from .sample_order import order_read_signature
            order["order"] = Out(order_read_signature(n_train))
        super().__init__({
            **order,
            "start": In(1),
            "train": In(1),
            "count": In(range(max(n_train, n_test) + 1)),
            "reseed": In(1),
            "busy": Out(1),
            "refused": Out(1),
            "store": Out(store_read_signature(cfg.n_inputs, n_train, n_test)),
            "fetch": Out(store_fetch_signature(n_train, n_test)),
            "cmd": Out(stream.Signature(32)),
            "label": Out(stream.Signature(LABEL_BITS + 1)),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, E, W, T = self.cfg, self.lanes, self.words, self.cfg.timesteps
        seeds = {s: encoder_seeds(cfg.seed, s, E) for s in (TRAIN, TEST)}
        banks = {s: [Signal(ENCODER_BITS, init=seeds[s][k], name=f"enc{'_test' if s else ''}{k}")
                     for k in range(E)] for s in (TRAIN, TEST)}

        train = Signal()
        count = Signal.like(self.count)
        index = Signal.like(self.count)
        word = Signal(range(max(W, 2)))
        step = Signal(range(T + 1))
        lab = Signal(LABEL_BITS)
        spikes = Signal(32)
        header_next = Signal()     # after the word being computed: a STEP header (else a word)

        sampling = Signal()        # in a sample, from its label on: index and row are settled
        if self.ordered:
            m.d.comb += [self.order.pos.eq(index), self.order.pos_next.eq(index + 1)]
            # the sample's rows, registered from the order memory's read data: that block
            # RAM output would otherwise run on through the store's row compare into
            # ``fetch.ready`` and this FSM (22.4 ns on the routed resident MNIST build)
            row = Signal.like(self.order.row, name="row")
            row_next = Signal.like(self.order.row_next, name="row_next")
        # with an order memory a sample's rows are known two cycles after its position
        # (ORDER: the memory reads it; ORDER_TAKE: the rows are registered)
        first = "ORDER" if self.ordered else "LABEL"
        m.d.comb += [
            self.store.split.eq(~train),
            self.store.index.eq(Mux(train, row, index) if self.ordered else index),
            self.store.word.eq(word),
            self.fetch.next_valid.eq(sampling & (index + 1 < count)),
            self.fetch.next_split.eq(~train),
            self.fetch.next_index.eq(Mux(train, row_next, index + 1)
                                     if self.ordered else index + 1),
        ]

        # the spike word from the store's bytes and the current lane states; bits past
        # n_inputs in the last word stay 0 (the core ignores them; zero keeps them defined)
        train_states = banks[TRAIN]
        test_states = banks[TEST]
        bits = []
        for k in range(E):
            u = Mux(train, train_states[k], test_states[k])[:DRAW_BITS]
            pixel = self.store.pixels[k * PIXEL_BITS:(k + 1) * PIXEL_BITS]
            bits.append(u < pixel)
        tail = cfg.n_inputs - (W - 1) * MAX_ENCODER_LANES       # inputs in the last word
        last_mask = Const((1 << tail) - 1, 32)
        word_bits = Cat(*bits)
        masked = Mux(word == W - 1, word_bits & last_mask, word_bits)

        def calc():
            m.d.sync += spikes.eq(masked)
            for k in range(E):
                with m.If(train):
                    m.d.sync += train_states[k].eq(step8(train_states[k]))
                with m.Else():
                    m.d.sync += test_states[k].eq(step8(test_states[k]))

        ok = (self.count >= 1) & Mux(self.train, self.count <= self.n_train,
                                     self.count <= self.n_test)
        with m.FSM() as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [train.eq(self.train), count.eq(self.count), index.eq(0),
                                 word.eq(0), self.refused.eq(~ok)]
                    with m.If(ok):
                        with m.If(~self.train):
                            m.d.sync += [s.eq(seeds[TEST][k]) for k, s in enumerate(test_states)]
                        m.next = first
                with m.Elif(self.reseed):
                    m.d.sync += [s.eq(seeds[TRAIN][k]) for k, s in enumerate(train_states)]
            if self.ordered:
                with m.State("ORDER"):      # the order memory reads position index
                    m.d.comb += self.busy.eq(1)
                    m.next = "ORDER_TAKE"
                with m.State("ORDER_TAKE"):
                    m.d.comb += self.busy.eq(1)
                    m.d.sync += [row.eq(self.order.row), row_next.eq(self.order.row_next)]
                    m.next = "LABEL"
            with m.State("LABEL"):          # the store reads (index, word 0) this cycle
                m.d.comb += self.busy.eq(1)
                # a store still fetching the row holds the read; it keeps a ready row until
                # the read port names another, so this is the only wait
                with m.If(self.fetch.ready):
                    m.next = "PUSH"
            with m.State("PUSH"):
                m.d.comb += [self.busy.eq(1), self.label.valid.eq(1),
                             self.label.payload.eq(Cat(self.store.label, train))]
                with m.If(self.label.ready):
                    m.d.sync += lab.eq(self.store.label)
                    m.next = "START"
            with m.State("START"):
                m.d.comb += [self.busy.eq(1), self.cmd.valid.eq(1),
                             self.cmd.payload.eq(Cat(lab, Const(0, 19), train,
                                                     Const(Op.START, 4)))]
                with m.If(self.cmd.ready):
                    m.d.sync += [step.eq(0), header_next.eq(1)]
                    m.next = "CALC"
            with m.State("WAIT"):           # the store reads the new word address
                m.d.comb += self.busy.eq(1)
                m.next = "CALC"
            with m.State("CALC"):           # pixels are here: compute the word, draw once
                m.d.comb += self.busy.eq(1)
                calc()
                with m.If(header_next):
                    m.next = "STEP"
                with m.Else():
                    m.next = "SEND"
            with m.State("STEP"):
                m.d.comb += [self.busy.eq(1), self.cmd.valid.eq(1),
                             self.cmd.payload.eq(header(Op.STEP))]
                with m.If(self.cmd.ready):
                    m.d.sync += step.eq(step + 1)
                    m.next = "SEND"
            with m.State("SEND"):
                m.d.comb += [self.busy.eq(1), self.cmd.valid.eq(1), self.cmd.payload.eq(spikes)]
                with m.If(self.cmd.ready):
                    with m.If(word == W - 1):
                        m.d.sync += word.eq(0)
                        with m.If(step == T):
                            m.next = "END"
                        with m.Else():
                            m.d.sync += header_next.eq(1)
                            m.next = "WAIT"
                    with m.Else():
                        m.d.sync += [word.eq(word + 1), header_next.eq(0)]
                        m.next = "WAIT"
            with m.State("END"):
                m.d.comb += [self.busy.eq(1), self.cmd.valid.eq(1),
                             self.cmd.payload.eq(header(Op.END))]
                with m.If(self.cmd.ready):
                    with m.If(index + 1 == count):
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += index.eq(index + 1)
                        m.next = first
        # in ORDER and ORDER_TAKE the read port still names the previous sample's row
        settled = self.busy & (~(fsm.ongoing("ORDER") | fsm.ongoing("ORDER_TAKE"))
                               if self.ordered else 1)
        m.d.comb += [self.fetch.want.eq(settled), sampling.eq(settled & ~fsm.ongoing("LABEL"))]
        return m
