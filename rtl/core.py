"""The streaming OPZO core: the units of :mod:`rtl` wired together.

One ``Core`` is built from a :class:`golden.config.CoreConfig` and computes, bit for bit,
what :class:`golden.core.FixedCore` computes (docs/fixed_point.md), driven by the command
words of :mod:`golden.protocol` on ``i_stream`` and answering on ``o_stream``.

The units, one file each: the memories and register banks (:mod:`rtl.memories`), the
sequencer (:mod:`rtl.sequencer`: command interpreter and the order of the passes), the
forward pass (:mod:`rtl.forward_pass`) with the input trace unit beside it
(:mod:`rtl.input_trace`), the feedback pass (:mod:`rtl.feedback_pass`), the class unit
(:mod:`rtl.class_unit`), host access (:mod:`rtl.host_access`) and the two weight-update
engines (:mod:`rtl.update_engine`).  Learning runs three workers at once on disjoint
memories: the feedback passes, the hidden layers' weight updates and the readout update.
"""

from amaranth.hdl import Cat, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.protocol import TOTAL_SHIFT_MAX, lr_shift_bases, lr_shift_range

from .class_unit import ClassUnit
from .feedback_pass import FeedbackPass
from .forward_pass import ForwardPass
from .host_access import HostAccess
from .input_trace import InputTraceUnit
from .learning_rates import LearningRates
from .memories import CoreMemories, NetworkRegisters
from .multiplier import MULTIPLIER_KINDS
from .neuron import check_fire_range
from .noise import LfsrBank
from .sequencer import Sequencer
from .update_engine import UpdateEngine

__all__ = ["Core", "check_rtl_config"]


def check_rtl_config(cfg):
    """Constraints the gateware adds to :meth:`CoreConfig.validate`; raises ``ValueError``."""
    for row, name in enumerate(("hidden_lr_shift", "readout_lr_shift")):
        lo, hi = lr_shift_range(cfg, row)
        if not lo <= getattr(cfg, name) <= hi:
            raise ValueError(f"{name} must be in [{lo}, {hi}] for this config's fixed-point widths "
                             f"(the update engines shift by it plus {lr_shift_bases(cfg)[row]}, in "
                             f"0 .. {TOTAL_SHIFT_MAX}), got {getattr(cfg, name)}")
    if cfg.n_outputs > 32:
        raise ValueError(f"n_outputs must be in [2, 32] for the RTL (one error lane per class), "
                         f"got {cfg.n_outputs}")
    if cfg.output_bits + cfg.timesteps.bit_length() > 32:
        raise ValueError(f"output_bits must be at most {32 - cfg.timesteps.bit_length()} so that a "
                         f"sample's total over {cfg.timesteps} steps fits one 32-bit word, "
                         f"got {cfg.output_bits}")
    check_fire_range(cfg)
    for name, n in (("n_inputs", cfg.n_inputs), *((f"hidden[{k}]", h) for k, h in enumerate(cfg.hidden))):
        if n > 4096:
            raise ValueError(f"{name} must be at most 4096 (16-bit addresses), got {n}")


