"""Formal properties of the core's command and response streams (:class:`rtl.core.Core`).

The solver drives every input: the command words, ``i_stream.valid`` and ``o_stream.ready``.
It keeps one rule (an assumption): a command word offered and not taken is offered again,
unchanged.  The harness frames both streams as :mod:`golden.protocol` does: a *command* is
its header and the words its opcode says follow (STEP ``1 + ceil(n_inputs / 32)``, WRITE 3,
READ 2, every other opcode 1, unknown ones included); an *answer* is a response header and
the ``count`` data words it announces.  Every command has exactly one answer.  Asserted at
every cycle:

``rsp_stable``
    A response word offered and not taken is offered again, unchanged.
``answered_once``
    An answer starts only while a command is complete and unanswered, and echoes that
    command's opcode; at most one command is outstanding (the core takes the next header
    only after answering), so answers never outnumber commands and no command gets two;
    and an outstanding command is answered within a bound of cycles of ``o_stream.ready``
    held high (:data:`ANSWER_BOUNDS`: a STEP, the longest a training step, and any other
    command).
``rejected_no_effect``
    From a command's header to the next command's header, if its answer's status is not
    ``OK``: no memory write port writes, no LFSR, learning-rate or baseline write enable is
    high and the LFSR states, learning-rate registers, baselines, the network registers
    (spikes, noise signs, nonzero-trace flags, readouts, errors, totals, inputs) and the
    sample's registers (open, train, label, step count) equal their values at the header.
    The command's own buffers (header, address, value and spike words) are not state.
``fsm_legal``
    The sequencer's, forward pass's and feedback passes' FSMs hold one of their states (one
    flip-flop per state in synthesis, so an illegal code would be two states at once), and
    the one-hot registers (host access's stage, memory, lane, class and source selects and
    baseline write enables, the class unit's cursor, the forward pass's total strobes) have
    at most one bit high.

Scope: the configuration is the smallest the validator accepts, with the narrowest widths
(:func:`small_core_config`: one input, one hidden neuron, two classes, one lane, one time
step); its memories are one to four words, kept whole in the proof (no abstraction).  The
default suite proves all four properties to depth 14 (16 s on the shared, loaded machine;
the whole default part of tests/test_formal_core.py about 35 s), ``--runslow`` to depth 22.
Depth 14 reaches the answers of NOP, START, END, READ, WRITE and of every error, not a
whole STEP (an inference STEP is answered about 28 cycles from reset, a training STEP 40):
the STEP bound and the learning phase are covered only as far as the depth reaches, since
the solver's time grows steeply with depth (depth 25: about five minutes).
"""

from amaranth.hdl import Assert, Assume, Cat, Fragment, Module, Mux, Signal

from golden.config import preset
from golden.protocol import Op, Status, command_length
from rtl.core import Core

from .formal import past, without_reset

__all__ = ["PROPERTIES", "ANSWER_BOUNDS", "core_harness", "small_core_config", "MUTATIONS", "mutated_core"]

PROPERTIES = ("rsp_stable", "answered_once", "rejected_no_effect", "fsm_legal")
# cycles of o_stream.ready high from a command's last word to its answer's last word, for
# small_core_config (measured in simulation: a training STEP 34, an inference STEP 22, READ
# and END 7, a WRITE 6, START 2, NOP 1)
ANSWER_BOUNDS = {"STEP": 36, "other": 7}


def small_core_config():
    """The smallest configuration :meth:`CoreConfig.validate` and the RTL accept, with the
    narrowest fixed-point widths (the core stays bit-exact with the golden model on it)."""
    return preset("digits", n_inputs=1, hidden=(1,), n_outputs=2, lanes=1, timesteps=1, antithetic=False,
                  weight_bits=4, frac_bits=2, membrane_bits=5, output_bits=5, trace_frac_bits=1,
                  leak_shift=1, trace_bits=2, surrogate_frac_bits=1, error_frac_bits=1, feedback_bits=4,
                  signal_bits=4, signal_frac_bits=1, noise_shift=1, feedback_decay_shift=1,
                  feedback_input_shift=1, baseline_shift=1, hidden_lr_shift=1, readout_lr_shift=1,
                  lfsr_bits=16)


def _at_most_one(value):
    return (value & (value - 1)) == 0


