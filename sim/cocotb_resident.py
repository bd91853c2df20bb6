"""cocotb test module for :class:`rtl.resident_core.ResidentCore` (run by tests/test_resident.py
and by ``python -m sim.bench``'s resident stage).

Environment: ``OPZO_CONFIG`` (JSON of the CoreConfig), ``RESIDENT`` (JSON: ``n_train``,
``n_test``, ``epochs``, ``stall`` (pause probability per cycle on the host's streams and,
inside, on the feeder's command and the counter's response stream), ``seed``, ``data``
(default digits)),
``OPZO_RESULT`` (path of the JSON result written).

Everything goes through the command stream, as from a host: the store is uploaded with
STORE commands and its checksum read; every epoch is CLEAR, SHUFFLE, a training RUN, a test
RUN, COUNTERS and every confusion row of both splits.  The reference is
:class:`golden.resident_model.ResidentModel`: every response word must be equal, and after
each epoch the complete core state (weights, M, LFSRs, membranes, spikes, traces,
surrogates, latched noise, PARAM, ...) and the order memory.
"""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from golden.data import load_dataset
from golden.input_encoding import quantise_pixels
from golden.resident_model import ResidentModel
from golden.resident_protocol import ResOp, header, store_commands
from sim.cocotb_core import CoreTB, load_config, peek_state, state_mismatches


class ResidentTB(CoreTB):
    """The core's testbench with the resident model as the scoreboard's reference."""

    def __init__(self, dut, cfg, n_train, n_test, **kw):
        super().__init__(dut, cfg, **kw)
        self.board.model = ResidentModel(cfg, n_train, n_test)
        self.core_waits = 0         # cycles a run left the core ready with no word offered
        self.run_cycles = 0

    def check_state(self):
        count, examples = state_mismatches(peek_state(self.dut.core, self.cfg),
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
            await ReadOnly()
            if dut.feeding.value:
                self.run_cycles += 1
                if dut.core.i_stream__ready.value and not dut.core.i_stream__valid.value:
                    self.core_waits += 1


@cocotb.test()
async def resident_epochs_match_golden(dut):
    cfg = load_config()
    sc = json.loads(os.environ["RESIDENT"])
    n_train, n_test, epochs = int(sc["n_train"]), int(sc["n_test"]), int(sc.get("epochs", 1))
    stall, seed = float(sc.get("stall", 0.0)), int(sc.get("seed", 0))
    ds = load_dataset(sc.get("data", "digits"))
    q = quantise_pixels(np.concatenate([ds.x_train[:n_train], ds.x_test[:n_test]]))
    y = np.concatenate([ds.y_train[:n_train], ds.y_test[:n_test]])

    tb = ResidentTB(dut, cfg, n_train, n_test, seed=seed, idle=stall, stall=stall)
    if stall:
        dut.pause_cmd.value = 0
        dut.pause_resp.value = 0
    await tb.reset()
    cocotb.start_soon(tb.watch_runs(stall, np.random.default_rng(seed + 3)))

    t0 = tb.cycles()
    await tb.command([header(ResOp.CHECKSUM, flag=True)])
    for cmd in store_commands(q, y):
        await tb.command(cmd)
    checksum = (await tb.command([header(ResOp.CHECKSUM)]))[1]
    load_cycles = tb.cycles() - t0
    dut._log.info(f"store loaded ({len(q)} rows, checksum 0x{checksum:08x})")

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
    }
    path = os.environ.get("OPZO_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=1)
    assert result["mismatches"] == 0, result["examples"]
    assert tb.board.done, "responses missing"
