"""cocotb test module: :class:`rtl.sdram_store.SdramStore` on the real SDRAM controller.

Run by ``tests/test_rtl_sdram_store.py`` through :func:`sim.runner.run_cocotb`; the top level
is that file's ``StoreOnController`` (the store, ``boards.ulx3s.sdram.SdramController``, the
controller's pads), the pads attached to :class:`sim.sdram_model.SdramModel`, which checks
every command against the datasheet times.

The test writes every row byte by byte in a seeded random column order (so the store's
read-modify-write path runs), then reads rows through the feeder's read port in a random
order with repeats, with the next-row hint most of the time and random pauses, checking
every pixel and label; then it rewrites two rows and reads them back.  At the end: 0 data
errors and 0 timing violations.

Environment: ``SDRAM_CONFIG`` (JSON keyword arguments of ``SdramConfig``), ``N_INPUTS``,
``N_TRAIN``, ``N_TEST``, ``SEED``.
"""

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from boards.ulx3s.sdram import SdramConfig
from sim.sdram_model import SdramModel
from sim.sdram_pins import SdramPins


def _env():
    return (SdramConfig(**json.loads(os.environ["SDRAM_CONFIG"])), int(os.environ["N_INPUTS"]),
            int(os.environ["N_TRAIN"]), int(os.environ["N_TEST"]), int(os.environ.get("SEED", "0")))


async def _write(dut, row, col, byte):
    """One byte through the write port; retried while the FIFO is full (a refused byte is
    dropped by the store, so it is simply sent again)."""
    while True:
        dut.we.value = 1
        dut.sample.value = row
        dut.col.value = col
        dut.wdata.value = byte
        await ReadOnly()
        taken = int(dut.wready.value)
        await RisingEdge(dut.clk)
        if taken:
            dut.we.value = 0
            return


async def _read_row(dut, rng, row, nxt, image, n_inputs, n_train, lanes, words):
    """The feeder's side of one sample: name the row, wait for ``ready``, give the hint, read
    every word (one-cycle latency) in random order with pauses; returns (errors, waited)."""
    split, index = (0, row) if row < n_train else (1, row - n_train)
    dut.fetch__next_valid.value = 0
    dut.read__split.value = split
    dut.read__index.value = index
    dut.read__word.value = 0
    dut.fetch__want.value = 1
    waited = 0
    while True:
        await ReadOnly()
        if int(dut.fetch__ready.value):
            break
        await RisingEdge(dut.clk)
        waited += 1
        assert waited < 5000, f"row {row} never became ready"
    await RisingEdge(dut.clk)
    if nxt is not None:
        dut.fetch__next_split.value = int(nxt >= n_train)
        dut.fetch__next_index.value = nxt - n_train if nxt >= n_train else nxt
        dut.fetch__next_valid.value = 1
    errors = []
    for w in rng.sample(range(words), words):
        dut.read__word.value = w
        await ReadOnly()
        assert int(dut.fetch__ready.value), f"row {row} lost while read"
        await RisingEdge(dut.clk)
        await ReadOnly()
        pixels, label = int(dut.read__pixels.value), int(dut.read__label.value)
        for lane in range(lanes):
            c = w * 32 + lane
            if c < n_inputs and (pixels >> (8 * lane)) & 0xFF != image[row][c]:
                errors.append((row, c, (pixels >> (8 * lane)) & 0xFF, image[row][c]))
        if label != image[row][n_inputs]:
            errors.append((row, "label", label, image[row][n_inputs]))
        await RisingEdge(dut.clk)
        if rng.random() < 0.2:
            await ClockCycles(dut.clk, rng.randint(1, 20))
    return errors, waited


@cocotb.test()
async def rows_through_the_controller(dut):
    cfg, n_inputs, n_train, n_test, seed = _env()
    rng = random.Random(seed)
    rows = n_train + n_test
    lanes, words = min(32, n_inputs), -(-n_inputs // 32)
    Clock(dut.clk, round(cfg.period_ns * 1000), unit="ps").start()
    model = SdramModel(period_ns=cfg.period_ns, t_rcd=cfg.t_rcd, t_rp=cfg.t_rp, t_ras=cfg.t_ras,
                       t_rc=cfg.t_rc, t_rfc=cfg.t_rfc, t_wr=cfg.t_wr, t_refi=cfg.t_refi,
                       powerup_ns=cfg.t_powerup, col_bits=cfg.col_bits)
    for name in ("we", "fetch__want", "fetch__next_valid"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    pins = SdramPins(dut, model).start()
    await RisingEdge(dut.clk)

    image = [[rng.randrange(256) for _ in range(n_inputs)] + [rng.randrange(10)]
             for _ in range(rows)]
    t0 = model.edge_index
    for r in rng.sample(range(rows), rows):          # before init_done too: the FIFO waits
        for c in rng.sample(range(n_inputs + 1), n_inputs + 1):
            await _write(dut, r, c, image[r][c])
    write_cycles = model.edge_index - t0

    async def read_all(sequence):
        errors, waits = [], []
        for i, row in enumerate(sequence):
            nxt = sequence[i + 1] if i + 1 < len(sequence) and rng.random() < 0.8 else None
            e, w = await _read_row(dut, rng, row, nxt, image, n_inputs, n_train, lanes, words)
            errors += e
            waits.append(w)
            if rng.random() < 0.2:                   # between runs
                dut.fetch__want.value = 0
                dut.fetch__next_valid.value = 0
                await ClockCycles(dut.clk, rng.randint(1, 50))
        dut.fetch__want.value = 0
        dut.fetch__next_valid.value = 0
        return errors, waits

    sequence = rng.sample(range(rows), rows) + [rng.randrange(rows) for _ in range(rows)]
    errors, waits = await read_all(sequence)
    rewrite = rng.sample(range(rows), 2)
    for r in rewrite:
        image[r] = [rng.randrange(256) for _ in range(n_inputs)] + [rng.randrange(10)]
        for c in rng.sample(range(n_inputs + 1), n_inputs + 1):
            await _write(dut, r, c, image[r][c])
    e2, w2 = await read_all(rewrite + rng.sample(range(rows), rows))
    errors += e2
    waits += w2
    await ClockCycles(dut.clk, 20)
    pins.stop()
    assert not int(dut.refresh_overrun.value)
    dut._log.info(f"{rows + 2} rows of {n_inputs + 1} bytes written in {write_cycles} cycles "
                  f"(incl. initialisation); {len(waits)} rows read, {len(errors)} data errors; "
                  f"waits for a row: {sorted(waits)}; model: {model.words_written} words "
                  f"written, {model.words_read} read, {model.refreshes} refreshes, "
                  f"violations {dict(model.kinds())}")
    assert not errors, f"{len(errors)} data errors, first {errors[:5]}"
    model.finish()
