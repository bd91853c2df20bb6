"""cocotb test module: :class:`boards.ulx3s.sdram.SdramController` against the SDRAM model.

Run by ``tests/test_sdram.py`` through :func:`sim.runner.run_cocotb`.  The controller's pads
are attached to :class:`sim.sdram_model.SdramModel` (:class:`sim.sdram_pins.SdramPins`),
which stores the data and checks every command against the datasheet times (in ns, from
the same configuration, independently of the controller's cycle conversion).

The stress test issues seeded random requests (writes and reads, lengths 1 to ``MAX_LEN``
words plus some that cross rows, in three address regions: the first rows, across the
bank 0 / bank 1 boundary, the last rows of the memory), random idle cycles on the write
data, random back-pressure on the read data, random gaps between requests.  Every word
read is checked: against a reference dict where the test wrote it, else against the
model's power-up contents (a hash of the address).  At the end the model must
report no violation (or exactly the kinds in ``EXPECT``) and the refresh count must match
the elapsed time.

Environment: ``SDRAM_CONFIG`` (JSON keyword arguments of ``SdramConfig``), ``OVERRIDES``
(JSON test-only cycle overrides, reported only), ``N_REQUESTS``, ``MAX_LEN``, ``SEED``,
``EXPECT`` (JSON list of violation kinds that must be exactly the ones seen; empty: none).
"""

import json
import math
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from boards.ulx3s.sdram import ROW_BITS, SdramConfig
from sim.sdram_model import SdramModel
from sim.sdram_pins import SdramPins
from sim.stream import StreamDriver, StreamMonitor, random_pauses


def _config():
    return SdramConfig(**json.loads(os.environ["SDRAM_CONFIG"]))


def _model(cfg):
    return SdramModel(period_ns=cfg.period_ns, t_rcd=cfg.t_rcd, t_rp=cfg.t_rp, t_ras=cfg.t_ras,
                      t_rc=cfg.t_rc, t_rfc=cfg.t_rfc, t_wr=cfg.t_wr, t_refi=cfg.t_refi,
                      powerup_ns=cfg.t_powerup, col_bits=cfg.col_bits)


async def _start(dut, cfg):
    period = round(cfg.period_ns * 1000)       # ps; the clock needs an integer period
    Clock(dut.clk, period, unit="ps").start()
    model = _model(cfg)
    dut.rst.value = 1
    dut.cmd__valid.value = 0
    dut.wdata__valid.value = 0
    dut.rdata__ready.value = 0
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    pins = SdramPins(dut, model).start()
    limit = cfg.cycles_of("t_powerup") + 200
    for _ in range(limit):
        await RisingEdge(dut.clk)
        if int(dut.init_done.value):
            break
    else:
        raise AssertionError(f"init_done not set after {limit} cycles")
    return model, pins


def _pack(cfg, addr, length, write, length_bits=16):
    # StructLayout: addr (addr_bits), length (length_bits), write (1), LSB first
    return addr | length << cfg.addr_bits | int(write) << (cfg.addr_bits + length_bits)


