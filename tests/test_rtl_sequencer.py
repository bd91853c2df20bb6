"""The sequencer (rtl/sequencer.py), a component, on its own in Amaranth's simulator with stub
handshakes in place of the passes and the host access unit: the response words of a command
sequence (every error status, START's CLEAR, STEPs of a training sample through FORWARD,
STEP_END, LEARN and DRAIN, READ / WRITE through ACCESS, END's argmax over given totals), the
statuses the command model (:class:`golden.command_model.CoreModel`) gives the same commands,
and the strobes: one ``step_start`` and one ``learn_start`` per step, ``clear`` once per word
group."""

import numpy as np
import pytest
from amaranth.hdl import Fragment, signed
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from golden.command_model import CoreModel
from golden.config import preset
from golden.protocol import Mem, Op, Status, command_words, parse_response, response
from rtl.sequencer import Sequencer

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")

SMALL = dict(n_inputs=40, hidden=(5, 3), n_outputs=4, lanes=2, timesteps=2)


def test_init():
    cfg = preset("digits", **SMALL)
    unit = Sequencer(cfg=cfg)
    assert len(unit.x) == 40 and len(unit.total) == 4 and len(unit.label) == 2
    assert unit.signature.members["total"].shape == signed(cfg.output_bits + 2)
    assert unit.clear_words == 20 and len(unit.clear_group) == 5        # groups(40) = 20 words
    assert unit.signature.members["i_stream"].flow == In and unit.signature.members["o_stream"].flow == Out
    Fragment.get(unit, None)                                           # elaborates


def test_init_wrong_cfg():
    with pytest.raises(TypeError, match="cfg must be a CoreConfig"):
        Sequencer(cfg={"n_outputs": 3})


def test_init_positional():
    with pytest.raises(TypeError):
        Sequencer(preset("digits"))


def _commands(cfg, rng):
    """(command words, what the stubs answer) pairs; the stub answer is a host access's
    (status, count, value) for READ / WRITE."""
    x = [rng.integers(0, 2, size=cfg.n_inputs) for _ in range(3)]
    return [
        (command_words(Op.NOP), None),
        ([9 << 28], None),                                                  # unknown opcode
        (command_words(Op.END), None),                                      # END without START
        (command_words(Op.STEP, bits=x[0]), None),                          # STEP without START
        (command_words(Op.START, train=True, label=cfg.n_outputs), None),   # label out of range
        (command_words(Op.START, train=True, label=2), None),
        (command_words(Op.STEP, bits=x[0]), None),
        (command_words(Op.READ, mem=Mem.W1, row=1, col=2), (Status.OK, 1, 0xDEADBEEF)),
        (command_words(Op.STEP, bits=x[1]), None),
        (command_words(Op.STEP, bits=x[2]), None),                          # more STEPs than timesteps
        (command_words(Op.WRITE, mem=Mem.W1, row=1, col=2, value=1 << 20), (Status.ERR_VALUE, 0, 0)),
        (command_words(Op.READ, mem=Mem.W1, row=99, col=0), (Status.ERR_ADDR, 0, 0)),
        (command_words(Op.END), None),
        (command_words(Op.END), None),                                      # the sample is closed
        (command_words(Op.START, train=False, label=0), None),
        (command_words(Op.STEP, bits=x[0]), None),
    ]


def _expected(cfg, commands, totals):
    words = []
    pred = int(np.argmax(totals))                   # the first maximum
    active, steps = False, 0
    for cmd, host in commands:
        op = cmd[0] >> 28
        if op == Op.NOP:
            words.append([response(op, Status.OK)])
        elif op == Op.START:
            ok = (cmd[0] & 0xFFFF) < cfg.n_outputs
            active, steps = active or ok, 0 if ok else steps
            words.append([response(op, Status.OK if ok else Status.ERR_LABEL)])
        elif op == Op.STEP:
            ok = active and steps < cfg.timesteps
            steps += ok
            words.append([response(op, Status.OK if ok else Status.ERR_STATE)])
        elif op == Op.END:
            if active:
                words.append([response(op, Status.OK, 1 + cfg.n_outputs), pred, *(t & 0xFFFFFFFF for t in totals)])
            else:
                words.append([response(op, Status.ERR_STATE)])
            active = False
        elif op in (Op.READ, Op.WRITE):
            status, count, value = host
            words.append([response(op, status, count)] + [value] * count)
        else:
            words.append([response(op, Status.ERR_OPCODE)])
    return words


