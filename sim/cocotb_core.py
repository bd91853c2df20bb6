"""cocotb test module for :class:`rtl.core.Core` (run through :func:`sim.runner.run_cocotb`).

The scenario comes from environment variables set by the launcher (:mod:`sim.compare`):

``OPZO_CONFIG``    JSON of the :class:`golden.config.CoreConfig` fields the Verilog was built with
``OPZO_SCENARIO``  JSON: ``samples``, ``source`` (``random``, ``digits`` or ``yinyang``),
                   ``seed``, ``idle``/``stall`` (pause probabilities on the input/output
                   stream), ``check`` (``end``: full state once at the end, ``sample``: after
                   every sample, ``step``: after every time step; read from the simulator's
                   registers and memories), ``reads`` (also read the whole state back through
                   READ commands at the end), ``errors`` (interleave malformed commands after every sample, or after a
                   sample with this probability),
                   ``train_fraction``; optional: ``prelude`` (commands, lists of words, sent
                   right after reset), ``plan`` (explicit samples ``{"spikes", "label",
                   "train"}`` instead of drawn ones), ``rates`` (spike probabilities, one drawn
                   per random sample, 0 gives empty-input steps), ``host`` (probability of a
                   valid READ and WRITE between two samples), ``pipeline`` (probability that a
                   sample's commands go back to back, not waiting for each answer: the
                   core's input then stalls), ``mutants`` (saturating
                   quantities, :data:`sim.coverage.SATURATING`, each run in a golden model
                   without its clamp beside the real one: the RTL's disagreements with each
                   are counted, not asserted)
``OPZO_RESULT``    path of the JSON result this test writes

The testbench class owns the clock, reset, stream driver and monitor; the scoreboard
(:class:`sim.scenario.Scoreboard`, backed by the golden model) predicts every response word;
the checker compares each received word and records cycles per time step.  The result
carries a coverage table (:mod:`sim.coverage`): saturations, response codes, stalls, zero-d
groups skipped, empty-input steps, back-to-back samples, host accesses.  The state is read
from the simulator by :mod:`sim.cocotb_state`; the stream driver and monitor with their idle
and back-pressure inserters are :mod:`sim.stream`'s.
"""

import json
import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotb.utils import get_sim_time

from golden.config import CoreConfig
from golden.command_model import CoreModel
from golden.protocol import Op, parse_response, sample_commands
from sim import coverage
from sim.bounds import step_bound
from sim.cocotb_state import peek_state, state_mismatches
from sim.scenario import (Scoreboard, data_samples, error_commands, host_commands, random_samples,
                          state_reads)
from sim.stream import StreamDriver, StreamMonitor, random_pauses

PERIOD_NS = 10


def load_config():
    fields = json.loads(os.environ["OPZO_CONFIG"])
    fields["hidden"] = tuple(fields["hidden"])
    return CoreConfig(**fields)


class MutantBoard:
    """A golden model without one quantity's clamp, fed the commands the real one is fed:
    counts the RTL's words and state entries that differ from it (a clamp that mattered)."""

    def __init__(self, cfg, quantity):
        self.model, self.quantity = CoreModel(cfg), quantity
        self.mismatches = 0

    def command(self, words, got):
        coverage.disabled.add(self.quantity)
        coverage.counting[0] = False
        try:
            want = []
            for w in words:
                want += self.model.feed(w)
        except (OverflowError, ValueError):
            want = None                              # the unclamped value left int64 or the protocol
        finally:
            coverage.disabled.discard(self.quantity)
            coverage.counting[0] = True
        if want is None:
            self.mismatches += 1
        else:
            self.mismatches += sum(a != b for a, b in zip(got, want)) + abs(len(got) - len(want))

    def state(self, rtl):
        count, _ = state_mismatches(rtl, self.model.state())
        self.mismatches += count


