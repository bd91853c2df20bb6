"""cocotb test module: resets of the core (:class:`rtl.core.Core`) in the middle of a sample,
of a command and of an answer, and between samples (docs/core_architecture.md, "Reset").

Run by ``tests/test_reset.py`` through :func:`sim.runner.run_cocotb`.  It reuses the core's
testbench (:class:`sim.cocotb_core.CoreTB`: clock, stream driver and monitor, the scoreboard
backed by :class:`golden.command_model.CoreModel`, ``peek_state``).

Environment: ``OPZO_CONFIG`` (JSON config fields), ``SEED``, ``RESET_CASES`` (JSON list of
cases, see :func:`reset_cases`), ``RESET_RESULT`` (path of a JSON summary this test writes).

Each case opens a training sample, completes ``k`` of its time steps (``k`` cycles through
``0 .. T-1``), starts the next one and asserts ``rst`` for three cycles ``offset`` cycles
after the step's last word was taken (``offset`` a fraction of a whole step's measured
duration), or at a command boundary (``start``: during START's CLEAR; ``header``: a STEP
header taken, its spike words not sent; ``write``: a WRITE's header and address taken, not
its data; ``end``: during END's argmax and answer; ``idle``: between samples).  Then:

* no word of the abandoned command comes out (for ``end``: a prefix of its answer);
* every memory entry (weights, ``M``, membranes, surrogates, traces) holds its value before
  the interrupted step or after it (the golden model run on a copy), nothing else; for
  ``idle``, ``header`` and ``write`` exactly the value before;
* the model takes :meth:`CoreModel.reset` and the RTL's memories (``load_memories``; not for
  ``idle``, ``header``, ``write``, ``end``: there the model's own memories must already be
  equal), and the complete state, registers included, is compared entry by entry;
* the core answers NOP, READs of PARAM and LFSR (their reset values), STEP and END out of a
  sample (``ERR_STATE``), then two training samples and one inference sample with the state
  compared after every time step: every word and every entry as the model says.
"""

import copy
import json
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from golden.protocol import Mem, Op, command_words, lr_shift_range, sample_commands
from sim.cocotb_core import CoreTB, load_config
from sim.cocotb_state import peek_state, state_mismatches
from sim.scenario import random_samples

MEMORIES = ("weights", "feedback", "membranes", "surrogates", "traces")
FRACTIONS = (0.02, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9)


def reset_cases():
    return json.loads(os.environ.get("RESET_CASES", json.dumps(["idle", "start", "header", "write",
                                                                 "end", *FRACTIONS])))


async def pulse_reset(dut, cycles=3):
    """``rst`` high for ``cycles`` clock edges, from a writable phase; returns after the
    first edge with ``rst`` low."""
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


def compare_memories(rtl, before, after):
    """Per memory entry: held the value before the step (``old``, where the step changes
    it), after it (``new``), or neither (``bad``); returns counts per memory kind."""
    out = {}
    for key in MEMORIES:
        c = {"old": 0, "new": 0, "bad": 0}
        for r, b, a in zip(rtl[key], before[key], after[key]):
            r, b, a = (np.asarray(v, dtype=np.int64) for v in (r, b, a))
            moved = b != a
            c["old"] += int(np.sum((r == b) & moved))
            c["new"] += int(np.sum((r == a) & moved))
            c["bad"] += int(np.sum((r != b) & (r != a)))
        out[key] = c
    return out


def phase_of(counts):
    """What the step had reached when the reset came, read from the memories it left."""
    if any(counts[k]["new"] for k in ("weights", "feedback")):
        partial = any(counts[k]["old"] for k in ("weights", "feedback"))
        return "update (partial)" if partial else "update (complete)"
    if any(counts[k]["new"] for k in ("membranes", "surrogates", "traces")):
        return "forward"
    return "nothing written"


class ResetTB(CoreTB):
    async def after_reset_checks(self):
        """The core answers, and its registers hold their reset values."""
        cfg = self.cfg
        for c in (command_words(Op.NOP), command_words(Op.READ, mem=Mem.PARAM, row=0, col=0),
                  command_words(Op.READ, mem=Mem.PARAM, row=1, col=0),
                  command_words(Op.READ, mem=Mem.LFSR, row=cfg.lanes - 1, col=0),
                  command_words(Op.READ, mem=Mem.BASELINE, row=0, col=0),
                  command_words(Op.STEP, bits=np.zeros(cfg.n_inputs, dtype=np.int64)),
                  command_words(Op.END)):
            await self.command(c)


