"""cocotb test of :class:`stream_adder.StreamAdder` (run through ``sim.runner.run_cocotb``).

Parameters come from the environment (all optional):
``N_WORDS`` (500), ``SEED`` (0), ``IDLE_PROB`` (0.3, input idle cycles) and ``STALL_PROB``
(0.3, output back pressure), ``INCREMENT`` (1, the value the DUT is expected to add).
"""

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from sim.stream import StreamDriver, StreamMonitor, random_pauses

MASK = 0xFFFF_FFFF


async def reset(dut, cycles=3):
    """Hold the synchronous reset for a few cycles, then release it after a rising edge."""
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


@cocotb.test()
async def words_pass_in_order(dut):
    """Every word comes out once, in order, as word + INCREMENT, under random stalls."""
    n_words = int(os.environ.get("N_WORDS", "500"))
    seed = int(os.environ.get("SEED", "0"))
    idle_prob = float(os.environ.get("IDLE_PROB", "0.3"))
    stall_prob = float(os.environ.get("STALL_PROB", "0.3"))
    increment = int(os.environ.get("INCREMENT", "1"))

    Clock(dut.clk, 10, unit="ns").start()
    driver = StreamDriver(dut, "i_stream", dut.clk, idle=random_pauses(seed + 1, idle_prob))
    await reset(dut)
    monitor = StreamMonitor(dut, "o_stream", dut.clk,
                            backpressure=random_pauses(seed + 2, stall_prob))

    rng = random.Random(seed)
    # Edge values first: the wrap-around at 2**32 - 1 is the likeliest arithmetic slip.
    words = [0, MASK, MASK - 1, 1] + [rng.getrandbits(32) for _ in range(n_words - 4)]
    words = words[:n_words]
    sender = cocotb.start_soon(driver.send_many(words))

    got = await monitor.recv_many(n_words, timeout_cycles=1000)
    await sender
    # A duplicated or spurious transfer would show up as an extra word.
    await ClockCycles(dut.clk, 20)
    assert monitor.pending == 0, f"{monitor.pending} extra words after the last one"

    expected = [(w + increment) & MASK for w in words]
    mismatches = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert not mismatches, (
        f"{len(mismatches)} of {n_words} words wrong; first at index {mismatches[0]}: "
        f"in {words[mismatches[0]]:#010x}, out {got[mismatches[0]]:#010x}, "
        f"expected {expected[mismatches[0]]:#010x}")
    # The random inserters must actually have exercised both kinds of stall.
    if stall_prob > 0 and n_words >= 100:
        assert driver.stall_cycles > 0, "back pressure never reached the input"
    dut._log.info("%d words ok; input stalled %d cycles by back pressure",
                  n_words, driver.stall_cycles)