@pytest.mark.parametrize("seed", [0, 1])
def test_responses_with_stub_handshakes(seed):
    cfg = preset("digits", **SMALL)
    unit = Sequencer(cfg=cfg)
    rng = np.random.default_rng(seed)
    commands = _commands(cfg, rng)
    hi = 1 << (unit.total_bits - 1)
    totals = [int(t) for t in rng.integers(-hi, hi, size=cfg.n_outputs)]
    totals[3] = totals[1] = hi - 1                 # a tie: the first maximum wins
    want = _expected(cfg, commands, totals)
    flat = [w for r in want for w in r]
    cmd_words = [w for cmd, _ in commands for w in cmd]
    got, strobes, seen = [], {"step_start": 0, "learn_start": 0, "clear": 0, "error": 0}, {}

    async def bench(ctx):
        """One loop per cycle: the streams (random gaps and back-pressure) and the passes and
        host access as stubs, each answering a few cycles after its strobe."""
        for k in range(cfg.n_outputs):
            ctx.set(unit.total[k], totals[k])
        for sig in (unit.trace_idle, unit.hidden_idle, unit.readout_idle):
            ctx.set(sig, 1)
        pending, host, ci = [], iter(h for _, h in commands if h is not None), 0
        for cycle in range(5000):
            for sig, value in [(s, v) for when, s, v in pending if when == cycle]:
                ctx.set(sig, value)
            pending = [p for p in pending if p[0] > cycle]
            valid = ci < len(cmd_words) and rng.random() < 0.7
            ctx.set(unit.i_stream.valid, valid)
            ctx.set(unit.i_stream.payload, cmd_words[ci] if valid else 0)
            ctx.set(unit.o_stream.ready, int(rng.random() < 0.7))
            if valid and ctx.get(unit.i_stream.ready):
                ci += 1
            if ctx.get(unit.o_stream.valid) and ctx.get(unit.o_stream.ready):
                got.append(ctx.get(unit.o_stream.payload))
            for name in strobes:
                strobes[name] += ctx.get(getattr(unit, name))
            if ctx.get(unit.clear):
                seen.setdefault("clear_groups", []).append(ctx.get(unit.clear_group))
            if ctx.get(unit.step_start):
                seen.setdefault("x", []).append(ctx.get(unit.x))
                pending += [(cycle + 3, unit.forward_done, 1), (cycle + 4, unit.forward_done, 0),
                            (cycle + 3, unit.trace_idle, 0), (cycle + 6, unit.trace_idle, 1)]
            if ctx.get(unit.learn_start):
                assert ctx.get(unit.training) and ctx.get(unit.label) == 2
                pending += [(cycle + 1, unit.readout_jobs, 1), (cycle + 1, unit.hidden_idle, 0),
                            (cycle + 4, unit.learn_done, 1), (cycle + 5, unit.learn_done, 0),
                            (cycle + 5, unit.feedback_writing, 1), (cycle + 7, unit.feedback_writing, 0),
                            (cycle + 8, unit.readout_jobs, 0), (cycle + 9, unit.hidden_idle, 1)]
            if ctx.get(unit.host_start):
                status, count, value = next(host)
                pending += [(cycle + 2, unit.host_done, 1), (cycle + 2, unit.host_status, status),
                            (cycle + 2, unit.host_count, count), (cycle + 3, unit.host_done, 0),
                            (cycle + 3, unit.host_value, value)]
            await ctx.tick()
            if len(got) == len(flat):
                break
        assert ctx.get(unit.active) and not ctx.get(unit.training)   # the inference sample is open

    sim = Simulator(unit)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == flat
    steps_ok = sum(1 for r in want if parse_response(r[0])[:2] == (Op.STEP, Status.OK))
    assert strobes["step_start"] == steps_ok == 3
    ok_steps = [cmd for (cmd, _), r in zip(commands, want) if parse_response(r[0])[:2] == (Op.STEP, Status.OK)]
    assert seen["x"] == [sum(w << 32 * i for i, w in enumerate(cmd[1:])) & ((1 << cfg.n_inputs) - 1)
                         for cmd in ok_steps]
    assert strobes["learn_start"] == 2                 # the two steps of the training sample
    assert seen["clear_groups"] == list(range(unit.clear_words)) * 2
    assert strobes["error"] == sum(1 for r in want if parse_response(r[0])[1] != Status.OK)
    # the command model gives the same statuses to the commands whose answer the stubs do not set
    model = CoreModel(cfg)
    for (cmd, host), resp in zip(commands, want):
        answer = [w for word in cmd for w in model.feed(word)]
        if host is None and cmd[0] >> 28 != Op.END:
            assert answer == resp, [hex(w) for w in cmd]


@pytest.mark.parametrize("antithetic", [False, True])
def test_pair_second_marks_odd_training_steps(antithetic):
    # pair_second while each step's forward pass runs: high on the odd steps of a training
    # sample, counted from its START (a sample ended after an odd number of steps does not
    # shift the next one's pairs), never in inference, always 0 without the option
    cfg = preset("digits", **{**SMALL, "timesteps": 4}, antithetic=antithetic)
    unit = Sequencer(cfg=cfg)
    x = command_words(Op.STEP, bits=np.ones(cfg.n_inputs, dtype=np.int64))
    start = [command_words(Op.START, train=train, label=1) for train in (False, True)]
    end = command_words(Op.END)
    words = [w for cmd in [start[1], x, x, x, end, start[1], x, x, end, start[0], x, x, end] for w in cmd]
    want = [0, 1, 0, 0, 1, 0, 0] if antithetic else [0] * 7
    seen = []

    async def bench(ctx):
        for sig in (unit.trace_idle, unit.hidden_idle, unit.readout_idle, unit.o_stream.ready):
            ctx.set(sig, 1)
        wi, pending = 0, []
        for cycle in range(2000):
            for sig, value in [(s, v) for when, s, v in pending if when == cycle]:
                ctx.set(sig, value)
            pending = [p for p in pending if p[0] > cycle]
            ctx.set(unit.i_stream.valid, wi < len(words))
            ctx.set(unit.i_stream.payload, words[wi] if wi < len(words) else 0)
            if wi < len(words) and ctx.get(unit.i_stream.ready):
                wi += 1
            if ctx.get(unit.forward_done):
                seen.append(ctx.get(unit.pair_second))
            if ctx.get(unit.step_start):
                pending += [(cycle + 3, unit.forward_done, 1), (cycle + 4, unit.forward_done, 0)]
            if ctx.get(unit.learn_start):
                pending += [(cycle + 2, unit.learn_done, 1), (cycle + 3, unit.learn_done, 0)]
            await ctx.tick()
            if wi == len(words) and not ctx.get(unit.active):
                break

    sim = Simulator(unit)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen == want