@cocotb.test()
async def resets_mid_sample(dut):
    cfg = load_config()
    seed = int(os.environ.get("SEED", "0"))
    tb = ResetTB(dut, cfg, seed=seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    model = tb.board.model
    # registers away from their reset values first: a PARAM write, an LFSR write, training
    # (baselines, LFSR states)
    lo, hi = lr_shift_range(cfg, 0)
    rate = lo if cfg.hidden_lr_shift != lo else hi
    await tb.command(command_words(Op.WRITE, mem=Mem.PARAM, row=0, col=0, value=rate))
    await tb.command(command_words(Op.WRITE, mem=Mem.LFSR, row=0, col=0, value=0x5A5A))
    for spikes, label, _ in random_samples(cfg, rng, 1):
        await tb.sample(spikes, label, True, "sample")
    tb.check_state()
    duration = min(c for c, _ in tb.step_cycles)       # a training step, words to answer
    report = []
    for n, case in enumerate(reset_cases()):
        (spikes, label, _), = random_samples(cfg, rng, 1)
        k = n % cfg.timesteps
        cmds = sample_commands(spikes, label, True)
        memory_reload = True
        end_prefix = None
        if case == "idle":
            await tb.sample(spikes, label, True, "sample")
            before = after = model.state()
            await pulse_reset(dut)
            memory_reload = False
        elif case == "start":
            before = model.state()
            after_model = copy.deepcopy(model)
            after_model.feed(cmds[0][0])
            after = after_model.state()
            await tb.driver.send_many(cmds[0])
            await ClockCycles(dut.clk, 1)
            await pulse_reset(dut)
        elif case in ("header", "write"):
            await tb.command(cmds[0])
            for c in cmds[1:1 + k]:
                await tb.command(c)
            before = after = model.state()
            if case == "header":
                part = cmds[1 + k][:1]
            else:
                part = command_words(Op.WRITE, mem=Mem.W_OUT, row=0, col=0,
                                     value=int(model.core.weights[-1][0, 0]) ^ 1)[:2]
            await tb.driver.send_many(part)
            await ClockCycles(dut.clk, 4)
            await pulse_reset(dut)
            memory_reload = False
        elif case == "end":
            for c in cmds[:-1]:
                await tb.command(c)
            before = after = model.state()
            end_model = copy.deepcopy(model)
            end_prefix = [w for x in cmds[-1] for w in end_model.feed(x)]
            await tb.driver.send_many(cmds[-1])
            await ClockCycles(dut.clk, 2 + int(rng.integers(cfg.n_outputs + 3)))
            await pulse_reset(dut)
            memory_reload = False
        else:                                            # a fraction of a training step
            offset = max(1, int(float(case) * duration))
            await tb.command(cmds[0])
            for c in cmds[1:1 + k]:
                await tb.command(c)
            before = model.state()
            after_model = copy.deepcopy(model)
            for x in cmds[1 + k]:
                after_model.feed(x)
            after = after_model.state()
            await tb.driver.send_many(cmds[1 + k])
            await ClockCycles(dut.clk, offset)
            await pulse_reset(dut)
        await ClockCycles(dut.clk, 8)
        leaked = []
        while tb.monitor.pending:
            leaked.append(await tb.monitor.recv(timeout_cycles=1))
        if end_prefix is not None:
            assert leaked == end_prefix[:len(leaked)], f"end: {leaked} is no prefix of {end_prefix}"
        else:
            assert not leaked, f"case {case}: the abandoned command answered {leaked}"
        rtl = peek_state(dut, cfg)
        counts = compare_memories(rtl, before, after)
        bad = sum(c["bad"] for c in counts.values())
        assert bad == 0, f"case {case}: {bad} memory entries hold neither the old nor the new value: {counts}"
        model.reset()
        if memory_reload:
            model.load_memories(rtl)
        tb.check_state()                                 # registers at their reset values
        assert tb.state_mismatches == 0, f"case {case}: " + "; ".join(tb.state_examples)
        await tb.after_reset_checks()
        for s, (spikes, label, train) in enumerate(random_samples(cfg, rng, 3)):
            await tb.sample(spikes, label, s < 2, "step")
        tb.check_state()
        report.append({"case": case, "step": k, "phase": case if isinstance(case, str) else phase_of(counts),
                       "offset": None if isinstance(case, str) else max(1, int(float(case) * duration)),
                       "leaked": len(leaked), "counts": counts})
        dut._log.info(f"reset case {case!r} (step {k}): {report[-1]['phase']}, {counts}")
    await tb.finish()
    summary = {"duration": duration, "cases": report, "words_checked": tb.board.checked,
               "word_mismatches": len(tb.board.mismatches), "state_checks": tb.state_checks,
               "state_mismatches": tb.state_mismatches, "cycles": tb.cycles()}
    path = os.environ.get("RESET_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump(summary, f, indent=1)
    assert not tb.board.mismatches and not tb.state_mismatches, (
        tb.board.report() + "".join("\n  state " + e for e in tb.state_examples))
    assert tb.board.done, "responses missing"
