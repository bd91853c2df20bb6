"""The PARAM registers (the learning-rate shifts) and the update engines' registered total
shifts: the twin of the PARAM rows of :class:`golden.command_model.CoreModel`.

A component: the host writes a shift through ``hidden_we`` / ``readout_we`` and ``wdata``
(its checks keep it in :func:`golden.protocol.lr_shift_range`); the engines read the total
shifts, registered copies of ``shift + base`` (off the update path).
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from golden.protocol import TOTAL_SHIFT_MAX, lr_shift_bases

from .params import check_config

__all__ = ["LearningRates", "SHIFT_BITS", "RATE_BITS"]

SHIFT_BITS = TOTAL_SHIFT_MAX.bit_length()   # the update engines' barrel shifters: shifts 0 .. 31
RATE_BITS = 5                               # a PARAM register


class LearningRates(wiring.Component):
    """The learning-rate shifts of the hidden layers and the readout.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only: the initial shifts and (through the fixed-point widths) their bases.

    Ports
    -----
    hidden_we, readout_we : In(1)
        The host writes ``wdata`` into that PARAM register.
    wdata : In(RATE_BITS)
    hidden_rate, readout_rate : Out(RATE_BITS)
        The PARAM registers (reset to the configuration's shifts).  Not ``hidden`` /
        ``readout``: the core's Verilog would then have a wire ``readout`` beside the memory.
    hidden_shift, readout_shift : Out(SHIFT_BITS)
        The engines' total shifts, registered: the PARAM register plus its base.
    """

    def __init__(self, *, cfg):
        check_config(cfg)
        self.cfg = cfg
        self.hidden_base, self.readout_base = lr_shift_bases(cfg)
        super().__init__({
            "hidden_we": In(1),
            "readout_we": In(1),
            "wdata": In(RATE_BITS),
            "hidden_rate": Out(RATE_BITS, init=cfg.hidden_lr_shift),
            "readout_rate": Out(RATE_BITS, init=cfg.readout_lr_shift),
            "hidden_shift": Out(SHIFT_BITS, init=cfg.hidden_lr_shift + self.hidden_base),
            "readout_shift": Out(SHIFT_BITS, init=cfg.readout_lr_shift + self.readout_base),
        })

    def elaborate(self, platform):
        m = Module()
        m.d.sync += [self.hidden_shift.eq(self.hidden_rate + self.hidden_base),
                     self.readout_shift.eq(self.readout_rate + self.readout_base)]
        with m.If(self.hidden_we):
            m.d.sync += self.hidden_rate.eq(self.wdata)
        with m.If(self.readout_we):
            m.d.sync += self.readout_rate.eq(self.wdata)
        return m
