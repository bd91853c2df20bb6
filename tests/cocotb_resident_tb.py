"""cocotb test module for :class:`rtl.resident.Resident` (run by tests/test_resident.py).

Environment: ``OPZO_CONFIG`` (JSON of the CoreConfig), ``RESIDENT`` (JSON: ``n_train``,
``n_test``, ``epochs``, ``stall`` (pause probability per cycle on the command and the
response stream), ``seed``), ``OPZO_RESULT`` (path of the JSON result written).

The store is loaded with the first ``n_train`` / ``n_test`` digits of each split through
its host port; then every epoch is a train run and a test run started by pulses, with the
counters cleared before each epoch.  The golden model (:class:`golden.core.FixedCore`) runs
the same samples with the same ``lfsr_rate`` spikes (:mod:`golden.input_encoding`); every
prediction, every counter, every confusion entry and, after each epoch, the complete core
state must be equal.
"""

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Event, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from golden.core import FixedCore
from golden.data import load_digits_split
from golden.input_encoding import encode_lfsr_rate, quantise_pixels
from sim.cocotb_core import load_config, peek_state, state_mismatches

PERIOD_NS = 10


class Monitor:
    """Every cycle: random pauses on both streams, predictions, core idle cycles."""

    def __init__(self, dut, stall, seed):
        self.dut, self.stall = dut, stall
        self.rng = np.random.default_rng(seed)
        self.preds = []
        self.target = None
        self.done = Event()
        self.core_waits = 0          # cycles the core was ready for a word none was offered
        self.run_cycles = 0

    async def run(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            if self.stall:
                dut.pause_cmd.value = int(self.rng.random() < self.stall)
                dut.pause_resp.value = int(self.rng.random() < self.stall)
            await ReadOnly()
            if dut.busy.value:
                self.run_cycles += 1
                if dut.core.i_stream__ready.value and not dut.core.i_stream__valid.value:
                    self.core_waits += 1
            if dut.pred_valid.value:
                self.preds.append((int(dut.pred.value), int(dut.pred_label.value),
                                   int(dut.pred_train.value)))
                if self.target is not None and len(self.preds) >= self.target:
                    self.done.set()


async def pulse(dut, name):
    getattr(dut, name).value = 1
    await RisingEdge(dut.clk)
    getattr(dut, name).value = 0


@cocotb.test()
async def resident_epochs_match_golden(dut):
    cfg = load_config()
    sc = json.loads(os.environ["RESIDENT"])
    n_train, n_test, epochs = int(sc["n_train"]), int(sc["n_test"]), int(sc.get("epochs", 1))
    stall = float(sc.get("stall", 0.0))
    ds = load_digits_split()
    q_tr, y_tr = quantise_pixels(ds.x_train[:n_train]), ds.y_train[:n_train]
    q_te, y_te = quantise_pixels(ds.x_test[:n_test]), ds.y_test[:n_test]

    Clock(dut.clk, PERIOD_NS, unit="ns").start()
    for name in ("we", "start", "reseed", "clear", "train", "count"):
        getattr(dut, name).value = 0
    if stall:
        dut.pause_cmd.value = 0
        dut.pause_resp.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    # --- load the store once: one byte per cycle ---------------------------------------
    rows = [(q_tr[k], y_tr[k]) for k in range(n_train)] + [(q_te[k], y_te[k]) for k in range(n_test)]
    for r, (pix, lab) in enumerate(rows):
        for c in range(cfg.n_inputs + 1):
            dut.we.value = 1
            dut.sample.value = r
            dut.col.value = c
            dut.wdata.value = int(lab) if c == cfg.n_inputs else int(pix[c])
            await RisingEdge(dut.clk)
    dut.we.value = 0
    load_cycles = len(rows) * (cfg.n_inputs + 1)

    dut._log.info(f"store loaded ({len(rows)} samples)")
    mon = Monitor(dut, stall, int(sc.get("seed", 0)))
    cocotb.start_soon(mon.run())
    golden = FixedCore(cfg)
    m = cfg.n_outputs
    report = {"pred_mismatches": 0, "counter_mismatches": 0, "confusion_mismatches": 0,
              "state_mismatches": 0, "examples": [], "epochs": []}
    t_start = get_sim_time(unit="ns")

    for epoch in range(epochs):
        await pulse(dut, "clear")
        while True:
            await ReadOnly()
            busy = dut.counter_busy.value
            await RisingEdge(dut.clk)
            if not busy:
                break
        want_preds = []
        tr = encode_lfsr_rate(q_tr, cfg.timesteps, cfg.seed, 0, epoch, pixels=True)
        for k in range(n_train):
            want_preds.append((golden.run_sample(tr[k], int(y_tr[k]), train=True), int(y_tr[k]), 1))
        te = encode_lfsr_rate(q_te, cfg.timesteps, cfg.seed, 1, 0, pixels=True)
        for k in range(n_test):
            want_preds.append((golden.run_sample(te[k]), int(y_te[k]), 0))

        dut._log.info(f"epoch {epoch}: golden done, counters cleared")
        cycles = {}
        for train, count in ((1, n_train), (0, n_test)):
            mon.done.clear()
            mon.target = len(mon.preds) + count
            t0 = get_sim_time(unit="ns")
            dut.train.value = train
            dut.count.value = count
            await pulse(dut, "start")
            await mon.done.wait()
            await RisingEdge(dut.clk)          # the event fires in the monitor's ReadOnly phase
            cycles["train" if train else "test"] = (get_sim_time(unit="ns") - t0) / PERIOD_NS
            dut._log.info(f"epoch {epoch}: {'train' if train else 'test'} run of {count} done")
        await ClockCycles(dut.clk, 2)
        got_preds = mon.preds[-(n_train + n_test):]
        bad = [k for k, (a, b) in enumerate(zip(got_preds, want_preds)) if a != b]
        report["pred_mismatches"] += len(bad)
        report["examples"] += [f"epoch {epoch} sample {k}: rtl {got_preds[k]}, golden {want_preds[k]}"
                               for k in bad[:5]]

        await ReadOnly()
        want_counts = {
            "train_seen": n_train,
            "train_correct": sum(p == y for p, y, t in want_preds if t),
            "test_seen": n_test,
            "test_correct": sum(p == y for p, y, t in want_preds if not t),
            "errors": 0,
        }
        got_counts = {k: int(getattr(dut, k).value) for k in want_counts}
        for k in want_counts:
            if got_counts[k] != want_counts[k]:
                report["counter_mismatches"] += 1
                report["examples"].append(f"epoch {epoch} {k}: rtl {got_counts[k]}, golden {want_counts[k]}")
        want_cm = np.zeros((2, m, m), dtype=int)
        for p, y, t in want_preds:
            want_cm[0 if t else 1, y, p] += 1
        await RisingEdge(dut.clk)
        for s in range(2):
            for y in range(m):
                for p in range(m):
                    dut.cm_split.value = s
                    dut.cm_label.value = y
                    dut.cm_pred.value = p
                    await RisingEdge(dut.clk)
                    await ReadOnly()
                    if int(dut.cm_count.value) != want_cm[s, y, p]:
                        report["confusion_mismatches"] += 1
                    await RisingEdge(dut.clk)
        count, examples = state_mismatches(peek_state(dut.core, cfg), golden.state())
        report["state_mismatches"] += count
        report["examples"] += examples[:5]
        report["epochs"].append({
            "epoch": epoch, **got_counts,
            "train_cycles_per_sample": cycles["train"] / n_train,
            "test_cycles_per_sample": cycles["test"] / n_test,
        })

    report.update({
        "samples": epochs * (n_train + n_test),
        "predictions_checked": len(mon.preds),
        "mismatches": report["pred_mismatches"] + report["counter_mismatches"]
        + report["confusion_mismatches"] + report["state_mismatches"],
        "load_cycles": load_cycles,
        "cycles": (get_sim_time(unit="ns") - t_start) / PERIOD_NS,
        "core_wait_cycles": mon.core_waits,
        "run_cycles": mon.run_cycles,
        "stall": stall,
    })
    path = os.environ.get("OPZO_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
    assert report["mismatches"] == 0, report
