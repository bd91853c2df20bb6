"""The forward pass: accumulate the active inputs' weights, fire, and the group's write-back.

A component (:class:`ForwardPass`) with its own one-hot FSM.  ``start`` (the sequencer's
``STEP_CHECK``) takes the step's input spikes and runs, for each hidden layer and then the
readout, group after group (``P`` neurons a group): ``START`` (a layer's first group waits
for the scan's snapshot of its mask), ``ACC`` (all the layer's groups back to back, one
weight word per active input, from the bit scan of the previous layer's spikes; a group
fires in FIN's stage 1 while the next one accumulates) and ``FIN`` (the wait for the
layer's last firing and, in a hidden layer, its spikes' write a cycle later); ``done`` is
high in the readout's last firing.  The unit owns the
network's bit vectors (input spikes, spikes, noise signs, the hidden layers'
nonzero-trace flags), the readout and the sample's totals.  The twin of the forward half
of :meth:`golden.core.FixedCore._step`.

A group of ``n`` active inputs takes ``max(n, 3)`` cycles: its takes, then ``switch``
(the cycle after the last take: the scan loads the layer's mask again and the group
registers move to the next group), and its firing two cycles after the switch, when its
last weight has been added and the next group's start value is about to replace it.

Timing: every block-RAM output goes into a register with at most a multiplexer before it,
and between registers there is at most one carry chain:

* the accumulator sums only weights (each weight memory's word read is registered first,
  beside its block RAM, ``w_word_<l>``, and the layer's is picked after the registers by
  the one-hot ``w_take``); the start value ``reset_leak(u, s)`` is made beside the
  scan, one carry chain per cycle (membrane word read ahead and registered in START or at the switch,
  soft reset, then decay) and taken in ACC's second cycle, before the first weight arrives;
* FIN in three stages: fire; spike and membrane writes, ``|u - V_th|``, trace decay;
  surrogate and trace writes.
"""

from amaranth.hdl import Cat, Const, Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from golden.lanes import address_bits

from . import fin_stages
from .memories import NetworkRegisters, PassMemory, group_select, lane, memory_shapes, read_request
from .neuron import reset_leak_decay, soft_reset
from .params import check_config
from .pass_control import PassControl
from .write_port_mux import write_request

__all__ = ["ForwardPass"]


