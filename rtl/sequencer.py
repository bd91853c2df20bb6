"""The sequencer: the command interpreter and the time step's order of passes.

One finite-state machine (one-hot) receives the commands, runs a time step pass after pass
and sends the responses.  The forward pass owns its states' bodies (:mod:`rtl.forward_pass`);
the feedback passes (:mod:`rtl.feedback_pass`) and the host access unit
(:mod:`rtl.host_access`) are components that the sequencer starts and waits for
(``LEARN``, ``ACCESS``).  This module owns the order::

    IDLE -> NOP / START (CLEAR) / STEP (RX_SPIKES, STEP_CHECK) / END (ARGMAX) / READ, WRITE
            (RX_ADDR, RX_DATA, ACCESS) -> RESPOND -> IDLE
    STEP_CHECK -> forward pass (FWD<l>_*, OUT_*) -> STEP_END
               -> inference: RESPOND; training: LEARN (the feedback passes) -> DRAIN

and the forward pass's registers (:class:`PassControl`).
"""

from amaranth.hdl import Array, Cat, Mux, Signal, signed

from golden.lanes import address_bits
from golden.protocol import Op, Status

from .bit_scan import BitScan
from .memories import group_select, valid_lanes

__all__ = ["PassControl", "Sequencer"]


class PassControl:
    """The registers the forward pass runs on (the feedback pass has its own): the word group
    (also START's CLEAR counter), the layer select, the data-stage valid bits and the current
    group's bits of the bit-vector registers; the forward pass's bit scan; the argmax's
    class counter.

    Parameters
    ----------
    m : Module
        The scan (:class:`rtl.bit_scan.BitScan`) is built into it at once.
    cfg : golden.config.CoreConfig
    regs : rtl.memories.NetworkRegisters
    """

    def __init__(self, m, cfg, regs):
        self.cfg, self.regs = cfg, regs
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        self.groups = groups = [cfg.groups(n) for n in cfg.sizes]
        # the scan of a forward pass (rtl/bit_scan.py): layer l walks its inputs' spikes
        self.fwd_scan = BitScan(m, "fwd_scan", [regs.xbits, *regs.spikes])
        self.cand, self.cand_v = self.fwd_scan.cand, self.fwd_scan.cand_v
        self.settled = Signal(name="settled")         # a START state's second cycle or later
        self.scan_layer = Signal(range(L + 1), name="scan_layer")   # the layer whose mask the scan loads
        m.d.comb += self.fwd_scan.select.eq(self.scan_layer)
        self.last_grp = Signal(name="last_grp")       # registered: ``group`` is the layer's last
        self.fin_load = Signal(name="fin_load")       # registered: high in a FIN that starts the next group
        m.d.sync += self.fin_load.eq(0)
        with m.If(self.fin_load):
            m.d.comb += self.fwd_scan.load.eq(1)
        self.group = Signal(range(max(groups) + 1), name="group")
        self.gnext = Signal.like(self.group, name="gnext")   # registered ``group + 1`` (group holds still in a pass)
        m.d.sync += self.gnext.eq(self.group + 1)
        self.class_count = Signal(range(nout + 1), name="class_count")     # the argmax's class counter
        self.data_valid = Signal(name="data_valid")                   # data stage valid
        self.first = Signal(name="first")             # data stage: first cycle of a group
        # One copy of each lane's arithmetic serves every layer: the per-layer states only
        # choose the layer (``lsel``) whose memory words feed it and whose memory takes the
        # result.  Both are registers, set by the pass's START state, so no state decode
        # sits before the wide multiplexers.
        self.lsel = Signal(range(L + 1), name="lsel")   # layer of the current pass (L: the readout)
        self.asel = Signal(range(L + 1), name="asel")   # trace memory read by the current pass
        # the current group's bits of the bit-vector registers, picked in START / MP_START
        self.s_prev = Signal(P, name="s_prev")        # last step's spikes
        self.gv_word = Signal(P, name="gv_word")      # which lanes hold a neuron

    def layer_pick(self, words):
        """The word of the current pass's layer (``lsel``) of one word per layer."""
        return Array(words)[self.lsel]

    def trace_pick(self, words):
        """The word of the trace memory the current pass reads (``asel``)."""
        return Array(words)[self.asel]

    def group_bits(self, l, g):
        """Loads of ``s_prev`` and ``gv_word`` for group ``g`` of layer ``l`` (``L``: the
        readout)."""
        cfg, P, L = self.cfg, self.cfg.lanes, self.cfg.n_hidden_layers
        gs = group_select(g, self.groups[l + 1])
        loads = [self.gv_word.eq(valid_lanes(cfg.sizes[l + 1], self.groups[l + 1], P).word_select(gs, P))]
        if l < L:
            loads.append(self.s_prev.eq(self.regs.spikes[l].word_select(gs, P)))
        return loads


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

    def sample_registers(self, m):
        # STEP_CHECK is at least 2 cycles after a change of nsteps
        m.d.sync += self.steps_full.eq(self.nsteps == self.cfg.timesteps)

    def respond(self, status, count=0):
        """Statements that set up a response of ``count`` words after the header."""
        return [self.resp_status.eq(status), self.resp_count.eq(count), self.resp_idx.eq(0)]

    def elaborate(self, m, ports, *, passes, host, forward, input_trace, feedback, class_unit,
                  hidden_engine, readout_engine):
        """Add the FSM to ``m``; ``ports`` is the :class:`rtl.core.Core` (its streams and flags)."""
        cfg, regs, L, nout = self.cfg, self.regs, self.cfg.n_hidden_layers, self.cfg.n_outputs
        groups = [cfg.groups(n) for n in cfg.sizes]
        class_bits = address_bits(nout)
        respond, i_stream, o_stream = self.respond, ports.i_stream, ports.o_stream
        mem = forward.mem
        # the learning phase is over when no readout job is left to hand over, both engines
        # have written their last weight and the feedback write-back is done
        learning_done = (~class_unit.readout_active & readout_engine.idle & hidden_engine.idle
                         & ~feedback.writing)
        # START's CLEAR: one word per membrane and trace memory per cycle (valid in CLEAR)
        clear_writers = [mm.writer("clear") for mm in (*mem.membrane, *mem.trace)]
        for w, n in zip(clear_writers, (*groups[1:L + 1], *groups[:L + 1])):
            m.d.comb += [w.addr.eq(passes.group), w.en.eq(passes.group < n)]
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
                                m.d.sync += [passes.class_count.eq(1), self.pred.eq(0), self.best.eq(regs.total[0]),
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
                m.d.sync += [s.eq(0) for s in regs.spikes]
                m.d.sync += [t.eq(0) for t in regs.total]
                m.d.sync += [n.eq(0) for n in regs.trace_nz[1:]]
                m.d.comb += input_trace.clear.eq(1)
                m.d.comb += [w.valid.eq(1) for w in clear_writers]
                m.d.sync += passes.group.eq(passes.group + 1)
                with m.If(passes.group == max(groups[:-1]) - 1):
                    m.d.sync += passes.group.eq(0)
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
                    m.d.sync += [self.nsteps.eq(self.nsteps + 1), passes.group.eq(0), passes.data_valid.eq(0),
                                 passes.scan_layer.eq(0), regs.xbits.eq(Cat(*self.x_words)[:cfg.n_inputs])]
                    m.d.comb += input_trace.start.eq(1)
                    mem.membrane[0].read(m, 0)                         # read ahead for FWD0_START
                    m.next = "FWD0_START"

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
                counter = passes.class_count          # the class counter, free outside the M passes
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
            forward.states(m)

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
