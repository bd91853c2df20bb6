"""cocotb test module for :class:`rtl.resident_core.ResidentCore` (run by tests/test_resident.py
and by ``python -m sim.bench``'s resident stage).

Environment: ``OPZO_CONFIG`` (JSON of the CoreConfig), ``RESIDENT`` (JSON: ``n_train``,
``n_test``, ``epochs``, ``stall`` (pause probability per cycle on the host's streams and,
inside, on the feeder's command and the counter's response stream), ``seed``, ``data``
(default digits), ``sdram`` (optional: keyword arguments of
``boards.ulx3s.sdram.SdramConfig``; the DUT is then ``boards.ulx3s.resident_sdram.ResidentOnSdram``,
whose pads get :class:`sim.sdram_model.SdramModel`, and ``stall`` also pauses the store's
streams to the controller)),
``OPZO_RESULT`` (path of the JSON result written).

Everything goes through the command stream, as from a host: the store is uploaded with
STORE commands and its checksum read; every epoch is CLEAR, SHUFFLE, a training RUN, a test
RUN, COUNTERS and every confusion row of both splits.  The reference is
:class:`golden.resident_model.ResidentModel`: every response word must be equal, and after
each epoch the complete core state (weights, M, LFSRs, membranes, spikes, traces,
surrogates, latched noise, PARAM, ...) and the order memory.

With ``sdram``: after the upload the SDRAM model's cells must hold every uploaded byte where
the store's layout puts it (``sdram_data_errors``), and at the end the model must have seen
no timing violation and the controller no refresh overrun.
"""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from golden.data import load_dataset
from golden.input_encoding import quantise_pixels
from golden.resident_model import ResidentModel
from golden.resident_protocol import ResOp, header, store_commands
from sim.cocotb_core import CoreTB, load_config
from sim.cocotb_state import peek_state, state_mismatches


class ResidentTB(CoreTB):
    """The core's testbench with the resident model as the scoreboard's reference."""

    def __init__(self, dut, cfg, n_train, n_test, *, sdram=False, **kw):
        super().__init__(dut, cfg, **kw)
        # ResidentOnSdram keeps ResidentCore as its submodule "resident"
        self.inner = dut.resident if sdram else dut
        self.sdram = sdram
        self.board.model = ResidentModel(cfg, n_train, n_test)
        self.core_waits = 0         # cycles a run left the core ready with no word offered
        self.run_cycles = 0

    def check_state(self):
        count, examples = state_mismatches(peek_state(self.inner.core, self.cfg),
                                           self.board.model.core.state())
        self.state_checks += 1
        self.state_mismatches += count
        self.state_examples += examples[:10 - len(self.state_examples)]

    async def command(self, words, timeout=20_000_000):
        expected = self.board.expect(words)
        await self.driver.send_many(words)
        got = await self.monitor.recv_many(len(expected), timeout_cycles=timeout)
        for w in got:
            self.board.check(w)
        return got

    async def watch_runs(self, stall, rng):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            if stall:
                dut.pause_cmd.value = int(rng.random() < stall)
                dut.pause_resp.value = int(rng.random() < stall)
                if self.sdram:
                    dut.pause_mem.value = int(rng.random() < stall)
            await ReadOnly()
            if dut.feeding.value:
                self.run_cycles += 1
                core = self.inner.core
                if core.i_stream__ready.value and not core.i_stream__valid.value:
                    self.core_waits += 1


def sdram_model(kwargs):
    """The SDRAM model with the datasheet times of ``SdramConfig(**kwargs)`` and its clock
    (the model counts edges: its time is independent of the testbench clock)."""
    from boards.ulx3s.sdram import SdramConfig
    from sim.sdram_model import SdramModel
    c = SdramConfig(**kwargs)
    return c, SdramModel(period_ns=c.period_ns, t_rcd=c.t_rcd, t_rp=c.t_rp, t_ras=c.t_ras,
                         t_rc=c.t_rc, t_rfc=c.t_rfc, t_wr=c.t_wr, t_refi=c.t_refi,
                         powerup_ns=c.t_powerup, col_bits=c.col_bits)


