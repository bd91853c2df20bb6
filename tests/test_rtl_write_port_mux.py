"""The write-port multiplexer (rtl/write_port_mux.py): parameters, and in Amaranth's simulator
that the port takes the highest-priority valid requester's fields (or is idle), on random
requests, against a reference written from the priority list."""

import random

import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from rtl.memories import WRITERS
from rtl.write_port_mux import WritePortMux

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")

KW = dict(addr_width=5, en_width=4, data_width=16)


def test_init():
    mux = WritePortMux(**KW, requesters=("engine", "host"))
    assert mux.requesters == ("engine", "host")
    assert len(mux.engine.addr) == 5 and len(mux.host.en) == 4 and len(mux.port.data) == 16
    assert mux.request("host") is mux.host
    with pytest.raises(KeyError):
        mux.request("forward")
    Fragment.get(mux, None)


@pytest.mark.parametrize("name", ["addr_width", "en_width", "data_width"])
@pytest.mark.parametrize("value, exc", [("4", TypeError), (-1, ValueError)])
def test_init_wrong_widths(name, value, exc):
    with pytest.raises(exc, match=name):
        WritePortMux(**{**KW, name: value}, requesters=("a",))


@pytest.mark.parametrize("requesters, exc", [("host", TypeError), ((), ValueError), (("a", "a"), ValueError),
                                             (("port",), ValueError), (("a b",), ValueError), ((3,), ValueError)])
def test_init_wrong_requesters(requesters, exc):
    with pytest.raises(exc, match="requester"):
        WritePortMux(**KW, requesters=requesters)


def test_init_positional():
    with pytest.raises(TypeError):
        WritePortMux(5, 4, 16, ("a",))


def test_writers_lists():
    """Every memory kind has a non-empty priority list; the host, when it writes a memory,
    is its lowest priority (its request is always valid)."""
    for kind, names in WRITERS.items():
        WritePortMux(**KW, requesters=names)
        assert "host" not in names[:-1], kind


@pytest.mark.parametrize("requesters", [("a",), ("forward", "clear"), ("x", "y", "z")])
def test_priority(requesters):
    mux = WritePortMux(**KW, requesters=requesters)
    rng = random.Random(len(requesters))

    async def bench(ctx):
        for _ in range(200):
            want = (0, 0, 0)
            for name in reversed(requesters):        # lowest first: the last valid one wins
                req = getattr(mux, name)
                fields = (rng.randrange(32), rng.randrange(16), rng.randrange(1 << 16))
                valid = rng.random() < 0.4
                ctx.set(req.valid, valid)
                ctx.set(req.addr, fields[0])
                ctx.set(req.en, fields[1])
                ctx.set(req.data, fields[2])
                if valid:
                    want = fields
            await ctx.delay(1e-9)
            assert (ctx.get(mux.port.addr), ctx.get(mux.port.en), ctx.get(mux.port.data)) == want

    sim = Simulator(mux)
    sim.add_testbench(bench)
    sim.run()