@cocotb.test()
async def stress(dut):
    cfg = _config()
    seed = int(os.environ.get("SEED", "0"))
    n_requests = int(os.environ.get("N_REQUESTS", "100"))
    max_len = int(os.environ.get("MAX_LEN", "48"))
    expect = set(json.loads(os.environ.get("EXPECT", "[]")))
    rng = random.Random(seed)
    model, pins = await _start(dut, cfg)
    t0_cycles = model.edge_index

    cmd = StreamDriver(dut, "cmd", dut.clk)
    wdata = StreamDriver(dut, "wdata", dut.clk, idle=random_pauses(seed + 1, 0.15))
    rdata = StreamMonitor(dut, "rdata", dut.clk, backpressure=random_pauses(seed + 2, 0.3),
                          period_ns=cfg.period_ns)

    size = 1 << cfg.addr_bits
    row = 1 << cfg.col_bits
    bank = 1 << (cfg.col_bits + ROW_BITS)
    regions = [(0, 4 * row), (bank - 2 * row, bank + 2 * row), (size - 4 * row, size)]
    ref = {}                 # word address -> value written
    expected = []            # (address, value written or None) of every word read, in order
    words_written = bursts = 0
    for k in range(n_requests):
        lo, hi = rng.choice(regions)
        length = rng.randint(1, max_len) if rng.random() < 0.9 else rng.randint(row // 2, row + 16)
        length = min(length, hi - lo)
        # reads mostly start where something was written
        write = not ref or rng.random() < 0.5
        if not write and rng.random() < 0.8:
            start = rng.choice(list(ref)) - rng.randint(0, 4)
            start = max(0, min(start, size - length))
        else:
            start = rng.randint(lo, hi - length)
        start %= size
        await cmd.send(_pack(cfg, start, length, write))
        bursts += 1
        if write:
            values = [rng.getrandbits(16) for _ in range(length)]
            for i, v in enumerate(values):
                ref[(start + i) % size] = v
            await wdata.send_many(values)
            words_written += length
        else:
            expected += [((start + i) % size, ref.get((start + i) % size)) for i in range(length)]
        if rng.random() < 0.1:
            await ClockCycles(dut.clk, rng.randint(1, 40))
    got = await rdata.recv_many(len(expected), timeout_cycles=5000)
    from_writes = sum(want is not None for _, want in expected)
    await ClockCycles(dut.clk, 50)
    assert rdata.pending == 0, f"{rdata.pending} read words more than requested"
    # never-written words hold the model's power-up contents, predictable by address
    col_mask, row_mask = (1 << cfg.col_bits) - 1, (1 << ROW_BITS) - 1
    expected = [(a, want if want is not None else model.initial_word(
        a >> (cfg.col_bits + ROW_BITS), a >> cfg.col_bits & row_mask, a & col_mask))
        for a, want in expected]
    errors = [(a, want, g) for (a, want), g in zip(expected, got) if g != want]
    checked = len(got)
    await ReadOnly()
    elapsed_cycles = model.edge_index - t0_cycles
    elapsed_ns = model.now - model.init_done_ns
    pins.stop()
    rdata.stop()
    assert not int(dut.refresh_overrun.value), "controller reported a refresh overrun"
    low = math.floor(elapsed_ns / cfg.t_refi)
    high = math.floor(elapsed_ns / (cfg.refresh_period * cfg.period_ns)) + 1
    dut._log.info(
        f"{bursts} bursts, {words_written} words written, "
        f"{len(expected)} words read and checked ({from_writes} of them written by the "
        f"test, the others the model's power-up contents), "
        f"{len(errors)} data errors; {elapsed_cycles} cycles, {model.refreshes} refreshes "
        f"(expected {low}..{high} for {elapsed_ns / 1000:.1f} us); commands "
        f"{dict(model.counts)}; violations {dict(model.kinds())}")
    assert not errors, f"{len(errors)} data errors, first {errors[:5]}"
    assert checked == len(expected) and from_writes > 0
    assert (model.words_written, model.words_read) == (words_written, len(expected)), (
        f"model saw {model.words_written} words written and {model.words_read} read")
    if expect:
        kinds = set(model.kinds())
        assert kinds == expect, f"expected exactly {expect} violations, model saw:\n{model.report()}"
        dut._log.info(f"model flagged {model.report()}")
    else:
        model.finish()
        assert low <= model.refreshes <= high, (
            f"{model.refreshes} refreshes in {elapsed_ns:.0f} ns, expected {low}..{high}")


@cocotb.test()
async def throughput(dut):
    """Sequential write then read of ``THROUGHPUT_WORDS`` words (many rows) with neither
    stream ever stalling: words per cycle, including row changes and refreshes."""
    cfg = _config()
    n = int(os.environ.get("THROUGHPUT_WORDS", "8192"))
    model, pins = await _start(dut, cfg)
    cmd = StreamDriver(dut, "cmd", dut.clk)
    wdata = StreamDriver(dut, "wdata", dut.clk)
    rdata = StreamMonitor(dut, "rdata", dut.clk, period_ns=cfg.period_ns)
    rng = random.Random(5)
    values = [rng.getrandbits(16) for _ in range(n)]
    start = 3 << cfg.col_bits          # row-aligned, like a stored data set
    rates = {}
    for write in (True, False):
        await cmd.send(_pack(cfg, start, n, write))
        t0 = model.edge_index
        if write:
            await wdata.send_many(values)
        else:
            got = await rdata.recv_many(n, timeout_cycles=1000)
            assert got == values, "sequential read differs from what was written"
        cycles = model.edge_index - t0
        rates["write" if write else "read"] = (cycles, n / cycles)
        await ClockCycles(dut.clk, 20)
    pins.stop()
    rdata.stop()
    model.finish()
    mhz = cfg.clk_freq / 1e6
    dut._log.info("throughput at %g MHz, %d words: %s; refreshes %d" % (mhz, n, "; ".join(
        f"{k} {c} cycles, {r:.3f} words/cycle = {2 * r * mhz:.1f} MB/s"
        for k, (c, r) in rates.items()), model.refreshes))
    for kind, (_, r) in rates.items():
        assert r > 0.9, f"sequential {kind} below 0.9 words/cycle: {r:.3f}"


@cocotb.test()
async def refresh_under_stall(dut):
    """Refresh is never starved by a stalled request: a write whose data stops coming and a
    read whose data is not taken each hold their request open for 3 x tREFI; the model must
    see no tREFI violation, and the data must still be right afterwards.  A zero-length
    request in between does nothing."""
    cfg = _config()
    model, pins = await _start(dut, cfg)
    cmd = StreamDriver(dut, "cmd", dut.clk)
    wdata = StreamDriver(dut, "wdata", dut.clk)
    stall = [False]
    rdata = StreamMonitor(dut, "rdata", dut.clk, backpressure=lambda: stall[0])
    refi_cycles = cfg.cycles_of("t_refi")
    start, n = (1 << cfg.col_bits) - 20, 64          # crosses a row boundary
    values = [(0x5A00 + i) & 0xFFFF for i in range(n)]
    await cmd.send(_pack(cfg, start, n, True))
    await wdata.send_many(values[:10])
    before = model.refreshes
    await ClockCycles(dut.clk, 3 * refi_cycles)           # no write data for 3 x tREFI
    assert model.refreshes - before >= 3, "refresh starved by a stalled write"
    await wdata.send_many(values[10:])
    await cmd.send(_pack(cfg, 0, 0, False))               # length 0: nothing
    stall[0] = True
    await cmd.send(_pack(cfg, start, n, False))
    before = model.refreshes
    await ClockCycles(dut.clk, 3 * refi_cycles)           # read data not taken
    assert model.refreshes - before >= 3, "refresh starved by a stalled read"
    stall[0] = False
    got = await rdata.recv_many(n, timeout_cycles=1000)
    await ClockCycles(dut.clk, 20)
    assert rdata.pending == 0
    pins.stop()
    rdata.stop()
    assert got == values, "data wrong after stalls"
    model.finish()
    dut._log.info(f"stalled write and read: {model.refreshes} refreshes in "
                  f"{(model.now - model.init_done_ns) / 1000:.1f} us, no violation")
