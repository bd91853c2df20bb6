"""The core with its data set on board, driven by one command stream.

::

    i_stream --> ResidentControl --core commands--> [mux] --> Core -> slice -> [mux] --> responses
                   | store writes, order, runs        ^ feeding           | feeding
                   v                                  |                   v
                 DatasetStore --> Feeder (order) -----'                 ResultCounter

``ResidentCore`` answers the core's commands (golden/protocol.py) exactly as
:class:`rtl.core.Core` does, plus the resident commands of golden/resident_protocol.py:
the host uploads the data set once and then starts whole training and test runs, which
run at the core's speed (docs/resident.md).  Reference: :class:`golden.resident_model.ResidentModel`.
With ``store="sdram"`` the data set lives in SDRAM (:class:`rtl.sdram_store.SdramStore`)
behind the ``mem`` port, which the board connects to its SDRAM controller.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from rtl.core import Core
from rtl.dataset_store import DatasetStore
from rtl.feeder import Feeder
from rtl.resident_control import ResidentControl
from rtl.result_counter import ResultCounter
from rtl.sample_order import SampleOrder
from rtl.sdram_store import SdramStore, memory_request_signature

__all__ = ["ResidentCore", "Throttle"]


class Throttle(wiring.Component):
    """A one-word stream register that refuses words while ``pause`` is high.

    A verification aid (``ResidentCore(stall_ports=True)``): it stalls a stream legally, since
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


