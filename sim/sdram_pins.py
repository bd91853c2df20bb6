"""cocotb driver of the SDRAM model: samples a simulated controller's SDRAM pins every
rising edge, feeds them to :class:`sim.sdram_model.SdramModel` and drives its read data back.

Pins are the controller's active-high logical values (``cs``, ``ras``, ``cas``, ``we``), as
:mod:`boards.ulx3s.sdram` drives them; the board resource inverts the ``_n`` pins.
"""

__all__ = ["SdramPins"]


class SdramPins:
    """Attach an :class:`sim.sdram_model.SdramModel` to a cocotb DUT's SDRAM pins.

    Every rising edge: drive ``dq.i`` for the next edge (in the writable phase after the
    edge), then in the ``ReadOnly`` phase sample the pins the SDRAM will see at the next
    edge and feed them to the model.  Pin names are ``<prefix>__cs``, ``<prefix>__dq__o``, ...
    as Amaranth flattens :func:`boards.ulx3s.sdram.pad_signature`.

    Parameters
    ----------
    dut : cocotb handle
    model : SdramModel
    prefix : str
    undriven : int
        Value put on ``dq.i`` when the SDRAM does not drive (a 2-state simulator has no Z;
        a recognisable pattern makes a capture at the wrong edge show up as a data error).
    """

    _PINS = ("clk_en", "cs", "ras", "cas", "we", "ba", "a", "dqm")

    def __init__(self, dut, model, prefix="sdram", undriven=0xDEAD):
        self.dut, self.model, self.undriven = dut, model, undriven
        self.pins = {name: getattr(dut, f"{prefix}__{name}") for name in self._PINS}
        self.dq_o = getattr(dut, f"{prefix}__dq__o")
        self.dq_oe = getattr(dut, f"{prefix}__dq__oe")
        self.dq_i = getattr(dut, f"{prefix}__dq__i")
        self._task = None

    def start(self):
        # cocotb is imported when a simulation runs, so the model stays usable without it
        import cocotb
        self._task = cocotb.start_soon(self._run())
        return self

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self):
        from cocotb.triggers import ReadOnly, RisingEdge
        clk = self.dut.clk
        self.dq_i.value = self.undriven
        nxt = None
        while True:
            await RisingEdge(clk)
            if nxt is None:
                self.dq_i.value = self.undriven
            else:
                value, mask = nxt
                self.dq_i.value = (value & mask) | (self.undriven & ~mask & 0xFFFF)
            await ReadOnly()
            p = {name: int(h.value) for name, h in self.pins.items()}
            nxt = self.model.edge(cke=p["clk_en"], cs=p["cs"], ras=p["ras"], cas=p["cas"],
                                  we=p["we"], ba=p["ba"], a=p["a"], dqm=p["dqm"],
                                  dq_o=int(self.dq_o.value), dq_oe=int(self.dq_oe.value))
