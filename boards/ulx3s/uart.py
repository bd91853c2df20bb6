"""8N1 UART receiver and transmitter of the host link (the ULX3S's FT231X)."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["UartRx", "UartTx"]


class UartRx(wiring.Component):
    """8N1 receiver; ``divisor`` clock cycles per bit.  A byte with a bad stop bit is dropped.

    ``o`` is a stream without back-pressure: ``valid`` pulses for one cycle per byte.
    """

    def __init__(self, divisor):
        if divisor < 4:
            raise ValueError(f"UART divisor must be >= 4, got {divisor}")
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "o": Out(stream.Signature(8, always_ready=True))})

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        sync0 = Signal(init=1)
        rx = Signal(init=1)
        m.d.sync += [sync0.eq(self.rx), rx.eq(sync0)]
        timer = Signal(range(2 * d))
        bit = Signal(range(10))
        shreg = Signal(8)
        m.d.sync += self.o.valid.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~rx):
                    m.d.sync += timer.eq(d // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(rx):
                    m.next = "IDLE"                # glitch, not a start bit
                with m.Else():
                    m.d.sync += [timer.eq(d - 1), bit.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [timer.eq(d - 1), shreg.eq(Cat(shreg[1:], rx)), bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    with m.If(rx):
                        m.d.sync += [self.o.payload.eq(shreg), self.o.valid.eq(1)]
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "BREAK"          # framing error: wait for the line to idle
            with m.State("BREAK"):
                with m.If(rx):
                    m.next = "IDLE"
        return m


class UartTx(wiring.Component):
    """8N1 transmitter; ``divisor`` clock cycles per bit."""

    def __init__(self, divisor):
        self.divisor = divisor
        super().__init__({"tx": Out(1, init=1), "i": In(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        timer = Signal(range(d))
        bits = Signal(10, init=0x3FF)
        left = Signal(range(11))
        m.d.comb += [self.i.ready.eq(left == 0), self.tx.eq(bits[0])]
        with m.If(left == 0):
            with m.If(self.i.valid):
                m.d.sync += [bits.eq(Cat(Const(0, 1), self.i.payload, Const(1, 1))),
                             left.eq(10), timer.eq(d - 1)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += [bits.eq(Cat(bits[1:], Const(1, 1))), left.eq(left - 1), timer.eq(d - 1)]
        return m
