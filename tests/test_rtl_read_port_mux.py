"""The read-port multiplexer (rtl/read_port_mux.py): parameters, and in Amaranth's simulator
that the port takes the address of the highest-priority reader whose ``en`` is set (0 when
none is), raises its ``en`` when any reader's is, and hands the word read to every reader,
on random requests, against a reference written from the priority list."""

import random

import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from rtl.memories import READERS, WRITERS
from rtl.read_port_mux import ReadPortMux

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")

KW = dict(addr_width=5, data_width=16)


def test_init():
    mux = ReadPortMux(**KW, requesters=("engine", "host"))
    assert mux.requesters == ("engine", "host")
    assert len(mux.engine.addr) == 5 and len(mux.host.data) == 16 and len(mux.port.addr) == 5
    assert mux.request("host") is mux.host
    with pytest.raises(KeyError):
        mux.request("forward")
    Fragment.get(mux, None)


@pytest.mark.parametrize("name", ["addr_width", "data_width"])
@pytest.mark.parametrize("value, exc", [("4", TypeError), (-1, ValueError)])
def test_init_wrong_widths(name, value, exc):
    with pytest.raises(exc, match=name):
        ReadPortMux(**{**KW, name: value}, requesters=("a",))


@pytest.mark.parametrize("requesters, exc", [("host", TypeError), ((), ValueError), (("a", "a"), ValueError),
                                             (("port",), ValueError), (("a b",), ValueError), ((3,), ValueError)])
def test_init_wrong_requesters(requesters, exc):
    with pytest.raises(exc, match="requester"):
        ReadPortMux(**KW, requesters=requesters)


def test_init_positional():
    with pytest.raises(TypeError):
        ReadPortMux(5, 16, ("a",))


def test_readers_lists():
    """Every memory kind has a non-empty list of readers, and the memories the host reads
    or writes it reads."""
    assert set(READERS) == set(WRITERS)
    for kind, names in READERS.items():
        ReadPortMux(**KW, requesters=names)
        assert kind == "surrogate" or "host" in names, kind


@pytest.mark.parametrize("requesters", [("a",), ("forward", "host"), ("x", "y", "z")])
def test_priority(requesters):
    mux = ReadPortMux(**KW, requesters=requesters)
    rng = random.Random(len(requesters))

    async def bench(ctx):
        for _ in range(200):
            want_addr, want_en = 0, 0
            for name in reversed(requesters):        # lowest first: the last enabled one wins
                req = getattr(mux, name)
                addr, en = rng.randrange(32), rng.random() < 0.4
                ctx.set(req.en, en)
                ctx.set(req.addr, addr)
                if en:
                    want_addr, want_en = addr, 1
            data = rng.randrange(1 << 16)
            ctx.set(mux.port.data, data)
            await ctx.delay(1e-9)
            assert (ctx.get(mux.port.addr), ctx.get(mux.port.en)) == (want_addr, want_en)
            assert [ctx.get(getattr(mux, name).data) for name in requesters] == [data] * len(requesters)

    sim = Simulator(mux)
    sim.add_testbench(bench)
    sim.run()
