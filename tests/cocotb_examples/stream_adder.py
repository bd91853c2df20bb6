"""Example DUT for the simulation plumbing tests: adds 1 to every word of a stream."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["StreamAdder"]


class StreamAdder(wiring.Component):
    """Outputs each input word + 1 (mod 2**32), through one register stage.

    The register is a single-entry pipeline stage: it takes a new word whenever it is empty
    or its word leaves on the same cycle, so it sustains one word per cycle and stalls only
    under output back pressure.
    """

    i_stream: In(stream.Signature(32))
    o_stream: Out(stream.Signature(32))

    def elaborate(self, platform):
        m = Module()
        # `ready` must not depend on the input's `valid` (stream rules); it only looks at
        # the output side.
        m.d.comb += self.i_stream.ready.eq(~self.o_stream.valid | self.o_stream.ready)
        with m.If(self.i_stream.ready):
            m.d.sync += [
                self.o_stream.valid.eq(self.i_stream.valid),
                # Assigning the 33-bit sum to a 32-bit payload wraps mod 2**32.
                self.o_stream.payload.eq(self.i_stream.payload + 1),
            ]
        return m
