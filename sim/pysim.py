"""Drive a :class:`rtl.core.Core` in Amaranth's own simulator (no Verilog needed).

Used by fast unit tests; the cocotb harness (:mod:`sim.cocotb_core`) runs the same scenarios
on the generated Verilog.  Random idle cycles on the input and random backpressure on the
output shake both streams.
"""

import numpy as np
from amaranth.sim import Simulator

__all__ = ["run_commands"]


def run_commands(dut, commands, scoreboard, *, seed=0, idle=0.0, backpressure=0.0,
                 collisions=None, quiet_cycles=64, background=()):
    """Send ``commands`` to ``dut``, checking every response word with ``scoreboard``.

    With a list as ``collisions``, every clock edge at which one of the core's
    ``no_rw_check`` or ``registered_addr`` memories (``dut.memories``) is written at the
    address that a live read (one whose data is used) asks for is appended to it as
    ``(memory name, address, cycle)``: the core promises that this never happens
    (rtl/build.py:mark_no_rw_check, rtl.memories.LaneMemory).

    After the last expected word the output is watched ``quiet_cycles`` more cycles: every
    word sent then is checked as an unexpected extra word.

    ``background`` testbenches (``async def tb(ctx)``) run alongside, e.g. a behavioural
    SDRAM behind ``ResidentCore(store="sdram")``'s ``mem`` port.

    Returns the number of clock cycles simulated (the quiet cycles not included).
    """
    rng = np.random.default_rng(seed)
    for c in commands:
        scoreboard.expect(c)
    words = [w for c in commands for w in c]
    cycles = [0]

    async def driver(ctx):
        for w in words:
            while idle and rng.random() < idle:
                await ctx.tick()
            ctx.set(dut.i_stream.payload, w)
            ctx.set(dut.i_stream.valid, 1)
            await ctx.tick().until(dut.i_stream.ready)
            ctx.set(dut.i_stream.valid, 0)

    async def monitor(ctx):
        while not scoreboard.done:
            ctx.set(dut.o_stream.ready, int(not (backpressure and rng.random() < backpressure)))
            _, _, valid, ready, payload = await ctx.tick().sample(
                dut.o_stream.valid, dut.o_stream.ready, dut.o_stream.payload)
            cycles[0] += 1
            if valid and ready:
                scoreboard.check(payload)
        # after the last expected word: any word the core still sends is an extra (checked,
        # so the scoreboard counts it as a mismatch)
        ctx.set(dut.o_stream.ready, 1)
        for _ in range(quiet_cycles):
            _, _, valid, payload = await ctx.tick().sample(dut.o_stream.valid, dut.o_stream.payload)
            if valid:
                scoreboard.check(payload)
        ctx.set(dut.o_stream.ready, 0)

    async def watch(ctx):
        mems = [(name, mem) for name, mem in dut.memories.items() if mem.no_rw_check or mem.registered_addr]
        sigs = [s for _, mem in mems for s in (mem.live, mem.read_addr, mem.wr.en, mem.wr.addr)]
        cycle = 0
        async for _, _, *vals in ctx.tick().sample(*sigs):
            for k, (name, _) in enumerate(mems):
                live, raddr, wen, waddr = vals[4 * k:4 * k + 4]
                if live and wen and raddr == waddr:
                    collisions.append((name, raddr, cycle))
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.add_testbench(monitor)
    if collisions is not None:
        sim.add_process(watch)
    for tb in background:
        sim.add_testbench(tb, background=True)
    sim.run()
    return cycles[0]
