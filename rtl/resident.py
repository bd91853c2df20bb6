"""The resident training system: data set store, feeder, core and result counter side by side.

::

    host writes --> DatasetStore --read--> Feeder --cmd--> Core --responses--> ResultCounter
                                              `------------ label stream ----------^

The core (:class:`rtl.core.Core`) is instantiated as is and stays a streaming core: the
feeder sends it the words a host would send, the counter reads the words a host would
read.  The host loads the store once, then starts runs (``count`` samples of one split)
and reads the counters between them (docs/resident.md).
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.core import Core
from rtl.dataset_store import DatasetStore
from rtl.feeder import Feeder
from rtl.result_counter import COUNT_BITS, ResultCounter

__all__ = ["Resident", "Throttle"]


class Throttle(wiring.Component):
    """A one-word stream register that refuses words while ``pause`` is high.

    A verification aid (``Resident(stall_ports=True)``): it stalls a stream legally, since
    it only lowers ``ready`` on its input and never takes back ``valid`` on its output.
    Without pauses it passes one word per cycle, one cycle late.
    """

    def __init__(self, width=32):
        super().__init__({
            "i": In(stream.Signature(width)),
            "o": Out(stream.Signature(width)),
            "pause": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        full = Signal()
        m.d.comb += [
            self.o.valid.eq(full),
            self.i.ready.eq(~self.pause & (~full | self.o.ready)),
        ]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.payload.eq(self.i.payload), full.eq(1)]
        with m.Elif(self.o.ready):
            m.d.sync += full.eq(0)
        return m


class Resident(wiring.Component):
    """Store, feeder, core and counter for one configuration and data set size.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    n_train, n_test : int
        Samples the store holds per split.
    stall_ports : bool
        Add ``pause_cmd`` and ``pause_resp`` inputs, each pausing a :class:`Throttle` on the
        command and response streams (verification only).
    multipliers : see :class:`rtl.core.Core`

    Ports
    -----
    we, sample, col, wdata
        The store's host write port (:class:`rtl.dataset_store.DatasetStore`).
    start, train, count, reseed, busy, refused
        The feeder's run control (:class:`rtl.feeder.Feeder`).
    clear, train_seen, train_correct, test_seen, test_correct, errors, cm_split, cm_label,
    cm_pred, cm_count, pred_valid, pred, pred_label, pred_train, counter_busy
        The counter (:class:`rtl.result_counter.ResultCounter`; ``counter_busy`` is its
        ``busy``).
    active, training, error
        The core's status outputs.
    """

    def __init__(self, cfg, n_train, n_test, *, stall_ports=False, multipliers=None):
        self.cfg = cfg
        self.stall_ports = bool(stall_ports)
        self._store = DatasetStore(cfg.n_inputs, n_train, n_test)
        self._feeder = Feeder(cfg, n_train, n_test)
        self._core = Core(cfg, multipliers=multipliers)
        self._counter = ResultCounter(cfg.n_outputs)
        sig = {}
        for name in ("we", "sample", "col", "wdata"):
            sig[name] = In(self._store.signature.members[name].shape)
        for name in ("start", "train", "count", "reseed"):
            sig[name] = In(self._feeder.signature.members[name].shape)
        sig["busy"] = Out(1)
        sig["refused"] = Out(1)
        sig["clear"] = In(1)
        for name in ("train_seen", "train_correct", "test_seen", "test_correct", "errors",
                     "cm_count"):
            sig[name] = Out(COUNT_BITS)
        for name in ("cm_split", "cm_label", "cm_pred"):
            sig[name] = In(self._counter.signature.members[name].shape)
        for name in ("pred_valid", "pred", "pred_label", "pred_train"):
            sig[name] = Out(self._counter.signature.members[name].shape)
        sig["counter_busy"] = Out(1)
        for name in ("active", "training", "error"):
            sig[name] = Out(1)
        if self.stall_ports:
            sig["pause_cmd"] = In(1)
            sig["pause_resp"] = In(1)
        super().__init__(sig)

    def elaborate(self, platform):
        m = Module()
        m.submodules.store = store = self._store
        m.submodules.feeder = feeder = self._feeder
        m.submodules.core = core = self._core
        m.submodules.counter = counter = self._counter

        wiring.connect(m, feeder.store, store.read)
        wiring.connect(m, feeder.label, counter.label)
        if self.stall_ports:
            m.submodules.cmd_throttle = tc = Throttle()
            m.submodules.resp_throttle = tr = Throttle()
            wiring.connect(m, feeder.cmd, tc.i)
            wiring.connect(m, tc.o, core.i_stream)
            wiring.connect(m, core.o_stream, tr.i)
            wiring.connect(m, tr.o, counter.resp)
            m.d.comb += [tc.pause.eq(self.pause_cmd), tr.pause.eq(self.pause_resp)]
        else:
            wiring.connect(m, feeder.cmd, core.i_stream)
            wiring.connect(m, core.o_stream, counter.resp)

        for name in ("we", "sample", "col", "wdata"):
            m.d.comb += getattr(store, name).eq(getattr(self, name))
        for name in ("start", "train", "count", "reseed"):
            m.d.comb += getattr(feeder, name).eq(getattr(self, name))
        m.d.comb += [self.busy.eq(feeder.busy), self.refused.eq(feeder.refused),
                     counter.clear.eq(self.clear), self.counter_busy.eq(counter.busy)]
        for name in ("train_seen", "train_correct", "test_seen", "test_correct", "errors",
                     "cm_count", "pred_valid", "pred", "pred_label", "pred_train"):
            m.d.comb += getattr(self, name).eq(getattr(counter, name))
        for name in ("cm_split", "cm_label", "cm_pred"):
            m.d.comb += getattr(counter, name).eq(getattr(self, name))
        for name in ("active", "training", "error"):
            m.d.comb += getattr(self, name).eq(getattr(core, name))
        return m
