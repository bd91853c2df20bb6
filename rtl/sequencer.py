"""The sequencer: the command interpreter and the time step's order of passes.

One finite-state machine (one-hot) receives the commands, runs a time step pass after pass
and sends the responses.  The forward pass (:mod:`rtl.forward_pass`), the feedback passes
(:mod:`rtl.feedback_pass`) and the host access unit (:mod:`rtl.host_access`) are
components that the sequencer starts and waits for (``FORWARD``, ``LEARN``, ``ACCESS``).
This module owns the order::

    IDLE -> NOP / START (CLEAR) / STEP (RX_SPIKES, STEP_CHECK) / END (ARGMAX) / READ, WRITE
            (RX_ADDR, RX_DATA, ACCESS) -> RESPOND -> IDLE
    STEP_CHECK -> FORWARD (the forward pass) -> STEP_END
               -> inference: RESPOND; training: LEARN (the feedback passes) -> DRAIN
"""

from amaranth.hdl import Array, Cat, Mux, Signal, signed

from golden.lanes import address_bits
from golden.protocol import Op, Status


__all__ = ["Sequencer"]


class Sequencer:
    """The command interpreter and time-step sequencer (one one-hot FSM).

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    regs : rtl.memories.NetworkRegisters

    Attributes
    ----------
    active, train, label : Signal
        A sample is open; it is a training sample; its label.
    head : Signal
        The command's first word.
    """

    def __init__(self, cfg, regs):
        self.cfg, self.regs = cfg, regs
        nout = cfg.n_outputs
        self.active = Signal(name="active")
        self.train = Signal(name="train")
        self.label = Signal(range(nout), name="label")
        self.nsteps = Signal(range(cfg.timesteps + 1), name="nsteps")
        self.steps_full = Signal(name="steps_full")   # registered nsteps == timesteps
        self.head = Signal(32, name="head")
        self.op = self.head[28:32]
        self.words_in = -(-cfg.n_inputs // 32)
        self.rx_count = Signal(range(max(self.words_in, 3) + 1), name="rx_count")
        self.x_words = Array(Signal(32, name=f"x_word_{w}") for w in range(self.words_in))
        self.resp_status = Signal(4, name="resp_status")
        self.resp_count = Signal(24, name="resp_count")
        self.resp_idx = Signal(range(nout + 3), name="resp_idx")
        self.pred = Signal(range(nout), name="pred")
        self.best = Signal(signed(regs.total_bits), name="best")
        self.arg_v = Signal(name="arg_v")             # argmax: a candidate total is registered
        self.arg_k = Signal(range(nout), name="arg_k")
        self.arg_total = Signal(signed(regs.total_bits), name="arg_total", reset_less=True)
        self.arg_count = Signal(range(nout + 1), name="arg_count")   # the argmax's class counter
        # CLEAR's word counter
        self.clear_group = Signal(range(max(cfg.groups(n) for n in cfg.sizes[:-1]) + 1), name="clear_group")

    def sample_registers(self, m):
        # STEP_CHECK is at least 2 cycles after a change of nsteps
        m.d.sync += self.steps_full.eq(self.nsteps == self.cfg.timesteps)

    def respond(self, status, count=0):
        """Statements that set up a response of ``count`` words after the header."""
        return [self.resp_status.eq(status), self.resp_count.eq(count), self.resp_idx.eq(0)]

    def elaborate(self, m, ports, *, memories, host, forward, input_trace, feedback, class_unit,
                  hidden_engine, readout_engine):
        """Add the FSM to ``m``; ``ports`` is the :class:`rtl.core.Core` (its streams and flags)."""
        cfg, regs, L, nout = self.cfg, self.regs, self.cfg.n_hidden_layers, self.cfg.n_outputs
        groups = [cfg.groups(n) for n in cfg.sizes]
        class_bits = address_bits(nout)
        respond, i_stream, o_stream = self.respond, ports.i_stream, ports.o_stream
        # the learning phase is over when no readout job is left to hand over, both engines
        # have written their last weight and the feedback write-back is done
        learning_done = (~class_unit.readout_active & readout_engine.idle & hidden_engine.idle
                         & ~feedback.writing)
        # START's CLEAR: one word per membrane and trace memory per cycle (valid in CLEAR)
        clear_writers = [mm.writer("clear") for mm in (*memories.membrane, *memories.trace)]
        for w, n in zip(clear_writers, (*groups[1:L + 1], *groups[:L + 1])):
            m.d.comb += [w.addr.eq(self.clear_group), w.en.eq(self.clear_group < n)]
        with m.FSM(name="seq") as seq_fsm:
            # ---------------------------------------------------------------- commands
            with m.State("IDLE"):
                m.d.comb += i_stream.ready.eq(1)
                with m.If(i_stream.valid):
                    word = i_stream.payload
                    m.d.sync += [self.head.eq(word), self.rx_count.eq(0)]
                    wop = word[28:32]
                    with m.Switch(wop):
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
                                             self.nsteps.eq(0), *respond(Status.OK)]
                                m.next = "CLEAR"
                        with m.Case(Op.STEP):
                            m.next = "RX_SPIKES"
                        with m.Case(Op.END):
                            with m.If(self.active):
                                m.d.sync += [self.arg_count.eq(1), self.pred.eq(0), self.best.eq(regs.total[0]),
                                             self.arg_v.eq(0)]
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
                m.d.comb += [forward.clear.eq(1), input_trace.clear.eq(1)]
                m.d.comb += [w.valid.eq(1) for w in clear_writers]
                m.d.sync += self.clear_group.eq(self.clear_group + 1)
                with m.If(self.clear_group == max(groups[:-1]) - 1):
                    m.d.sync += self.clear_group.eq(0)
                    m.next = "RESPOND"

            with m.State("RX_SPIKES"):
                m.d.comb += i_stream.ready.eq(1)
                with m.If(i_stream.valid):
                    m.d.sync += [self.x_words[self.rx_count].eq(i_stream.payload), self.rx_count.eq(self.rx_count + 1)]
                    with m.If(self.rx_count == self.words_in - 1):
                        m.next = "STEP_CHECK"

            with m.State("STEP_CHECK"):
                with m.If(~self.active | self.steps_full):
                    m.d.sync += respond(Status.ERR_STATE)
                    m.next = "RESPOND"
                with m.Else():
                    m.d.sync += self.nsteps.eq(self.nsteps + 1)
                    m.d.comb += [forward.start.eq(1), input_trace.start.eq(1)]
                    m.next = "FORWARD"

            with m.State("RX_ADDR"):
                m.d.comb += i_stream.ready.eq(1)
                with m.If(i_stream.valid):
                    m.d.comb += host.load_addr.eq(1)
                    m.next = "RX_DATA"
                    with m.If(self.op == Op.READ):
                        m.d.comb += host.start.eq(1)
                        m.next = "ACCESS"

            with m.State("RX_DATA"):
                m.d.comb += i_stream.ready.eq(1)
                with m.If(i_stream.valid):
                    m.d.comb += [host.load_data.eq(1), host.start.eq(1)]
                    m.next = "ACCESS"

            # the host access unit (rtl/host_access.py) checks, reads and writes the entry
            with m.State("ACCESS"):
                with m.If(host.done):
                    m.d.sync += respond(host.status, host.count)
                    m.next = "RESPOND"

            # argmax over the totals, first maximum wins: the candidate total is picked into
            # a register one cycle, compared with the best the next (no mux before the compare)
            with m.State("ARGMAX"):
                counter = self.arg_count
                m.d.sync += [self.arg_v.eq(counter < nout), self.arg_k.eq(counter),
                             self.arg_total.eq(regs.total[counter[:class_bits] if nout > 1 else 0])]
                with m.If(counter < nout):
                    m.d.sync += counter.eq(counter + 1)
                with m.If(self.arg_v & (self.arg_total > self.best)):
                    m.d.sync += [self.best.eq(self.arg_total), self.pred.eq(self.arg_k)]
                with m.If((counter == nout) & ~self.arg_v):
                    m.d.sync += [self.active.eq(0), *respond(Status.OK, 1 + nout)]
                    m.next = "RESPOND"

            with m.State("RESPOND"):
                hdr = Cat(self.resp_count, self.resp_status, self.op)
                tot_idx = (self.resp_idx - 2)[:class_bits]
                data = Signal(signed(33))          # sign-extends the totals
                with m.If(self.op == Op.END):
                    m.d.comb += data.eq(Mux(self.resp_idx == 1, self.pred, regs.total[tot_idx]))
                with m.Else():
                    m.d.comb += data.eq(host.value)
                m.d.comb += [o_stream.valid.eq(1),
                             o_stream.payload.eq(Mux(self.resp_idx == 0, hdr, data[:32])),
                             ports.error.eq((self.resp_idx == 0) & (self.resp_status != Status.OK)
                                            & o_stream.ready)]
                with m.If(o_stream.ready):
                    m.d.sync += self.resp_idx.eq(self.resp_idx + 1)
                    with m.If(self.resp_idx == self.resp_count):
                        m.next = "IDLE"

            # ---------------------------------------------------------------- time step
            # the forward pass (rtl/forward_pass.py), layer after layer
            with m.State("FORWARD"):
                with m.If(forward.done):
                    m.next = "STEP_END"

            # the forward pass is done once the input trace unit is; then inference answers,
            # and learning starts: the class unit and the first M pass
            with m.State("STEP_END"):
                with m.If(input_trace.idle & ~self.train):
                    m.d.sync += respond(Status.OK)
                    m.next = "RESPOND"
                with m.If(input_trace.idle & self.train):
                    m.d.comb += [class_unit.start.eq(1), feedback.start.eq(1)]
                    m.next = "LEARN"

            # the feedback passes (rtl/feedback_pass.py) hand their jobs to the hidden engine
            with m.State("LEARN"):
                with m.If(feedback.done):
                    m.next = "DRAIN"

            # the step ends when the engines have written their last weights
            with m.State("DRAIN"):
                with m.If(learning_done):
                    m.d.sync += respond(Status.OK)
                    m.next = "RESPOND"
        # one flip-flop per state: yosys does not re-encode a state register that has an
        # initial value by itself, and the binary state's decode sat in front of wide enables
        seq_fsm.state.attrs["fsm_encoding"] = "one-hot"