def core_harness(*, properties=PROPERTIES, core=Core, cfg=None, answer_bounds=ANSWER_BOUNDS):
    """``(module, ports)``: the core with free stream inputs and the chosen assertions."""
    unknown = set(properties) - set(PROPERTIES)
    if unknown:
        raise ValueError(f"properties must be among {PROPERTIES}, got {sorted(unknown)}")
    cfg = cfg or small_core_config()
    m = Module()
    dut = core(cfg)
    m.submodules.dut = Fragment.get(dut, None)   # elaborated here: the harness sees its internals
    obs = dut.observed
    without_reset(m)

    free = {name: Signal(width, name=name) for name, width in
            (("cmd_valid", 1), ("cmd_word", 32), ("rsp_ready", 1))}
    cmd, rsp = dut.i_stream, dut.o_stream
    m.d.comb += [cmd.valid.eq(free["cmd_valid"]), cmd.payload.eq(free["cmd_word"]),
                 rsp.ready.eq(free["rsp_ready"])]
    # the host keeps the stream rule on its commands
    cmd_held, cmd_prev = past(m, cmd.valid & ~cmd.ready, "cmd_held"), past(m, cmd.payload, "cmd_prev")
    with m.If(cmd_held):
        m.d.comb += Assume(cmd.valid & (cmd.payload == cmd_prev))

    # ---- framing: words left of the current command and answer (0: the next word is a header)
    steps_words = command_length(Op.STEP << 28, cfg.n_inputs)
    cmd_take, rsp_take = cmd.valid & cmd.ready, rsp.valid & rsp.ready
    cmd_left = Signal(range(max(steps_words, 3)), name="cmd_left")
    rsp_left = Signal(24, name="rsp_left")
    op_in = cmd.payload[28:32]
    length = Mux(op_in == Op.STEP, steps_words, Mux(op_in == Op.WRITE, 3, Mux(op_in == Op.READ, 2, 1)))
    head_take = cmd_take & (cmd_left == 0)
    cmd_done = cmd_take & Mux(cmd_left == 0, length == 1, cmd_left == 1)
    rsp_header = rsp.valid & (rsp_left == 0)
    rsp_count = rsp.payload[:24]
    rsp_done = rsp_take & Mux(rsp_left == 0, rsp_count == 0, rsp_left == 1)
    with m.If(cmd_take):
        m.d.sync += cmd_left.eq(Mux(cmd_left == 0, length - 1, cmd_left - 1))
    with m.If(rsp_take):
        m.d.sync += rsp_left.eq(Mux(rsp_left == 0, rsp_count, rsp_left - 1))
    # commands complete and answers complete, counted (a proof is shorter than 256 cycles)
    commands, answers = Signal(8, name="commands"), Signal(8, name="answers")
    m.d.sync += [commands.eq(commands + cmd_done), answers.eq(answers + rsp_done)]
    pending_op = Signal(4, name="pending_op")
    with m.If(head_take):
        m.d.sync += pending_op.eq(op_in)

    if "rsp_stable" in properties:
        held, prev = past(m, rsp.valid & ~rsp.ready, "rsp_held"), past(m, rsp.payload, "rsp_prev")
        with m.If(held):
            m.d.comb += Assert(rsp.valid & (rsp.payload == prev), "rsp_stable")
    if "answered_once" in properties:
        outstanding = commands - answers
        m.d.comb += Assert((outstanding == 0) | (outstanding == 1), "answered_once_count")
        with m.If(rsp_header):
            m.d.comb += Assert((outstanding == 1) & (rsp.payload[28:32] == pending_op), "answered_once_header")
        # consecutive cycles of o_stream.ready high with a command unanswered
        bound = Mux(pending_op == Op.STEP, answer_bounds["STEP"], answer_bounds["other"])
        wait = Signal(range(max(answer_bounds.values()) + 2), name="answer_wait")
        with m.If((outstanding != 0) & rsp.ready & (wait <= bound)):
            m.d.sync += wait.eq(wait + 1)
        with m.Elif((outstanding == 0) | ~rsp.ready):
            m.d.sync += wait.eq(0)
        m.d.comb += Assert(wait <= bound, "answered_once_bound")
    if "rejected_no_effect" in properties:
        _rejected_no_effect(m, cfg, dut, obs, head_take, rsp_header & (rsp.payload[24:28] != Status.OK))
    if "fsm_legal" in properties:
        for name in ("sequencer", "forward", "feedback"):
            fsm = obs[name].observed["fsm"]
            m.d.comb += Assert(fsm.state < len(fsm.encoding), f"fsm_legal_{name}")
        for unit in ("host", "class_unit", "forward"):
            for name, reg in obs[unit].observed["one_hot"].items():
                m.d.comb += Assert(_at_most_one(reg), f"fsm_legal_{name}")
    return m, list(free.values())


