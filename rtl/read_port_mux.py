"""A memory read port shared by several units: a fixed-priority multiplexer of the read
address whose order is a visible list (highest priority first), like
:class:`rtl.write_port_mux.WritePortMux` for the write ports.

Every requester drives ``en`` (a read whose data is used is out) and ``addr``; the port takes
the address of the highest-priority requester whose ``en`` is set (0 when none is), and its
``en`` is high when any requester's is (the memory's ``live`` flag,
:class:`rtl.memories.LaneMemory`).  The word read is ``data`` of every requester, the next
cycle.  The multiplexer is one select per requester, the chain of ``with m.If(en)``
assignments that the order of statements used to make.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .params import check_int, check_requesters

__all__ = ["ReadPortMux", "read_port_request"]


def read_port_request(addr_width, data_width):
    """The signature of one reader, from the reader's side: ``en``, ``addr`` out; ``data`` in."""
    return wiring.Signature({"en": Out(1), "addr": Out(addr_width), "data": In(data_width)})


class ReadPortMux(wiring.Component):
    """Fixed-priority multiplexer of one memory read port.

    Parameters (keyword-only)
    ----------
    addr_width, data_width : int
        The read port's address and data widths.
    requesters : tuple of str
        The readers' names, highest priority first (each a port of the component).

    Ports
    -----
    <requester> : In(read_port_request(addr_width, data_width))
        One per name in ``requesters``.
    port : Out(...)
        ``en`` (some reader's data is used), ``addr`` out and ``data`` in: the memory's read port.
    """

    def __init__(self, *, addr_width, data_width, requesters):
        check_int("addr_width", addr_width, 0)
        check_int("data_width", data_width, 1)
        self.requesters = requesters = check_requesters(requesters)
        super().__init__({
            **{name: In(read_port_request(addr_width, data_width)) for name in requesters},
            "port": Out(read_port_request(addr_width, data_width)),
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
            m.d.comb += req.data.eq(self.port.data)
            with m.If(req.en):
                m.d.comb += [self.port.en.eq(1), self.port.addr.eq(req.addr)]
        return m
