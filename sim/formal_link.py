"""Formal properties of the host link's packet layer (:class:`boards.ulx3s.link.PacketLink`).

The solver drives the received bytes (any byte, any cycle), the core's readiness and its
response stream (which keeps the stream rules: a valid word holds, stable, until taken), and
the UART transmitter's readiness.  Asserted at every cycle:

``cmd_stable``
    A command word offered to the core and not taken is offered again, unchanged.
``tx_stable``
    Likewise a byte offered to the transmitter.
``buffer_order``
    The receive buffer's pointers keep their order, read <= commit <= write, with at most
    ``depth`` words between read and write: the writer never overwrites a word the
    forwarder has not taken, and the forwarder never passes the commit point.
``committed_only``
    A word is offered to the core only while a committed word is ahead of the read pointer:
    the words of a packet not yet checked (CRC, type, command boundaries), or rolled back
    as malformed, never reach the core.
``fsm_legal``
    The receive and transmit state machines hold one of their states (their registers
    become one-hot in synthesis, so an illegal code would be two states at once).
"""

from amaranth.hdl import Assert, Assume, Fragment, Module, Signal

from boards.ulx3s.link import PacketLink
from golden.config import preset

from .formal import past, without_reset

__all__ = ["PROPERTIES", "link_harness", "small_link_config"]

PROPERTIES = ("cmd_stable", "tx_stable", "buffer_order", "committed_only", "fsm_legal")


def small_link_config():
    """A configuration with one spike word per STEP (the packet layer needs no more)."""
    return preset("digits", n_inputs=8, hidden=(6,), n_outputs=3, lanes=2, timesteps=2)


def link_harness(*, properties=PROPERTIES, depth=2, max_words=1, timeout_cycles=5,
                 link=PacketLink, cfg=None):
    """``(module, ports)``: the packet layer with free inputs and the chosen assertions."""
    unknown = set(properties) - set(PROPERTIES)
    if unknown:
        raise ValueError(f"properties must be among {PROPERTIES}, got {sorted(unknown)}")
    m = Module()
    dut = link(cfg or small_link_config(), timeout_cycles=timeout_cycles, depth=depth,
               max_words=max_words)
    m.submodules.dut = Fragment.get(dut, None)  # elaborated here: the harness sees its internals
    obs = dut.observed
    without_reset(m)

    free = {name: Signal(width, name=name) for name, width in
            (("rx_valid", 1), ("rx_byte", 8), ("cmd_ready", 1), ("rsp_valid", 1),
             ("rsp_word", 32), ("tx_ready", 1))}
    m.d.comb += [dut.rx_byte.valid.eq(free["rx_valid"]), dut.rx_byte.payload.eq(free["rx_byte"]),
                 dut.cmd.ready.eq(free["cmd_ready"]), dut.rsp.valid.eq(free["rsp_valid"]),
                 dut.rsp.payload.eq(free["rsp_word"]), dut.tx_byte.ready.eq(free["tx_ready"])]
    # the core keeps the stream rules on its responses
    rsp_held = past(m, dut.rsp.valid & ~dut.rsp.ready, "rsp_held")
    rsp_prev = past(m, dut.rsp.payload, "rsp_prev")
    with m.If(rsp_held):
        m.d.comb += Assume(dut.rsp.valid & (dut.rsp.payload == rsp_prev))

    bits = len(obs["rd_ptr"])
    mask = (1 << bits) - 1
    used = (obs["wr_ptr"] - obs["rd_ptr"])[:bits]
    committed = (obs["commit_ptr"] - obs["rd_ptr"])[:bits]
    if "cmd_stable" in properties:
        held, prev = past(m, dut.cmd.valid & ~dut.cmd.ready, "cmd_held"), past(m, dut.cmd.payload, "cmd_prev")
        with m.If(held):
            m.d.comb += Assert(dut.cmd.valid & (dut.cmd.payload == prev), "cmd_stable")
    if "tx_stable" in properties:
        held, prev = past(m, dut.tx_byte.valid & ~dut.tx_byte.ready, "tx_held"), past(m, dut.tx_byte.payload, "tx_prev")
        with m.If(held):
            m.d.comb += Assert(dut.tx_byte.valid & (dut.tx_byte.payload == prev), "tx_stable")
    if "buffer_order" in properties:
        m.d.comb += Assert((committed <= used) & (used <= depth) & (mask >= depth), "buffer_order")
    if "committed_only" in properties:
        with m.If(dut.cmd.valid):
            m.d.comb += Assert(committed != 0, "committed_only")
    if "fsm_legal" in properties:
        for name, fsm in obs["fsms"].items():
            m.d.comb += Assert(fsm.state < len(fsm.encoding), f"fsm_legal_{name}")
    return m, list(free.values())


# --- mutations: each property shown to fail on a deliberately broken packet layer -----------
# (property, what the mutation breaks, original source text, mutated text).  Amaranth's FSM
# construct cannot leave its own encoding, so the fsm_legal mutation writes the state
# register directly, as a hand-written state machine could.
MUTATIONS = (
    ("cmd_stable", "the command's valid drops when a byte arrives",
     "with m.If(ent_v & ~is_marker):", "with m.If(ent_v & ~is_marker & ~got):"),
    ("tx_stable", "the CRC byte offered changes with the received bytes",
     "m.d.comb += [out.valid.eq(1), out.payload.eq(t_crc[:8])]",
     "m.d.comb += [out.valid.eq(1), out.payload.eq(t_crc[:8] ^ got)]"),
    ("buffer_order", "a marker is committed even when the buffer is full",
     "with m.If(mark_room):", "with m.If(mark_room | comm_eq):"),
    ("committed_only", "the forwarder reads up to the write pointer, not the commit point",
     "m.d.sync += [ent_ok.eq((rd_ptr != commit_ptr) & ~advance)",
     "m.d.sync += [ent_ok.eq((rd_ptr != wr_ptr) & ~advance)"),
    ("fsm_legal", "one type byte sends the receiver to a code that is no state",
     "        m.d.comb += tx_busy.eq(~txfsm.ongoing(\"IDLE\"))",
     "        with m.If(got & rxfsm.ongoing(\"TYPE\") & (byte == 0xA5)):\n"
     "            m.d.sync += rxfsm.state.eq(len(rxfsm.encoding))\n"
     "        m.d.comb += tx_busy.eq(~txfsm.ongoing(\"IDLE\"))"),
)


def mutated_link(original, mutated):
    """A :class:`PacketLink` class whose source has ``original`` replaced by ``mutated``
    (which must occur exactly once)."""
    import importlib.util
    import sys
    from pathlib import Path

    import boards.ulx3s.link as link_module
    text = Path(link_module.__file__).read_text()
    if text.count(original) != 1:
        raise ValueError(f"mutation target must occur once in link.py, found {text.count(original)}: "
                         f"{original!r}")
    spec = importlib.util.spec_from_loader("boards.ulx3s.link_mutant", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "boards.ulx3s"
    sys.modules[spec.name] = module
    exec(compile(text.replace(original, mutated), f"{link_module.__file__} (mutant)", "exec"),
         module.__dict__)
    return module.PacketLink