def _rejected_no_effect(m, cfg, dut, obs, head_take, error_header):
    """The assertions of ``rejected_no_effect`` (see the module's docstring)."""
    seq, regs, cls, rates, lfsr = obs["sequencer"], obs["regs"], obs["class_unit"], obs["rates"], obs["lfsr"]
    state = Cat(*lfsr.observed["states"], rates.hidden_rate, rates.readout_rate, *cls.baseline,
                regs.xbits, *regs.spikes, *regs.noise, *regs.trace_nz, *regs.outputs, *regs.error,
                *regs.total, seq.active, seq.train, seq.label, seq.observed["nsteps"])
    writes = Cat(*(mm.wr.en != 0 for mm in dut.memories.values()), lfsr.we, lfsr.step,
                 rates.hidden_we, rates.readout_we, cls.base_we != 0)
    any_write = writes.any()
    snap = Signal.like(state, name="state_snap", reset_less=True)
    writes_seen = Signal(name="writes_seen")     # since the current command's header
    rejected = Signal(name="rejected")           # the current command's answer was an error
    with m.If(head_take):
        m.d.sync += [snap.eq(state), writes_seen.eq(any_write), rejected.eq(0)]
    with m.Else():
        m.d.sync += writes_seen.eq(writes_seen | any_write)
        with m.If(error_header):
            m.d.sync += rejected.eq(1)
    with m.If(rejected | error_header):
        m.d.comb += Assert(~writes_seen & ~any_write & (state == snap), "rejected_no_effect")


# --- mutations: each property shown to fail on a deliberately broken core ---------------------
# (property, what the mutation breaks, the unit's module, original source text, mutated text).
# Amaranth's FSM construct cannot leave its own encoding, so the fsm_legal mutation writes the
# state register directly, as a hand-written state machine could.
MUTATIONS = (
    ("rsp_stable", "the response header changes with the command stream's valid", "rtl.sequencer",
     "o_stream.payload.eq(Mux(resp_hdr, hdr, data[:32]))",
     "o_stream.payload.eq(Mux(resp_hdr, hdr ^ i_stream.valid, data[:32]))"),
    ("answered_once", "an answer runs one word past the count its header announces", "rtl.sequencer",
     "with m.If(resp_idx == resp_count):", "with m.If(resp_idx == resp_count + 1):"),
    ("answered_once", "the sequencer misses the end of a WRITE or of a failing READ (never answered)",
     "rtl.sequencer", "with m.If(self.host_done):", "with m.If(self.host_done & self.host_count):"),
    ("rejected_no_effect", "a START with a label out of range still opens a sample", "rtl.sequencer",
     "m.d.sync += respond(Status.ERR_LABEL)", "m.d.sync += [*respond(Status.ERR_LABEL), self.active.eq(1)]"),
    ("rejected_no_effect", "a WRITE that fails its checks still writes a register entry (LFSR, PARAM, "
     "baseline)", "rtl.host_access", "with m.If(stage[1] & ~fail):", "with m.If(stage[1]):"),
    ("rejected_no_effect", "an access that fails its checks runs on to stage 4 (a rejected WRITE "
     "writes its memory)", "rtl.host_access",
     "stage.eq(Cat(self.start, stage[0], stage[1] & ~fail, stage[2], stage[3]))",
     "stage.eq(Cat(self.start, stage[0], stage[1], stage[2], stage[3]))"),
    ("fsm_legal", "an all-ones command word sends the sequencer to a code that is no state", "rtl.sequencer",
     "        seq_fsm.state.attrs[\"fsm_encoding\"] = \"one-hot\"",
     "        with m.If(seq_fsm.ongoing(\"IDLE\") & i_stream.valid & (i_stream.payload == 0xFFFF_FFFF)):\n"
     "            m.d.sync += seq_fsm.state.eq(len(seq_fsm.encoding))\n"
     "        seq_fsm.state.attrs[\"fsm_encoding\"] = \"one-hot\""),
    ("fsm_legal", "a started access enters host access's stages 0 and 1 at once (two one-hot bits)",
     "rtl.host_access", "stage.eq(Cat(self.start, stage[0], stage[1] & ~fail, stage[2], stage[3]))",
     "stage.eq(Cat(self.start, stage[0] | self.start, stage[1] & ~fail, stage[2], stage[3]))"),
)


def _module_from_text(name, text, filename):
    import importlib.util
    import sys
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "rtl"
    sys.modules[name] = module
    exec(compile(text, filename, "exec"), module.__dict__)
    return module


def mutated_core(unit, original, mutated):
    """A :class:`rtl.core.Core` class whose unit module ``unit`` (``"rtl.sequencer"``, ...) has
    ``original`` replaced by ``mutated`` (which must occur exactly once).  The core's module is
    loaded afresh with the mutant unit's classes, so :mod:`rtl.core` itself stays intact."""
    import importlib
    from pathlib import Path

    target = importlib.import_module(unit)
    text = Path(target.__file__).read_text()
    if text.count(original) != 1:
        raise ValueError(f"mutation target must occur once in {unit}, found {text.count(original)}: "
                         f"{original!r}")
    mutant = _module_from_text(f"{unit}_mutant", text.replace(original, mutated), f"{target.__file__} (mutant)")
    core_module = importlib.import_module("rtl.core")
    core = _module_from_text("rtl.core_mutant", Path(core_module.__file__).read_text(), core_module.__file__)
    for name in target.__all__:          # the core's elaborate finds the units by global name
        if name in vars(core):
            setattr(core, name, getattr(mutant, name))
    return core.Core