class ResidentCore(wiring.Component):
    """Store, order, feeder, core, counter and their command interpreter.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    n_train, n_test : int
        Rows of the store's two splits (the host may load fewer).
    multipliers : see :class:`rtl.core.Core`
    stall_ports : bool
        Verification only: ``pause_cmd`` and ``pause_resp`` inputs, each pausing a
        :class:`Throttle` on the feeder's command stream and the counter's response stream.
    store : {"bram", "sdram"}
        Where the data set lives: block RAM (:class:`rtl.dataset_store.DatasetStore`) or
        SDRAM (:class:`rtl.sdram_store.SdramStore`, behind ``mem``).
    sdram_addr_bits : int
        With ``store="sdram"``: the controller's word address width (24 for 32 MB).

    Ports
    -----
    i_stream, o_stream : the command and response streams (as :class:`rtl.core.Core`)
    active, training, error : the core's status outputs
    feeding : Out(1)
        A run is in progress.
    mem : Out(rtl.sdram_store.memory_request_signature(sdram_addr_bits, 16)), with ``sdram``
        To the SDRAM controller (``boards.ulx3s.sdram.SdramController``, ``length_bits=16``).
    """

    def __init__(self, cfg, n_train, n_test, *, multipliers=None, stall_ports=False,
                 store="bram", sdram_addr_bits=24):
        if store not in ("bram", "sdram"):
            raise ValueError(f"store must be 'bram' or 'sdram', got {store!r}")
        self.cfg, self.n_train, self.n_test = cfg, n_train, n_test
        self.stall_ports = bool(stall_ports)
        self.store_kind = store
        self._core = Core(cfg, multipliers=multipliers)
        if store == "sdram":
            try:
                self._store = SdramStore(cfg.n_inputs, n_train, n_test, addr_bits=sdram_addr_bits)
            except ValueError as e:
                if "addr_bits" not in str(e):
                    raise
                raise ValueError(f"sdram_addr_bits: {e}") from None
            mem = {"mem": Out(memory_request_signature(sdram_addr_bits, self._store.length_bits))}
        else:
            self._store = DatasetStore(cfg.n_inputs, n_train, n_test)
            mem = {}
        self._feeder = Feeder(cfg, n_train, n_test, ordered=True)
        super().__init__({
            "i_stream": In(stream.Signature(32)),
            "o_stream": Out(stream.Signature(32)),
            "active": Out(1),
            "training": Out(1),
            "error": Out(1),
            "feeding": Out(1),
            **({"pause_cmd": In(1), "pause_resp": In(1)} if self.stall_ports else {}),
            **mem,
        })

    @property
    def memories(self):
        """The core's memories by name (after elaboration), for the testbenches."""
        return self._core.memories

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.core = core = self._core
        m.submodules.store = store = self._store
        m.submodules.order = order = SampleOrder(self.n_train, cfg.seed)
        m.submodules.feeder = feeder = self._feeder
        m.submodules.counter = counter = ResultCounter(cfg.n_outputs)
        m.submodules.control = ctl = ResidentControl(cfg, self.n_train, self.n_test)

        wiring.connect(m, wiring.flipped(self.i_stream), ctl.i_stream)
        wiring.connect(m, ctl.o_stream, wiring.flipped(self.o_stream))
        wiring.connect(m, feeder.store, store.read)
        if self.store_kind == "sdram":
            # the feeder waits for its row and names the next; STOREs wait for the queue
            wiring.connect(m, feeder.fetch, store.fetch)
            wiring.connect(m, store.mem, wiring.flipped(self.mem))
            m.d.comb += ctl.store_ready.eq(store.wready)
        wiring.connect(m, feeder.order, order.read)
        wiring.connect(m, feeder.label, counter.label)
        run_cmd, run_resp = feeder.cmd, counter.resp
        if self.stall_ports:
            m.submodules.cmd_throttle = tc = Throttle()
            m.submodules.resp_throttle = tr = Throttle()
            wiring.connect(m, feeder.cmd, tc.i)
            wiring.connect(m, tr.o, counter.resp)
            m.d.comb += [tc.pause.eq(self.pause_cmd), tr.pause.eq(self.pause_resp)]
            run_cmd, run_resp = tc.o, tr.i

        # The core's responses pass a two-word FIFO with registered outputs before the
        # multiplexer: without it the interpreter's and the counter's ready decodes ran on
        # into the core's response registers' enables (19.6 ns estimated on the MNIST build).
        # A run ends only when it is empty, so no run answer reaches the interpreter.
        m.submodules.resp_slice = slice_ = SyncFIFOBuffered(width=32, depth=2)
        wiring.connect(m, core.o_stream, slice_.w_stream)
        core_rsp = slice_.r_stream

        # the core's streams: the interpreter's, or during a run the feeder's and counter's
        feeding = ctl.feeding
        with m.If(feeding):
            m.d.comb += [core.i_stream.valid.eq(run_cmd.valid),
                         core.i_stream.payload.eq(run_cmd.payload),
                         run_cmd.ready.eq(core.i_stream.ready),
                         run_resp.valid.eq(core_rsp.valid),
                         core_rsp.ready.eq(run_resp.ready)]
        with m.Else():
            m.d.comb += [core.i_stream.valid.eq(ctl.core_cmd.valid),
                         core.i_stream.payload.eq(ctl.core_cmd.payload),
                         ctl.core_cmd.ready.eq(core.i_stream.ready),
                         ctl.core_rsp.valid.eq(core_rsp.valid),
                         core_rsp.ready.eq(ctl.core_rsp.ready)]
        m.d.comb += [run_resp.payload.eq(core_rsp.payload),
                     ctl.core_rsp.payload.eq(core_rsp.payload)]

        m.d.comb += [store.we.eq(ctl.we), store.sample.eq(ctl.sample), store.col.eq(ctl.col),
                     store.wdata.eq(ctl.wdata),
                     order.shuffle.eq(ctl.shuffle), order.restart.eq(ctl.restart),
                     order.n.eq(ctl.n), ctl.order_busy.eq(order.busy),
                     feeder.start.eq(ctl.start), feeder.train.eq(ctl.train),
                     feeder.count.eq(ctl.count), feeder.reseed.eq(ctl.reseed),
                     ctl.feeder_busy.eq(feeder.busy),
                     counter.clear.eq(ctl.clear), ctl.counter_busy.eq(counter.busy),
                     ctl.counter_idle.eq(counter.idle & (slice_.level == 0)),
                     counter.cm_split.eq(ctl.cm_split), counter.cm_label.eq(ctl.cm_label),
                     counter.cm_pred.eq(ctl.cm_pred), ctl.cm_count.eq(counter.cm_count)]
        for name in ("train_seen", "train_correct", "test_seen", "test_correct", "errors"):
            m.d.comb += getattr(ctl, name).eq(getattr(counter, name))
        m.d.comb += [self.active.eq(core.active), self.training.eq(core.training),
                     self.error.eq(core.error), self.feeding.eq(feeding)]
        return m