def sdram_data_errors(model, col_bits, pixels, labels):
    """Uploaded bytes the SDRAM model's cells do not hold where docs/resident.md's layout puts
    them: row ``r``, byte column ``c`` (the label at ``c = n_inputs``) is byte ``c % 2`` of the
    16-bit word at ``r << stride_bits | c // 2``, rows ``2^stride_bits >= ceil((n_inputs + 1)
    / 2)`` words apart; a word address is bank : row : column.  Returns (count, examples)."""
    n = pixels.shape[1]
    stride_bits = ((n + 2) // 2 - 1).bit_length()
    count, examples = 0, []
    for r in range(len(pixels)):
        for c in range(n + 1):
            want = int(labels[r]) if c == n else int(pixels[r, c])
            addr = r << stride_bits | c // 2
            key = (addr >> (col_bits + 13), addr >> col_bits & 0x1FFF, addr & ((1 << col_bits) - 1))
            word = model.mem.get(key)
            got = None if word is None else word >> 8 * (c % 2) & 0xFF
            if got != want:
                count += 1
                if len(examples) < 5:
                    examples.append(f"sdram row {r} column {c}: {got}, uploaded {want}")
    return count, examples


@cocotb.test()
async def resident_epochs_match_golden(dut):
    cfg = load_config()
    sc = json.loads(os.environ["RESIDENT"])
    n_train, n_test, epochs = int(sc["n_train"]), int(sc["n_test"]), int(sc.get("epochs", 1))
    stall, seed = float(sc.get("stall", 0.0)), int(sc.get("seed", 0))
    ds = load_dataset(sc.get("data", "digits"))
    q = quantise_pixels(np.concatenate([ds.x_train[:n_train], ds.x_test[:n_test]]))
    y = np.concatenate([ds.y_train[:n_train], ds.y_test[:n_test]])

    sdram = sc.get("sdram")
    tb = ResidentTB(dut, cfg, n_train, n_test, seed=seed, idle=stall, stall=stall,
                    sdram=sdram is not None)
    if stall:
        dut.pause_cmd.value = 0
        dut.pause_resp.value = 0
        if sdram is not None:
            dut.pause_mem.value = 0
    pins = None
    if sdram is not None:
        from sim.sdram_pins import SdramPins
        sdram_cfg, model = sdram_model(sdram)
        # the model's first edge is the controller's first edge out of reset, so that its
        # power-up wait is checked to the cycle
        pins = SdramPins(dut, model)
    await tb.reset(on_release=pins.start if pins else None)
    cocotb.start_soon(tb.watch_runs(stall, np.random.default_rng(seed + 3)))

    t0 = tb.cycles()
    await tb.command([header(ResOp.CHECKSUM, flag=True)])
    for cmd in store_commands(q, y):
        await tb.command(cmd)
    checksum = (await tb.command([header(ResOp.CHECKSUM)]))[1]
    load_cycles = tb.cycles() - t0
    dut._log.info(f"store loaded ({len(q)} rows, checksum 0x{checksum:08x})")
    if sdram is not None:
        # the last STORE is answered when its bytes are queued: let the queue drain
        await ClockCycles(dut.clk, 64 * (sdram_cfg.cycles_of("t_rc") + 8))
        data_errors, data_examples = sdram_data_errors(model, sdram_cfg.col_bits, q, y)

    epochs_out = []
    for epoch in range(epochs):
        await tb.command([header(ResOp.CLEAR)])
        await tb.command([header(ResOp.SHUFFLE, n_train)])
        cycles = {}
        for train, count in ((True, n_train), (False, n_test)):
            c0 = tb.cycles()
            await tb.command([header(ResOp.RUN, count, flag=train)])
            cycles["train" if train else "test"] = (tb.cycles() - c0) / count
        counters = (await tb.command([header(ResOp.COUNTERS)]))[1:]
        for split in (0, 1):
            for label in range(cfg.n_outputs):
                await tb.command([header(ResOp.CONFUSION, label | split << 16)])
        tb.check_state()
        order = tb.board.model.order.order
        dut._log.info(f"epoch {epoch}: counters {counters}, order starts {order[:5].tolist()}")
        epochs_out.append({"epoch": epoch, "counters": counters,
                           "train_cycles_per_sample": cycles["train"],
                           "test_cycles_per_sample": cycles["test"]})
    await tb.finish()
    sdram_out = {}
    if sdram is not None:
        pins.stop()
        sdram_out = {"sdram_data_errors": data_errors,
                     "sdram_violations": [str(v) for v in model.violations[:20]],
                     "sdram_violation_count": len(model.violations),
                     "sdram_init_done": model.initialised,
                     "refresh_overrun": int(dut.refresh_overrun.value),
                     "sdram_words_written": model.words_written,
                     "sdram_words_read": model.words_read,
                     "sdram_refreshes": model.refreshes,
                     "sdram_commands": dict(model.counts)}
        tb.state_examples += data_examples

    result = {
        "samples": epochs * (n_train + n_test),
        "predictions_checked": len(tb.board.model.predictions),
        "word_mismatches": len(tb.board.mismatches),
        "state_mismatches": tb.state_mismatches,
        "mismatches": len(tb.board.mismatches) + tb.state_mismatches,
        "words_checked": tb.board.checked,
        "examples": tb.board.report().splitlines()[1:] + tb.state_examples,
        "load_cycles": load_cycles,
        "cycles": tb.cycles(),
        "core_wait_cycles": tb.core_waits,
        "run_cycles": tb.run_cycles,
        "stall": stall,
        "epochs": epochs_out,
        **sdram_out,
    }
    path = os.environ.get("OPZO_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=1)
    assert result["mismatches"] == 0, result["examples"]
    assert tb.board.done, "responses missing"
    if sdram is not None:
        assert data_errors == 0, data_examples
        assert not result["refresh_overrun"], "the controller saw a refresh overrun"
        model.finish()          # raises, listing them, on any timing violation
