"""The sequencer: the command interpreter and the time step's order of passes.

A component (:class:`Sequencer`) with one one-hot FSM: it receives the commands, runs a
time step pass after pass and sends the responses.  The forward pass
(:mod:`rtl.forward_pass`) with the input trace unit (:mod:`rtl.input_trace`), the feedback
passes (:mod:`rtl.feedback_pass`) with the class unit (:mod:`rtl.class_unit`) and the host
access unit (:mod:`rtl.host_access`) are components that the sequencer starts with a
one-cycle strobe and waits for (``FORWARD``, ``STEP_END``, ``LEARN``, ``DRAIN``,
``ACCESS``).  It owns only the command registers (head, sample flags, label, the step's
input words, the step count), ``CLEAR``'s word counter, the argmax and the response
counter.  The order::

    IDLE -> NOP / START (CLEAR) / STEP (RX_SPIKES, STEP_CHECK) / END (ARGMAX) / READ, WRITE
            (RX_ADDR, RX_DATA, ACCESS) -> RESPOND -> IDLE
    STEP_CHECK -> FORWARD (the forward pass) -> STEP_END
               -> inference: RESPOND; training: LEARN (the feedback passes) -> DRAIN
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.lanes import address_bits
from golden.protocol import Op, Status

from .params import check_config

__all__ = ["Sequencer"]


class Sequencer(wiring.Component):
    """The command interpreter and time-step sequencer (one one-hot FSM).

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only: ``n_inputs`` (the STEP words), ``n_outputs`` (labels, the argmax, the
        END answer), ``timesteps``, ``output_bits`` (the totals' width) and the layers' word
        groups (``CLEAR``'s length).

    Ports
    -----
    i_stream : In(stream.Signature(32))
        The command words.
    o_stream : Out(stream.Signature(32))
        The response words.
    active, training, error : Out(1)
        Status: a sample is open; it is a training sample; an error header is sent this cycle
        (combinational, with ``o_stream.ready``).
    head : Out(32)
        The command's first word (a register; host access reads it).
    train : Out(1), label : Out(range(n_outputs))
        The open sample's flags (registers).
    pair_second : Out(1)
        ``cfg.antithetic`` only (else 0): the step ``STEP_CHECK`` started last is step
        ``2k + 1`` of a training sample, the second of a pair (a register, steady from the
        forward pass's start to the next ``STEP_CHECK``).
    x : Out(n_inputs)
        The step's input spikes (registers, the STEP command's words).
    total : In(signed(output_bits + timesteps.bit_length())).array(n_outputs)
        The sample's totals (the forward pass's registers): END's argmax and answer.
    clear : Out(1), clear_group : Out(range(max word groups of the layers 0 .. L + 1))
        ``CLEAR`` (START): high for one cycle per word group; the membrane and trace memories'
        ``clear`` writers take ``clear_group`` as their address.
    step_start : Out(1)
        ``STEP_CHECK`` starts the forward pass and the input trace unit (a strobe).
    forward_done, trace_idle : In(1)
        The forward pass's ``done``; the input trace unit's ``idle``.
    learn_start : Out(1)
        ``STEP_END`` of a training step starts the class unit and the feedback passes.
    learn_done : In(1)
        The feedback passes' ``done``.
    readout_jobs, feedback_writing, hidden_idle, readout_idle : In(1)
        The learning phase is over when no readout job is left to hand over (the class
        unit's ``readout_active``), no ``M`` word is left to write and both update engines
        are idle.
    host_load_addr, host_load_data, host_start : Out(1)
        Host access: ``i_stream``'s word is the address / the value; an access starts.
    host_done : In(1), host_status : In(4), host_count : In(1), host_value : In(32)
        Host access's answer (``host_value`` the cycle after ``host_done``).
    """

    def __init__(self, *, cfg):
        check_config(cfg)
        self.cfg = cfg
        nout = cfg.n_outputs
        self.total_bits = cfg.output_bits + cfg.timesteps.bit_length()
        self.clear_words = max(cfg.groups(n) for n in cfg.sizes[:-1])
        super().__init__({
            "i_stream": In(stream.Signature(32)),
            "o_stream": Out(stream.Signature(32)),
            "active": Out(1), "training": Out(1), "error": Out(1),
            "head": Out(32), "train": Out(1), "label": Out(range(nout)), "x": Out(cfg.n_inputs),
            "pair_second": Out(1),
            "total": In(signed(self.total_bits)).array(nout),
            "clear": Out(1), "clear_group": Out(range(self.clear_words + 1)),
            "step_start": Out(1), "forward_done": In(1), "trace_idle": In(1),
            "learn_start": Out(1), "learn_done": In(1),
            "readout_jobs": In(1), "feedback_writing": In(1), "hidden_idle": In(1), "readout_idle": In(1),
            "host_load_addr": Out(1), "host_load_data": Out(1), "host_start": Out(1),
            "host_done": In(1), "host_status": In(4), "host_count": In(1), "host_value": In(32),
        })

    def elaborate(self, platform):
        cfg, nout = self.cfg, self.cfg.n_outputs
        m = Module()
        class_bits = address_bits(nout)
        i_stream, o_stream, total = self.i_stream, self.o_stream, Array(self.total)
        nsteps = Signal(range(cfg.timesteps + 1), name="nsteps")
        steps_full = Signal(name="steps_full")   # registered nsteps == timesteps
        op = self.head[28:32]
        words_in = -(-cfg.n_inputs // 32)
        rx_count = Signal(range(max(words_in, 3) + 1), name="rx_count")
        x_words = Array(Signal(32, name=f"x_word_{w}") for w in range(words_in))
        resp_status = Signal(4, name="resp_status")
        resp_count = Signal(24, name="resp_count")
        resp_idx = Signal(range(nout + 3), name="resp_idx")
        pred = Signal(range(nout), name="pred")
        best = Signal(signed(self.total_bits), name="best")
        arg_v = Signal(name="arg_v")             # argmax: a candidate total is registered
        arg_k = Signal(range(nout), name="arg_k")
        arg_total = Signal(signed(self.total_bits), name="arg_total", reset_less=True)
        arg_count = Signal(range(nout + 1), name="arg_count")   # the argmax's class counter
        clear_group = self.clear_group

        # the response word's selects as registers that follow resp_idx: the header
        # (resp_idx 0), END's prediction (1) and the total picked (resp_idx - 2)
        resp_hdr = Signal(name="resp_hdr")
        resp_pred = Signal(name="resp_pred")
        resp_tot = Signal(class_bits, name="resp_tot")
        resp_end = Signal(name="resp_end")      # the command is END (the head holds still)
        m.d.sync += resp_end.eq(self.head[28:32] == Op.END)

        def respond(status, count=0):
            """Statements that set up a response of ``count`` words after the header."""
            return [resp_status.eq(status), resp_count.eq(count), resp_idx.eq(0),
                    resp_hdr.eq(1), resp_pred.eq(0), resp_tot.eq(-2 % (1 << class_bits))]

        # STEP_CHECK is at least 2 cycles after a change of nsteps
        m.d.sync += steps_full.eq(nsteps == cfg.timesteps)
        m.d.comb += [self.x.eq(Cat(*x_words)[:cfg.n_inputs]), self.training.eq(self.active & self.train)]
        # the learning phase is over when no readout job is left to hand over, both engines
        # have written their last weight and the feedback write-back is done
        learning_done = ~self.readout_jobs & self.readout_idle & self.hidden_idle & ~self.feedback_writing
        with m.FSM(name="seq") as seq_fsm:
            # ---------------------------------------------------------------- commands
            with m.State("IDLE"):
                m.d.comb += i_stream.ready.eq(1)
                # END's argmax set-up in every IDLE cycle (only ARGMAX uses these), so that
                # the command word's decode reaches only the state and the response
                m.d.sync += [arg_count.eq(1), pred.eq(0), best.eq(total[0]), arg_v.eq(0)]
                with m.If(i_stream.valid):
                    word = i_stream.payload
                    m.d.sync += [self.head.eq(word), rx_count.eq(0)]
                    with m.Switch(word[28:32]):
                        with m.Case(Op.NOP):
                            m.d.sync += respond(Status.OK)
                            m.next = "RESPOND"
                        with m.Case(Op.START):
                            lab = word[:16]
                            with m.If(lab >= nout):
                                m.d.sync += respond(Status.ERR_LABEL)
                                m.next = "RESPOND"
                            with m.Else():
                                m.d.sync += [self.active.eq(1), self.train.eq(word[27]), self.label.eq(lab),
                                             nsteps.eq(0), *respond(Status.OK)]
                                m.next = "CLEAR"
                        with m.Case(Op.STEP):
                            m.next = "RX_SPIKES"
                        with m.Case(Op.END):
                            with m.If(self.active):
                                m.next = "ARGMAX"
                            with m.Else():
                                m.d.sync += respond(Status.ERR_STATE)
                                m.next = "RESPOND"
                        with m.Case(Op.WRITE, Op.READ):
                            m.next = "RX_ADDR"
                        with m.Default():
                            m.d.sync += respond(Status.ERR_OPCODE)
                            m.next = "RESPOND"

            # START clears membranes and traces: one word per memory per cycle
            with m.State("CLEAR"):
                m.d.comb += self.clear.eq(1)
                m.d.sync += clear_group.eq(clear_group + 1)
                with m.If(clear_group == self.clear_words - 1):
                    m.d.sync += clear_group.eq(0)
                    m.next = "RESPOND"

            with m.State("RX_SPIKES"):
                m.d.comb += i_stream.ready.eq(1)
                with m.If(i_stream.valid):
                    m.d.sync += [x_words[rx_count].eq(i_stream.payload), rx_count.eq(rx_count + 1)]
                    with m.If(rx_count == words_in - 1):
                        m.next = "STEP_CHECK"

            with m.State("STEP_CHECK"):
                with m.If(~self.active | steps_full):
                    m.d.sync += respond(Status.ERR_STATE)
                    m.next = "RESPOND"
                with m.Else():
                    m.d.sync += nsteps.eq(nsteps + 1)
                    if cfg.antithetic:      # nsteps counts the sample's steps before this one
                        m.d.sync += self.pair_second.eq(self.train & nsteps[0])
                    m.d.comb += self.step_start.eq(1)
                    m.next = "FORWARD"

            with m.State("RX_ADDR"):
                m.d.comb += i_stream.ready.eq(1)
                with m.If(i_stream.valid):
                    m.d.comb += self.host_load_addr.eq(1)
                    m.next = "RX_DATA"
                    with m.If(op == Op.READ):
                        m.d.comb += self.host_start.eq(1)
                        m.next = "ACCESS"

            with m.State("RX_DATA"):
                m.d.comb += i_stream.ready.eq(1)
                with m.If(i_stream.valid):
                    m.d.comb += [self.host_load_data.eq(1), self.host_start.eq(1)]
                    m.next = "ACCESS"

            # the host access unit (rtl/host_access.py) checks, reads and writes the entry
            with m.State("ACCESS"):
                with m.If(self.host_done):
                    m.d.sync += respond(self.host_status, self.host_count)
                    m.next = "RESPOND"

            # argmax over the totals, first maximum wins: the candidate total is picked into
            # a register one cycle, compared with the best the next (no mux before the compare)
            with m.State("ARGMAX"):
                m.d.sync += [arg_v.eq(arg_count < nout), arg_k.eq(arg_count),
                             arg_total.eq(total[arg_count[:class_bits] if nout > 1 else 0])]
                with m.If(arg_count < nout):
                    m.d.sync += arg_count.eq(arg_count + 1)
                with m.If(arg_v & (arg_total > best)):
                    m.d.sync += [best.eq(arg_total), pred.eq(arg_k)]
                with m.If((arg_count == nout) & ~arg_v):
                    m.d.sync += [self.active.eq(0), *respond(Status.OK, 1 + nout)]
                    m.next = "RESPOND"

            with m.State("RESPOND"):
                hdr = Cat(resp_count, resp_status, op)
                tot_idx = resp_tot
                data = Signal(signed(33))          # sign-extends the totals
                with m.If(resp_end):
                    m.d.comb += data.eq(Mux(resp_pred, pred, total[tot_idx] if nout > 1 else total[0]))
                with m.Else():
                    m.d.comb += data.eq(self.host_value)
                m.d.comb += [o_stream.valid.eq(1),
                             o_stream.payload.eq(Mux(resp_hdr, hdr, data[:32])),
                             self.error.eq(resp_hdr & (resp_status != Status.OK) & o_stream.ready)]
                with m.If(o_stream.ready):
                    m.d.sync += [resp_idx.eq(resp_idx + 1), resp_hdr.eq(0), resp_pred.eq(resp_hdr),
                                 resp_tot.eq(resp_tot + 1)]
                    with m.If(resp_idx == resp_count):
                        m.next = "IDLE"

            # ---------------------------------------------------------------- time step
            # the forward pass (rtl/forward_pass.py), layer after layer
            with m.State("FORWARD"):
                with m.If(self.forward_done):
                    m.next = "STEP_END"

            # the forward pass is done once the input trace unit is; then inference answers,
            # and learning starts: the class unit and the first M pass
            with m.State("STEP_END"):
                with m.If(self.trace_idle & ~self.train):
                    m.d.sync += respond(Status.OK)
                    m.next = "RESPOND"
                with m.If(self.trace_idle & self.train):
                    m.d.comb += self.learn_start.eq(1)
                    m.next = "LEARN"

            # the feedback passes (rtl/feedback_pass.py) hand their jobs to the hidden engine
            with m.State("LEARN"):
                with m.If(self.learn_done):
                    m.next = "DRAIN"

            # the step ends when the engines have written their last weights
            # (the response is set up in every DRAIN cycle, so that the engines' idle bits
            # reach only the state)
            with m.State("DRAIN"):
                m.d.sync += respond(Status.OK)
                with m.If(learning_done):
                    m.next = "RESPOND"
        # one flip-flop per state: yosys does not re-encode a state register that has an
        # initial value by itself, and the binary state's decode sat in front of wide enables
        seq_fsm.state.attrs["fsm_encoding"] = "one-hot"
        # what the formal checks (sim/formal_core.py) look at; set by each elaboration
        self.observed = {"fsm": seq_fsm, "nsteps": nsteps}
        return m