class Core(wiring.Component):
    """The OPZO core for one configuration.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Sizes, widths, shifts and seeds; validated again for the gateware's own limits.
    multipliers : {"inferred", "ecp5"}, optional
        How the products' registers are made (:mod:`rtl.multiplier`): ``"ecp5"`` uses the
        ECP5 DSP's own output register.  By default, ``"ecp5"`` when the elaborating platform
        is an ECP5 and ``"inferred"`` otherwise (the simulations).

    Ports
    -----
    i_stream : In(stream.Signature(32))
        Command words (:mod:`golden.protocol`).
    o_stream : Out(stream.Signature(32))
        Response words.
    active, training, error : Out(1)
        A sample is open; it is a training sample; pulses when an error response is sent.

    Attributes
    ----------
    memories : dict
        After elaboration: every memory by name (:class:`rtl.memories.LaneMemory`).
    """

    def __init__(self, cfg, *, multipliers=None):
        cfg.validate()
        check_rtl_config(cfg)
        if multipliers is not None and multipliers not in MULTIPLIER_KINDS:
            raise ValueError(f"multipliers must be None or one of {MULTIPLIER_KINDS}, got {multipliers!r}")
        self.cfg = cfg
        self.multipliers = multipliers
        super().__init__({
            "i_stream": In(stream.Signature(32)),
            "o_stream": Out(stream.Signature(32)),
            "active": Out(1),
            "training": Out(1),
            "error": Out(1),
        })

    def elaborate(self, platform):
        # The units are built and wired in this order.  Memory ports are shared through
        # fixed-priority multiplexers (rtl.read_port_mux, rtl.write_port_mux; the priorities
        # are rtl.memories.READERS and WRITERS).
        cfg = self.cfg
        m = Module()
        mul_kind = self.multipliers or ("ecp5" if getattr(platform, "family", None) == "ecp5" else "inferred")
        L = cfg.n_hidden_layers
        groups = [cfg.groups(n) for n in cfg.sizes]

        memories = CoreMemories(m, cfg)
        self.memories = memories.by_name     # for tests that watch the ports (sim/pysim.py)
        m.submodules.lfsr = lfsr = LfsrBank(cfg)
        regs = NetworkRegisters(cfg)
        m.submodules.sequencer = sequencer = Sequencer(cfg=cfg)
        wiring.connect(m, wiring.flipped(self.i_stream), sequencer.i_stream)
        wiring.connect(m, sequencer.o_stream, wiring.flipped(self.o_stream))
        m.d.comb += [self.active.eq(sequencer.active), self.training.eq(sequencer.training),
                     self.error.eq(sequencer.error)]
        m.submodules.rates = rates = LearningRates(cfg=cfg)

        # the forward pass owns the bit vectors, the readout and the totals: the
        # NetworkRegisters are wires of the core driven by its registers
        m.submodules.forward = forward = ForwardPass(cfg=cfg)
        m.d.comb += [forward.train.eq(sequencer.train), forward.x.eq(sequencer.x),
                     forward.lfsr_bits.eq(lfsr.bits), regs.xbits.eq(forward.xbits),
                     Cat(*regs.spikes).eq(forward.spikes), Cat(*regs.noise).eq(forward.noise),
                     Cat(*regs.trace_nz[1:]).eq(forward.trace_nz)]
        m.d.comb += [regs.outputs[k].eq(forward.outputs[k]) for k in range(cfg.n_outputs)]
        m.d.comb += [regs.total[k].eq(forward.total[k]) for k in range(cfg.n_outputs)]
        m.submodules.input_trace = input_trace = InputTraceUnit(cfg=cfg)
        trace_0 = memories.trace[0]
        r = trace_0.reader("input_trace")
        m.d.comb += [input_trace.xbits.eq(regs.xbits), regs.trace_nz[0].eq(input_trace.nonzero),
                     r.en.eq(input_trace.rd_en), r.addr.eq(input_trace.rd_addr), input_trace.rd_data.eq(r.data)]
        w = trace_0.writer("input_trace")
        m.d.comb += [w.valid.eq(input_trace.wr_en), w.addr.eq(input_trace.wr_addr), w.en.eq(1),
                     w.data.eq(input_trace.wr_data)]

        # The hidden engine takes one job per word group from the feedback passes; the
        # readout engine one job per output word group from the class unit.  Their masks,
        # the nonzero-trace flags, hold still through learning.
        m.submodules.hidden_engine = hidden_engine = UpdateEngine(cfg=cfg, layers=tuple(range(L)),
                                                                  multipliers=mul_kind)
        m.submodules.readout_engine = readout_engine = UpdateEngine(cfg=cfg, layers=(L,), multipliers=mul_kind)
        m.d.comb += [hidden_engine.masks.eq(Cat(*regs.trace_nz[:L])), readout_engine.masks.eq(regs.trace_nz[L])]
        # the engines' read and write requests (their priorities are rtl.memories.READERS
        # and WRITERS, a list per memory)
        for engine in (hidden_engine, readout_engine):
            for name in (*engine.weight_names, *engine.trace_names):
                wiring.connect(m, getattr(engine.reads, name), memories.by_name[name].reader("engine"))
            for name in engine.weight_names:
                wiring.connect(m, getattr(engine.writes, name), memories.by_name[name].writer("engine"))
        m.submodules.class_unit = class_unit = ClassUnit(cfg=cfg)
        m.d.comb += [class_unit.label.eq(sequencer.label), class_unit.job_ready.eq(readout_engine.ready),
                     readout_engine.layer.eq(0), readout_engine.group.eq(class_unit.job_group),
                     readout_engine.shift.eq(rates.readout_shift), readout_engine.go.eq(class_unit.job_go)]
        m.d.comb += [readout_engine.factor[p].eq(class_unit.job_factor[p]) for p in range(cfg.lanes)]
        # the feedback passes: the class unit's errors and steps in, the hidden engine's jobs out
        m.submodules.feedback = feedback = FeedbackPass(cfg=cfg, multipliers=mul_kind)
        m.d.comb += [feedback.noise.eq(Cat(*regs.noise)), feedback.job_ready.eq(hidden_engine.ready),
                     hidden_engine.go.eq(feedback.job_go), hidden_engine.layer.eq(feedback.job_layer),
                     hidden_engine.group.eq(feedback.job_group), hidden_engine.shift.eq(rates.hidden_shift)]
        m.d.comb += [hidden_engine.factor[p].eq(feedback.job_factor[p]) for p in range(cfg.lanes)]
        for k in range(cfg.n_outputs):
            m.d.comb += [class_unit.outputs[k].eq(regs.outputs[k]), regs.baseline[k].eq(class_unit.baseline[k]),
                         regs.error[k].eq(class_unit.error[k]), feedback.error[k].eq(class_unit.error[k]),
                         feedback.step[k].eq(class_unit.step[k]), feedback.nstep[k].eq(class_unit.nstep[k])]

        # host access: its read and write requests are the ports' "host" requesters
        m.submodules.host = host = HostAccess(cfg=cfg)
        m.d.comb += [host.head.eq(sequencer.head), host.word.eq(self.i_stream.payload),
                     host.spikes.eq(Cat(*regs.spikes)),
                     lfsr.sel.eq(host.lfsr_sel), lfsr.we.eq(host.lfsr_we), lfsr.wdata.eq(host.lfsr_wdata),
                     host.lfsr_rdata.eq(lfsr.rdata), lfsr.step.eq(forward.lfsr_step),
                     lfsr.anti.eq(sequencer.pair_second), lfsr.held.eq(forward.noise_held),
                     rates.hidden_we.eq(host.hidden_we), rates.readout_we.eq(host.readout_we),
                     rates.wdata.eq(host.rate_data), host.hidden_rate.eq(rates.hidden_rate),
                     host.readout_rate.eq(rates.readout_rate),
                     class_unit.base_we.eq(host.base_we), class_unit.base_data.eq(host.base_data)]
        m.d.comb += [host.baseline[k].eq(regs.baseline[k]) for k in range(cfg.n_outputs)]
        for name in host.read_names:
            wiring.connect(m, getattr(host.reads, name), memories.by_name[name].reader("host"))
        for name in host.write_names:
            wiring.connect(m, getattr(host.writes, name), memories.by_name[name].writer("host"))
        for l in range(L):
            wiring.connect(m, getattr(feedback.reads, f"feedback_{l}"), memories.feedback[l].reader("feedback_pass"))
            wiring.connect(m, getattr(feedback.reads, f"surrogate_{l}"), memories.surrogate[l].reader("feedback_pass"))
            wiring.connect(m, getattr(feedback.writes, f"feedback_{l}"), memories.feedback[l].writer("feedback_pass"))
        for name in forward.read_names:
            wiring.connect(m, getattr(forward.reads, name), memories.by_name[name].reader("forward"))
        for name in forward.write_names:
            wiring.connect(m, getattr(forward.writes, name), memories.by_name[name].writer("forward"))

        # the sequencer's strobes and the units' done / idle flags
        m.d.comb += [sequencer.total[k].eq(regs.total[k]) for k in range(cfg.n_outputs)]
        m.d.comb += [forward.clear.eq(sequencer.clear), input_trace.clear.eq(sequencer.clear),
                     forward.start.eq(sequencer.step_start), input_trace.start.eq(sequencer.step_start),
                     sequencer.forward_done.eq(forward.done), sequencer.trace_idle.eq(input_trace.idle),
                     class_unit.start.eq(sequencer.learn_start), feedback.start.eq(sequencer.learn_start),
                     sequencer.learn_done.eq(feedback.done), sequencer.readout_jobs.eq(class_unit.readout_active),
                     sequencer.feedback_writing.eq(feedback.writing), sequencer.hidden_idle.eq(hidden_engine.idle),
                     sequencer.readout_idle.eq(readout_engine.idle),
                     host.load_addr.eq(sequencer.host_load_addr), host.load_data.eq(sequencer.host_load_data),
                     host.start.eq(sequencer.host_start), sequencer.host_done.eq(host.done),
                     sequencer.host_status.eq(host.status), sequencer.host_count.eq(host.count),
                     sequencer.host_value.eq(host.value)]
        # START's CLEAR: one word per membrane and trace memory per cycle
        for mm, n in zip((*memories.membrane, *memories.trace), (*groups[1:L + 1], *groups[:L + 1])):
            w = mm.writer("clear")
            m.d.comb += [w.valid.eq(sequencer.clear), w.addr.eq(sequencer.clear_group),
                         w.en.eq(sequencer.clear_group < n)]
        # the units and registers the formal checks (sim/formal_core.py) look at; each unit
        # sets its own ``observed`` when it is elaborated (after this method returns)
        self.observed = {"sequencer": sequencer, "forward": forward, "feedback": feedback, "host": host,
                         "class_unit": class_unit, "lfsr": lfsr, "rates": rates, "regs": regs}
        return m
