"""The resident system with its data set in the ULX3S's SDRAM: ``ResidentCore(store="sdram")``
wired to :class:`boards.ulx3s.sdram.SdramController`.

One component for the board and for the tests: :class:`boards.ulx3s.top.LinkedCore` puts it
behind the UART link (the top level connects ``sdram`` to the board's pins), and
tests/test_resident.py runs it under cocotb with :class:`sim.sdram_model.SdramModel` on
``sdram``, so the wiring the tests check is the wiring the bitstream has.
"""

from amaranth.hdl import Module, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.resident_core import ResidentCore, Throttle

from .sdram import SdramConfig, SdramController, pad_signature

__all__ = ["ResidentOnSdram", "LENGTH_BITS"]

LENGTH_BITS = 16        # a request's length field: the store's longest request is one row


class ResidentOnSdram(wiring.Component):
    """:class:`rtl.resident_core.ResidentCore` with ``store="sdram"`` on an SDRAM controller.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    n_train, n_test : int
        Rows of the store's two splits.
    sdram : boards.ulx3s.sdram.SdramConfig
        The controller's clock and timing (its ``clk_freq`` is the core clock: both run in
        the ``sync`` domain).
    stall_ports : bool
        Verification only: ``pause_cmd`` and ``pause_resp`` as :class:`ResidentCore`'s, and
        ``pause_mem``, which pauses a :class:`rtl.resident_core.Throttle` on each of the
        store's three streams to the controller (request, write data, read data).
    multipliers : see :class:`rtl.core.Core`

    Ports
    -----
    i_stream, o_stream, active, training, error, feeding
        As :class:`ResidentCore`'s.
    sdram : Out(boards.ulx3s.sdram.pad_signature())
        The SDRAM pads (all but its clock, which the top level forwards).
    init_done, refresh_overrun : Out(1)
        The controller's.
    """

    def __init__(self, cfg, n_train, n_test, *, sdram, stall_ports=False, multipliers=None):
        if not isinstance(sdram, SdramConfig):
            raise ValueError(f"sdram must be an SdramConfig, got {type(sdram).__name__}")
        self.sdram_config = sdram
        self.stall_ports = bool(stall_ports)
        self.resident = ResidentCore(cfg, n_train, n_test, multipliers=multipliers,
                                     stall_ports=stall_ports, store="sdram",
                                     sdram_addr_bits=sdram.addr_bits)
        self.controller = SdramController(sdram, length_bits=LENGTH_BITS)
        stall = {"pause_cmd": In(1), "pause_resp": In(1), "pause_mem": In(1)} if stall_ports else {}
        super().__init__({
            "i_stream": In(stream.Signature(32)),
            "o_stream": Out(stream.Signature(32)),
            "active": Out(1),
            "training": Out(1),
            "error": Out(1),
            "feeding": Out(1),
            "sdram": Out(pad_signature()),
            "init_done": Out(1),
            "refresh_overrun": Out(1),
            **stall,
        })

    @property
    def memories(self):
        """The core's memories by name (after elaboration)."""
        return self.resident.memories

    def elaborate(self, platform):
        m = Module()
        m.submodules.resident = res = self.resident
        m.submodules.ctrl = ctrl = self.controller
        wiring.connect(m, wiring.flipped(self.i_stream), res.i_stream)
        wiring.connect(m, res.o_stream, wiring.flipped(self.o_stream))
        m.d.comb += [self.active.eq(res.active), self.training.eq(res.training),
                     self.error.eq(res.error), self.feeding.eq(res.feeding)]
        if self.stall_ports:
            m.d.comb += [res.pause_cmd.eq(self.pause_cmd), res.pause_resp.eq(self.pause_resp)]

        req, wdata, rdata = res.mem.cmd, res.mem.wdata, ctrl.rdata
        if self.stall_ports:
            # a throttle per stream: requests, write words and read words reach the other
            # side late and irregularly, as from a slower or busier memory
            for name, src, dst in (("cmd", res.mem.cmd, ctrl.cmd),
                                   ("wdata", res.mem.wdata, ctrl.wdata),
                                   ("rdata", ctrl.rdata, res.mem.rdata)):
                m.submodules[f"{name}_throttle"] = t = Throttle(len(Value.cast(src.payload)))
                m.d.comb += [t.i.valid.eq(src.valid), t.i.payload.eq(src.payload),
                             src.ready.eq(t.i.ready), dst.valid.eq(t.o.valid),
                             dst.payload.eq(t.o.payload), t.o.ready.eq(dst.ready),
                             t.pause.eq(self.pause_mem)]
        else:
            wiring.connect(m, req, ctrl.cmd)
            wiring.connect(m, wdata, ctrl.wdata)
            wiring.connect(m, rdata, res.mem.rdata)
        wiring.connect(m, ctrl.sdram, wiring.flipped(self.sdram))
        m.d.comb += [res.mem.init_done.eq(ctrl.init_done), self.init_done.eq(ctrl.init_done),
                     self.refresh_overrun.eq(ctrl.refresh_overrun)]
        return m
