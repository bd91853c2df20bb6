"""A memory write port shared by several units: a fixed-priority multiplexer whose order is
a visible list (highest priority first), instead of the order of statements in a module.

Every requester drives ``valid`` and, unconditionally, ``addr``, ``en`` and ``data``; the port
takes the fields of the highest-priority requester whose ``valid`` is set, and is idle
(``en`` 0, address and data 0) when none is.  A requester that is always there (the host's
default address and data, whose ``en`` alone says when it writes) drives ``valid`` with a
constant 1.  The multiplexer is one select per requester on each field, the same logic as
the chain of ``with m.If(valid)`` assignments it replaces, so it adds nothing between
registers: the requesters' ``valid`` bits are registers or the sequencer's state.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .params import check_int, check_requesters

__all__ = ["WritePortMux", "write_request"]


def write_request(addr_width, en_width, data_width):
    """The signature of one requester, from the requester's side."""
    return wiring.Signature({"valid": Out(1), "addr": Out(addr_width), "en": Out(en_width),
                             "data": Out(data_width)})


class WritePortMux(wiring.Component):
    """Fixed-priority multiplexer of one memory write port.

    Parameters (keyword-only)
    ----------
    addr_width, en_width, data_width : int
        The write port's address, enable (1, or one bit per lane) and data widths.
    requesters : tuple of str
        The requesters' names, highest priority first (each a port of the component).

    Ports
    -----
    <requester> : In(write_request(addr_width, en_width, data_width))
        One per name in ``requesters``.
    port : Out(...)
        ``addr``, ``en``, ``data`` for the memory's write port.
    """

    def __init__(self, *, addr_width, en_width, data_width, requesters):
        check_int("addr_width", addr_width, 0)
        check_int("en_width", en_width, 1)
        check_int("data_width", data_width, 1)
        self.requesters = requesters = check_requesters(requesters)
        request = write_request(addr_width, en_width, data_width)
        super().__init__({
            **{name: In(request) for name in requesters},
            "port": Out(wiring.Signature({"addr": Out(addr_width), "en": Out(en_width),
                                          "data": Out(data_width)})),
        })

    def request(self, name):
        """The port of requester ``name``."""
        if name not in self.requesters:
            raise KeyError(f"no requester {name!r}; the requesters are {self.requesters!r}")
        return getattr(self, name)

    def elaborate(self, platform):
        m = Module()
        # lowest priority first: a later assignment wins
        for name in reversed(self.requesters):
            req = getattr(self, name)
            with m.If(req.valid):
                m.d.comb += [self.port.addr.eq(req.addr), self.port.en.eq(req.en),
                             self.port.data.eq(req.data)]
        return m