class CoreTB:
    """Clock, reset, drivers, monitor and scoreboard around the core."""

    def __init__(self, dut, cfg, *, seed=0, idle=0.0, stall=0.0, mutants=()):
        self.dut, self.cfg = dut, cfg
        Clock(dut.clk, PERIOD_NS, unit="ns").start()
        self.driver = StreamDriver(dut, "i_stream", dut.clk,
                                   idle=random_pauses(seed + 1, idle) if idle else None)
        self.monitor = None
        self.stall = random_pauses(seed + 2, stall) if stall else None
        self.board = Scoreboard(cfg)
        self.state_checks = 0
        self.state_mismatches = 0
        self.state_examples = []
        self.step_cycles = []        # (cycles, bound) per training time step
        self.infer_step_cycles = []
        coverage.install()
        self.coverage = coverage.Coverage(cfg)
        self.mutants = [MutantBoard(cfg, q) for q in mutants]

    def check_state(self):
        """Compare the complete RTL state with the golden model's, entry by entry."""
        rtl = peek_state(self.dut, self.cfg)
        count, examples = state_mismatches(rtl, self.board.model.state())
        self.coverage.state(rtl)
        for m in self.mutants:
            m.state(rtl)
        self.state_checks += 1
        self.state_mismatches += count
        self.state_examples += examples[:10 - len(self.state_examples)]

    async def reset(self, on_release=None):
        """Three cycles of reset; ``on_release`` (optional) is called as the reset is released,
        before the first edge without it (where a pin model starts counting)."""
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst.value = 0
        if on_release is not None:
            on_release()
        await RisingEdge(self.dut.clk)
        self.monitor = StreamMonitor(self.dut, "o_stream", self.dut.clk, backpressure=self.stall,
                                     period_ns=PERIOD_NS)

    async def finish(self, quiet_cycles=200):
        """After the last command: wait ``quiet_cycles`` and check every word the core sent
        meanwhile (none is expected: each one is an unexpected extra word)."""
        await ClockCycles(self.dut.clk, quiet_cycles)
        while self.monitor.pending:
            self.board.check(await self.monitor.recv(timeout_cycles=1))

    async def sample(self, spikes, label, train, check):
        """One sample, command by command (the state checked after every step with
        ``check == "step"``); returns the prediction."""
        await self.command(sample_commands(spikes, label, train)[0])
        for x in spikes:
            await self.command(sample_commands([x], label, train)[1])
            if check == "step":
                self.check_state()
        got = await self.command(sample_commands(spikes, label, train)[-1])
        return int(got[1])

    async def pipelined(self, commands, timeout=200_000):
        """Send several commands back to back, without waiting for each answer (the core's
        input stalls while it is busy); every answer is received and checked in order."""
        expected = []
        for c in commands:
            words = self.board.expect(c)
            if words:
                op, status, _ = parse_response(words[0])
                self.coverage.command(op, status, self.board.model, c)
            expected.append(words)
        sender = cocotb.start_soon(self.driver.send_many([w for c in commands for w in c]))
        answers = []
        for words in expected:
            got = await self.monitor.recv_many(len(words), timeout_cycles=timeout)
            for w in got:
                self.board.check(w)
            answers.append(got)
        await sender
        for c, got in zip(commands, answers):
            for m in self.mutants:
                m.command(c, got)
        return answers

    def coverage_table(self):
        self.coverage.add("input stream: idle cycles (driver)", self.driver.idle_cycles)
        self.coverage.add("input stream: stall cycles (core not ready)", self.driver.stall_cycles)
        self.coverage.add("output stream: stall cycles (back pressure)", self.monitor.stall_cycles)
        return self.coverage.as_dict()

    def cycles(self):
        return int(get_sim_time(unit="ns")) // PERIOD_NS

    async def command(self, words, timeout=200_000):
        """Send one command, receive and check every word of its answer; returns the words."""
        core = self.board.model.core
        is_step = words[0] >> 28 == Op.STEP
        train = self.board.model.train
        x = None
        if is_step:
            n = self.cfg.n_inputs
            x = np.array([words[1 + i // 32] >> (i % 32) & 1 for i in range(n)])
        expected = self.board.expect(words)
        t0 = self.cycles()
        await self.driver.send_many(words)
        got = await self.monitor.recv_many(len(expected), timeout_cycles=timeout)
        for w in got:
            self.board.check(w)
        if expected:
            op, status, _ = parse_response(expected[0])
            self.coverage.command(op, status, self.board.model, words)
        for m in self.mutants:
            m.command(words, got)
        if is_step and (expected[0] >> 24 & 0xF) == 0:
            cyc = self.cycles() - t0
            if train:
                self.step_cycles.append((cyc, step_bound(self.cfg, x, core, True)))
            else:
                self.infer_step_cycles.append(cyc)
        return got


@cocotb.test()
async def core_matches_golden(dut):
    cfg = load_config()
    sc = json.loads(os.environ.get("OPZO_SCENARIO", "{}"))
    seed = int(sc.get("seed", 0))
    tb = CoreTB(dut, cfg, seed=seed, idle=float(sc.get("idle", 0.0)), stall=float(sc.get("stall", 0.0)),
                mutants=sc.get("mutants", ()))
    await tb.reset()
    for c in sc.get("prelude", ()):
        await tb.command(c)
    rng = np.random.default_rng(seed)
    n = int(sc.get("samples", 4))
    source = sc.get("source", "random")
    if sc.get("plan") is not None:
        samples = [("commands", p["commands"]) if "commands" in p else
                   (np.array(p["spikes"], dtype=np.int64), int(p["label"]), bool(p["train"]))
                   for p in sc["plan"]]
    elif source == "random" and sc.get("rates"):
        rates, tf = sc["rates"], float(sc.get("train_fraction", 0.75))
        samples = []
        for _ in range(n):
            rate = float(rates[int(rng.integers(len(rates)))])
            samples.append(((rng.random((cfg.timesteps, cfg.n_inputs)) < rate).astype(np.int64),
                            int(rng.integers(cfg.n_outputs)), bool(rng.random() < tf)))
    elif source == "random":
        samples = random_samples(cfg, rng, n, train_fraction=float(sc.get("train_fraction", 0.75)))
    else:
        from golden.data import load_dataset
        ds = load_dataset(source)
        samples = data_samples(cfg, ds, n, seed=cfg.seed, epoch=int(sc.get("epoch", 0)))
        if sc.get("order", "shuffled") == "shuffled" and n == len(ds.x_train):
            order = np.random.default_rng([cfg.seed, 3]).permutation(n)
            samples = [samples[i] for i in order]
    check = sc.get("check", "sample")
    t_wall = time.perf_counter()
    predictions = []
    for k, (spikes, label, *rest) in enumerate(samples):
        if isinstance(spikes, str):                  # ("commands", [...]) between samples
            for c in label:
                await tb.command(c)
            continue
        train = rest[0]
        if sc.get("pipeline") and check != "step" and rng.random() < float(sc["pipeline"]):
            answers = await tb.pipelined(sample_commands(spikes, label, train))
            predictions.append(int(answers[-1][1]))
        else:
            predictions.append(await tb.sample(spikes, label, train, check))
        errors = sc.get("errors")
        if errors is True or (errors and rng.random() < float(errors)):
            for c in error_commands(cfg, rng):
                await tb.command(c)
        if sc.get("host") and rng.random() < float(sc["host"]):
            for c in host_commands(cfg, rng, tb.board.model):
                await tb.command(c)
        if check in ("sample", "step") or k == len(samples) - 1:
            tb.check_state()
        if sc.get("reads") and k == len(samples) - 1:
            for c in state_reads(cfg):       # the same state through the READ command path
                await tb.command(c)
    await tb.finish()
    wall = time.perf_counter() - t_wall
    total_cycles = tb.cycles()
    steps = np.array([c for c, _ in tb.step_cycles]) if tb.step_cycles else np.zeros(0)
    bounds = np.array([b for _, b in tb.step_cycles]) if tb.step_cycles else np.zeros(0)
    n_samples = sum(1 for s in samples if not isinstance(s[0], str))
    result = {
        "samples": n_samples,
        "timesteps": cfg.timesteps * n_samples,
        "mismatches": len(tb.board.mismatches) + tb.state_mismatches,
        "word_mismatches": len(tb.board.mismatches),
        "state_mismatches": tb.state_mismatches,
        "state_checks": tb.state_checks,
        "words_checked": tb.board.checked,
        "cycles": total_cycles,
        "train_timesteps": int(len(steps)),
        "cycles_per_timestep": float(steps.mean()) if len(steps) else None,
        "bound_cycles_per_timestep": float(bounds.mean()) if len(bounds) else None,
        "cycles_ratio_to_bound": float(steps.sum() / bounds.sum()) if len(bounds) else None,
        "infer_cycles_per_timestep": (float(np.mean(tb.infer_step_cycles))
                                      if tb.infer_step_cycles else None),
        "sim_seconds": wall,
        "sim_cycles_per_second": total_cycles / wall if wall > 0 else None,
        "predictions": predictions,
        "report": tb.board.report() + "".join("\n  state " + e for e in tb.state_examples),
        "coverage": tb.coverage_table(),
        "mutant_mismatches": {m.quantity: int(m.mismatches) for m in tb.mutants},
    }
    path = os.environ.get("OPZO_RESULT")
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=1)
    assert not tb.board.mismatches and not tb.state_mismatches, result["report"]
    assert tb.board.done, "responses missing"