class ForwardPass(wiring.Component):
    """The forward pass of a time step, and the state it owns.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only: sizes, lanes, widths, the neuron's constants.

    Ports
    -----
    start : In(1)
        Starts a pass (``STEP_CHECK``): ``x`` is taken into ``xbits``; ``FWD0_START`` is next.
    done : Out(1)
        The readout's last ``FIN`` (combinational).
    clear : In(1)
        Clears the spikes, the totals and the nonzero-trace flags (``START``'s ``CLEAR``).
    train : In(1)
        The open sample is a training sample (noisy firing, the LFSR steps).
    x : In(n_inputs)
        The step's input spikes.
    xbits, spikes, noise : Out(...)
        Registers: the input spikes, and the hidden layers' spikes and noise signs
        (concatenated, layer 0's first; ``groups * lanes`` bits a layer).
    trace_nz : Out(...)
        Registers: layers ``1 .. L``'s "trace is nonzero" flags, concatenated.
    outputs, total : Out(signed(output_bits)).array(n_outputs), Out(signed(...)).array(n_outputs)
        Registers: the readout ``o_k`` and the sample's totals.
    lfsr_bits : In(lanes), lfsr_step : Out(1)
        The noise bits of the firing compare; the LFSR step pulse (a register).
    noise_held : Out(lanes)
        ``cfg.antithetic`` only: the group's noise signs of the step before (a register
        loaded at the group's switch, before its firing overwrites that word), for the noise
        bank's ``held``.
    reads : Out(...)
        :func:`rtl.memories.read_request` of ``weights_<l>``, ``readout``, ``membrane_<l>`` and
        ``trace_<l>`` (``l >= 1``).
    writes : Out(...)
        The ``forward`` write requests of ``membrane_<l>``, ``surrogate_<l>``, ``trace_<l + 1>``.
    """

    def __init__(self, *, cfg):
        check_config(cfg)
        self.cfg = cfg
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        self.groups = groups = [cfg.groups(n) for n in cfg.sizes]
        shapes = memory_shapes(cfg)
        self.read_names = (*(f"weights_{l}" for l in range(L)), "readout", *(f"membrane_{l}" for l in range(L)),
                           *(f"trace_{l}" for l in range(1, L + 1)))
        self.write_names = (*(f"membrane_{l}" for l in range(L)), *(f"surrogate_{l}" for l in range(L)),
                            *(f"trace_{l}" for l in range(1, L + 1)))
        total_bits = cfg.output_bits + cfg.timesteps.bit_length()
        super().__init__({
            "start": In(1), "done": Out(1), "clear": In(1), "train": In(1),
            "x": In(cfg.n_inputs), "xbits": Out(groups[0] * P),
            "spikes": Out(sum(groups[1:L + 1]) * P), "noise": Out(sum(groups[1:L + 1]) * P),
            "trace_nz": Out(sum(groups[1:L + 1]) * P),
            "outputs": Out(signed(cfg.output_bits)).array(nout), "total": Out(signed(total_bits)).array(nout),
            "lfsr_bits": In(P), "lfsr_step": Out(1), "noise_held": Out(P),
            "reads": Out(wiring.Signature({name: Out(read_request(cfg, name)) for name in self.read_names})),
            "writes": Out(wiring.Signature({
                name: Out(write_request(ceil_log2(shapes[name][1]), 1, shapes[name][0] * P))
                for name in self.write_names})),
        })

    def elaborate(self, platform):
        cfg, L, nout = self.cfg, self.cfg.n_hidden_layers, self.cfg.n_outputs
        m = Module()
        self.regs = regs = NetworkRegisters(cfg)
        self.passes = PassControl(m, cfg, regs)
        mem = {name: PassMemory(self.reads, self.writes, name) for name in (*self.read_names, *self.write_names)}
        self.weights = [mem[f"weights_{l}"] for l in range(L)] + [mem["readout"]]
        self.membrane = [mem[f"membrane_{l}"] for l in range(L)]
        self.surrogate = [mem[f"surrogate_{l}"] for l in range(L)]
        self.trace = [None] + [mem[f"trace_{l}"] for l in range(1, L + 1)]
        self._datapath(m)
        m.d.comb += [self.xbits.eq(regs.xbits), self.spikes.eq(Cat(*regs.spikes)), self.noise.eq(Cat(*regs.noise)),
                     self.trace_nz.eq(Cat(*regs.trace_nz[1:]))]
        m.d.comb += [self.outputs[k].eq(regs.outputs[k]) for k in range(nout)]
        m.d.comb += [self.total[k].eq(regs.total[k]) for k in range(nout)]
        with m.If(self.clear):
            m.d.sync += [*(s.eq(0) for s in regs.spikes), *(t.eq(0) for t in regs.total),
                         *(n.eq(0) for n in regs.trace_nz[1:])]
        ps = self.passes
        with m.FSM(name="fwd") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [ps.group.eq(0), ps.data_valid.eq(0), ps.scan_layer.eq(0), regs.xbits.eq(self.x)]
                    self.membrane[0].read(m, 0)                     # read ahead for FWD0_START
                    m.next = "FWD0_START"
            self.states(m)
        fsm.state.attrs["fsm_encoding"] = "one-hot"
        # what the formal checks (sim/formal_core.py) look at; set by each elaboration
        self.observed = {"fsm": fsm, "one_hot": {"tot_add": ps.total_add}}
        return m

    def _datapath(self, m):
        """Accumulate, FIN's stages, the totals, the write-back."""
        self.accumulate(m)
        fin_stages.finish_stages(self, m)
        fin_stages.totals(self, m)
        fin_stages.write_back(self, m)
        self.group_pipeline(m)

    def group_pipeline(self, m):
        """The switch's defaults, FIN's pulse per layer, the LFSR step and FIN's stage 1."""
        ps, L = self.passes, self.cfg.n_hidden_layers
        # switch: the cycle after the last take, not before the group's third cycle (registers
        # only: a take of the last input, or none left, and not the group's first cycle)
        m.d.sync += ps.switch.eq(0)
        m.d.sync += [ps.fin[l].eq(ps.fin_pre & (ps.lsel == l)) for l in range(L + 1)]
        # the LFSRs step at the end of a hidden layer's FIN (the layer's noise draw): the
        # firing level and the noise word written in FIN are the bits before the step
        m.d.sync += self.lfsr_step.eq(self.train & ps.fin_pre & (ps.lsel != L))
        for l in range(L + 1):
            fin_stages.fire_group(self, m, l)

    def accumulate(self, m):
        """``acc = reset_leak(u, s_prev) + the active inputs' weights``, one lane per neuron."""
        cfg, ps, P, L = self.cfg, self.passes, self.cfg.lanes, self.cfg.n_hidden_layers
        mb, wb = cfg.membrane_bits, cfg.weight_bits
        is_out = ps.lsel == L
        # the weight words' addresses are unconditional (ACC's read enables them)
        col_bits = [address_bits(n) for n in cfg.sizes]
        m.d.comb += [w.req.addr.eq((ps.group << col_bits[l]) | ps.cand) for l, w in enumerate(self.weights)]
        m.d.sync += [w_word.eq(w.data) for w_word, w in zip(ps.w_words, self.weights)]
        m.d.sync += [t.eq(Cat(ps.data_valid & (ps.lsel == l) for l in range(L + 1))) for t in ps.w_take]
        # the weight added: an AND-OR of the registered words (no block RAM output before it)
        addend = [0] * P
        for l in range(L + 1):
            for p in range(P):
                addend[p] = addend[p] | Mux(ps.w_take[p][l], lane(ps.w_words[l], wb, p, signed_=False), 0)
        for p in range(P):
            m.d.sync += ps.reset_value[p].eq(soft_reset(cfg, lane(ps.u_word, mb, p), ps.s_prev[p]))
            start = Mux(is_out, 0, reset_leak_decay(cfg, ps.reset_value[p]))
            m.d.comb += ps.acc_next[p].eq(Mux(ps.second[p], start, ps.acc[p] + addend[p][:wb].as_signed()))

    def states(self, m):
        """The states of the pass: ``FWD<l>_START/ACC/FIN`` per hidden layer, then
        ``OUT_START/ACC/FIN`` (the readout); the last raises ``done`` and goes to ``IDLE``.

        ``ACC`` runs all the groups of a layer back to back: a group takes one input per
        cycle; the next group starts at ``switch``, the cycle after the last take (a group
        lasts at least three cycles), while the group before is still adding its last
        weight; its firing (``fin``, FIN's stage 1) comes two cycles after the switch, in
        the next group's second cycle, when the accumulator still holds the finished sum
        and is about to take the next group's start value.  ``FIN`` waits for the layer's
        last firing and, in a hidden layer, for its spikes' write (FIN's stage 2, the next
        cycle: they are the next layer's scan mask)."""
        cfg, ps, regs = self.cfg, self.passes, self.regs
        P, L, groups = cfg.lanes, cfg.n_hidden_layers, self.groups
        a_rd = ps.trace_pick([Const(0, P * cfg.trace_bits)] + [a.data for a in self.trace[1:]])
        for l in range(L + 1):
            out_layer = l == L
            weights = self.weights[l]
            nxt = "OUT_START" if l == L - 1 else f"FWD{l + 1}_START"
            name = "OUT" if out_layer else f"FWD{l}"

            def start_group(g, l=l, out_layer=out_layer):
                """Set up the pass over group ``g``: its group bits, its trace word read
                and the membrane word read the cycle before (the scan's load: START
                drives it, and ``switch`` in ACC)."""
                if not out_layer:
                    self.trace[l + 1].read(m, g)
                    m.d.sync += ps.u_word.eq(self.membrane[l].data)
                m.d.sync += [ps.first.eq(1), ps.data_valid.eq(0), ps.lsel.eq(l), ps.asel.eq(min(l + 1, L))]
                m.d.sync += ps.group_bits(l, g)
            # a layer's first group waits for the scan's snapshot of its mask (written
            # by the state before: STEP_CHECK, or the previous layer's last FIN), reading
            # the membrane's word 0 ahead all the while
            with m.State(f"{name}_START"):
                m.d.sync += ps.settled.eq(1)
                # the scan loads and the group starts in every START cycle (harmless here), so
                # their wide enables are the state bit alone and ``primed`` reaches only the
                # state; the load in the cycle that leaves START is the one ACC walks
                m.d.comb += ps.fwd_scan.load.eq(1)
                if not out_layer:
                    self.membrane[l].read(m, 0)            # the membrane word read ahead: group 0
                start_group(ps.group)
                with m.If(ps.settled & ps.fwd_scan.primed):
                    m.d.sync += ps.settled.eq(0)
                    m.next = f"{name}_ACC"
            with m.State(f"{name}_ACC"):
                with m.If(ps.cand_v):
                    m.d.comb += weights.req.en.eq(1)
                    m.d.comb += ps.fwd_scan.take.eq(1)
                if not out_layer:
                    # the next group's membrane word, read ahead in every ACC cycle of a group
                    # that has a next one, for the switch's start of that group (nothing else
                    # reads the membrane in a pass; in the last group ``gnext`` would wrap
                    # to a word FIN's stage 2 may be writing)
                    with m.If(~ps.last_grp):
                        self.membrane[l].read(m, ps.gnext)
                m.d.sync += [ps.data_valid.eq(ps.cand_v), ps.first.eq(0), *(c.eq(ps.first) for c in ps.second),
                             ps.last_grp.eq(ps.group == groups[l + 1] - 1)]
                m.d.sync += [ps.acc[p].eq(ps.acc_next[p]) for p in range(P)]
                m.d.sync += ps.switch.eq(~ps.switch & ~ps.first & (~ps.cand_v | ps.fwd_scan.last))
                if not out_layer:
                    with m.If(ps.first):
                        m.d.sync += ps.trace_word.eq(a_rd)
                with m.If(ps.switch):
                    # the group's number, lane flags and trace word move to FIN's registers
                    m.d.sync += [ps.fin_group.eq(ps.group), ps.fin_gv_word.eq(ps.gv_word),
                                 ps.fin_trace_word.eq(ps.trace_word)]
                    if not out_layer:
                        if cfg.antithetic:      # registered: no word multiplexer before the fire compare
                            gsel = group_select(ps.group, groups[l + 1])
                            m.d.sync += self.noise_held.eq(regs.noise[l].word_select(gsel, P))
                    with m.If(ps.last_grp):
                        m.next = f"{name}_FIN"
                    with m.Else():
                        m.d.sync += ps.group.eq(ps.gnext)
                        start_group(ps.gnext)
            # the layer's last firing; a hidden layer's spikes (the next layer's mask) are
            # written the cycle after it (FIN's stage 2), and the next START follows that write
            with m.State(f"{name}_FIN"):
                m.d.sync += [ps.acc[p].eq(ps.acc_next[p]) for p in range(P)]   # the last weight
                if out_layer:
                    with m.If(ps.fin[l]):
                        m.d.sync += [ps.group.eq(0), ps.scan_layer.eq(0)]
                        m.d.comb += self.done.eq(1)
                        m.next = "IDLE"
                else:
                    with m.If(ps.fin[l]):
                        m.d.sync += ps.fin_seen.eq(1)
                    with m.If(ps.fin_seen):
                        m.d.sync += [ps.fin_seen.eq(0), ps.group.eq(0), ps.scan_layer.eq(l + 1)]
                        if l + 1 < L:               # read ahead for the next layer's START
                            self.membrane[l + 1].read(m, 0)
                        m.next = nxt
