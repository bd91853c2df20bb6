"""The weight-update engine: the passes ``W -= round_shift(factor * a^T, shift)`` as jobs.

A component (:class:`UpdateEngine`).  A unit hands the engine one *job* at a time (the
feedback passes, :mod:`rtl.feedback_pass`, for the hidden layers; the class unit,
:mod:`rtl.class_unit`, for the readout): a layer, a word group ``c`` of that layer's
neurons, the factor word of those ``P`` neurons (``d`` for a hidden layer, ``e`` for the
readout) and the learning-rate shift; the masks of presynaptic neurons whose trace is
nonzero are inputs of their own.  The engine then works on its own while the feedback
passes go on (with the next group): the two use different memories, so learning costs the
slower of the two, not their sum.

A job scans its layer's mask with a bit scan (:mod:`rtl.bit_scan`; zero traces cost
nothing) and issues one weight word per cycle into a pipeline in which every stage has at
most one carry chain or one shifter between registers:

====== ==================================================================================
stage  work
====== ==================================================================================
issue  weight word ``(c << col_bits) | i`` and trace word ``i // P`` addressed
1      read data: the weight word and the trace lane ``a_i`` (the multiplier operand) registered
2      products ``factor_p * a_i`` registered (MULT18X18D, :mod:`rtl.multiplier`)
3      ``product + (2**shift >> 1)`` registered (the rounding half)
4      ``that >> (shift & ~3)`` registered (the shifter's coarse half)
5      ``step = that >> (shift & 3)`` registered (its fine half)
6      ``W - step`` registered (exact)
7      ``sat_w(W - step)`` registered (the saturation's compares and the write port's
       multiplexer in one cycle ended 4 LUTs deep at the block RAM: 97.54 MHz, seed 3)
8      ``W = sat_w(W - step)`` written back
====== ==================================================================================

The jobs follow each other with no idle cycle: the next job is accepted in the cycle that
issues the previous one's last word, and its first word is issued in the next cycle.  The
job registers are then free at once because everything a word in flight needs later
travels with it: its layer and group (stage 1 on), and the factor and the shift, delayed
two cycles to meet the word at the product (stage 2) and the rounding (stage 3).

The masks (which presynaptic traces are nonzero) do not change while learning runs, so
the engine's :class:`rtl.bit_scan.BitScan` keeps a snapshot of each layer's scan: a job
starts visiting on the cycle after it is accepted (``ready`` waits until the snapshot is
the mask's own), and no address depends on the job hand-over.

A pass never visits one address twice and two jobs never share a group, so a write-back
can never race a read.
"""

from amaranth.hdl import Array, Cat, Const, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from golden.lanes import address_bits

from .bit_scan import BitScan
from .learning_rates import SHIFT_BITS
from .memories import lane, memory_shapes, read_request
from .multiplier import MULTIPLIER_KINDS, registered_product
from .params import check_config, check_int
from golden.protocol import TOTAL_SHIFT_MAX

from .update_rule import saturate_weight, step_round, step_shift, subtract_step
from .write_port_mux import write_request

__all__ = ["UpdateEngine"]


class UpdateEngine(wiring.Component):
    """One weight-update engine.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
        Keyword-only, like every parameter: sizes, lanes, widths.
    layers : tuple of int
        The network layers the engine serves, increasing, in ``0 .. L`` (``L``: the readout);
        job layer ``i`` is ``layers[i]``, whose weights are ``weights_<l>`` (``readout``) and
        whose inputs' traces are ``trace_<l>``.
    shift_bits : int
        Width of the learning-rate shift (the barrel shifter has one level per bit).
    multipliers : {"inferred", "ecp5"}
        How the product registers are made (:func:`rtl.multiplier.registered_product`).

    Ports
    -----
    go : In(1)
        Accept the job on ``layer``, ``group``, ``shift``, ``factor``; assert only when
        ``ready``.
    layer : In(range(max(len(layers), 2))), group : In(range(max word groups + 1))
    shift : In(shift_bits), factor : In(signed(18)).array(lanes)
        The job.
    ready : Out(1)
        A job can be accepted this cycle (combinational).
    idle : Out(1)
        No job is running and the pipeline is empty (every write has happened).
    masks : In(sum of the served layers' input word groups times lanes)
        Per layer served, concatenated (the first one's first): which inputs have a nonzero
        trace.  A layer's mask must hold still from ``BitScan.PRIME_CYCLES + 2`` cycles
        before a job of that layer is accepted until the job is done (``ready`` waits for
        the scan's snapshot).
    reads : Out(...)
        The ``engine`` :func:`rtl.memories.read_request` of each served layer's weight and
        trace memory, by memory name.
    writes : Out(...)
        The ``engine`` write request of each served layer's weight memory.
    """

    STAGES = 7                       # registered stages between the read data and the write

    def __init__(self, *, cfg, layers, shift_bits=SHIFT_BITS, multipliers="inferred"):
        check_config(cfg)
        L, P = cfg.n_hidden_layers, cfg.lanes
        if (not isinstance(layers, tuple) or not layers
                or any(not isinstance(l, int) or isinstance(l, bool) for l in layers)):
            raise TypeError(f"layers must be a non-empty tuple of integers, not {layers!r}")
        if list(layers) != sorted(set(layers)) or not 0 <= layers[0] <= layers[-1] <= L:
            raise ValueError(f"layers must increase, in [0, {L}], got {layers}")
        check_int("shift_bits", shift_bits, 1, 8)
        if multipliers not in MULTIPLIER_KINDS:
            raise ValueError(f"multipliers must be one of {MULTIPLIER_KINDS}, got {multipliers!r}")
        self.cfg, self.layers, self.shift_bits, self.multipliers = cfg, layers, shift_bits, multipliers
        groups = [cfg.groups(n) for n in cfg.sizes]
        self.weight_names = tuple(f"weights_{l}" if l < L else "readout" for l in layers)
        self.trace_names = tuple(f"trace_{l}" for l in layers)
        self.col_bits = [address_bits(cfg.sizes[l]) for l in layers]
        self.mask_widths = [groups[l] * P for l in layers]
        self.max_groups = max(groups[l + 1] for l in layers)
        shapes = memory_shapes(cfg)
        super().__init__({
            "go": In(1), "layer": In(range(max(len(layers), 2))), "group": In(range(self.max_groups + 1)),
            "shift": In(shift_bits), "factor": In(signed(18)).array(P),
            "ready": Out(1), "idle": Out(1),
            "masks": In(sum(self.mask_widths)),
            "reads": Out(wiring.Signature({name: Out(read_request(cfg, name))
                                           for name in (*self.weight_names, *self.trace_names)})),
            "writes": Out(wiring.Signature({
                name: Out(write_request(ceil_log2(shapes[name][1]), P, shapes[name][0] * P))
                for name in self.weight_names})),
        })

    def elaborate(self, platform):
        cfg, P, wb, tb = self.cfg, self.cfg.lanes, self.cfg.weight_bits, self.cfg.trace_bits
        lp = (P - 1).bit_length()
        n, shift_bits, mask_bits, max_groups = len(self.layers), self.shift_bits, max(self.mask_widths), self.max_groups
        m = Module()

        def data(shape, name):
            """A pipeline data register: no reset (a valid bit says when it holds
            something), so the reset net does not reach it."""
            return Signal(shape, name=name, reset_less=True)

        # scan (rtl/bit_scan.py): loaded from the job's layer's snapshot while ready
        offsets = [sum(self.mask_widths[:i]) for i in range(n + 1)]
        scan = BitScan(m, "scan", [self.masks[offsets[i]:offsets[i + 1]] for i in range(n)])
        run = Signal(1, name="run")          # a job is open
        cand = scan.cand
        cand_v = scan.cand_v
        cur_layer = Signal(range(max(n, 2)), name="cur_layer")
        cur_group = Signal(range(max_groups + 1), name="cur_group")
        shift = Signal(shift_bits, name="cur_shift")
        factor = [data(signed(18), f"factor_{p}") for p in range(P)]
        idx = data(range(mask_bits), "idx")       # stage 1 index
        layer_1 = data(range(max(n, 2)), "layer_1")     # stage 1 layer and group: the job
        group_1 = data(range(max_groups + 1), "group_1")  # registers may hold the next job
        # the job's factor and shift as the word issued two cycles ago sees them (its
        # product is made two cycles after its issue, its rounding three)
        factor_d = [[data(signed(18), f"factor_d{d}_{p}") for p in range(P)] for d in (1, 2)]
        shift_d = [data(shift_bits, f"shift_d{d}") for d in (1, 2)]
        v1 = Signal(1, name="v1")                    # stage 1 (read data) valid
        issue = run & cand_v
        # free when no job is open, when its scan is over, or in the cycle that issues its
        # last word (the next job's first word then follows at once); primed, registered (off
        # the hand-over path): a job's mask must then hold still from PRIME_CYCLES + 2 cycles
        # before it is handed over (it does, by many cycles)
        primed = Signal(1, name="primed")
        m.d.sync += primed.eq(scan.primed)
        m.d.comb += self.ready.eq((~run | ~cand_v | scan.last) & primed)

        # pipeline registers
        S = self.STAGES
        v = [Signal(1, name=f"valid_{s}") for s in range(S)]
        pidx = [data(range(mask_bits), f"idx_{s}") for s in range(S)]
        pw_ = [data(P * wb, f"w_{s}") for s in range(S)]
        pl = [data(range(max(n, 2)), f"layer_{s}") for s in range(S)]
        pg = [data(range(max_groups + 1), f"group_{s}") for s in range(S)]
        a_op = [data(tb, f"a_{p}") for p in range(P)]
        prod_w = 18 + tb + 1
        sh = [data(shift_bits, f"shift_{s}") for s in range(3)]   # the shift travels with the products
        # the rounding half 2^(shift-1) must fit too: the total shift goes up to TOTAL_SHIFT_MAX
        rnd = [data(signed(max(prod_w, TOTAL_SHIFT_MAX) + 1), f"round_{p}") for p in range(P)]
        coarse = [data(signed(prod_w + 1), f"coarse_{p}") for p in range(P)]
        step = [data(signed(prod_w + 1), f"step_{p}") for p in range(P)]
        diff = [data(signed(prod_w + 2), f"diff_{p}") for p in range(P)]
        new_word = data(P * wb, "new_word")
        m.d.comb += self.idle.eq(~run & ~Cat(v1, *v).any())

        w_reads = [getattr(self.reads, name) for name in self.weight_names]
        t_reads = [getattr(self.reads, name) for name in self.trace_names]
        w_rd = Array(r.data for r in w_reads)[layer_1] if n > 1 else w_reads[0].data
        a_rd = Array(r.data for r in t_reads)[layer_1] if n > 1 else t_reads[0].data
        a_lane = a_rd.word_select(idx[:lp], tb) if lp else a_rd[:tb]

        # While ready, the job registers follow the job inputs (nothing uses them then), so
        # that ``go`` itself only drives ``run`` and ``cand_v``: a small fan-out.
        m.d.comb += [scan.select.eq(self.layer), scan.load.eq(self.ready), scan.go.eq(self.go),
                     scan.take.eq(issue)]
        with m.If(self.ready):
            m.d.sync += [run.eq(self.go), cur_layer.eq(self.layer), cur_group.eq(self.group),
                         shift.eq(self.shift)]
            m.d.sync += [factor[p].eq(self.factor[p]) for p in range(P)]
        m.d.sync += [v1.eq(issue), idx.eq(cand), layer_1.eq(cur_layer), group_1.eq(cur_group)]
        m.d.sync += [v[0].eq(v1), pidx[0].eq(idx), pw_[0].eq(w_rd), pl[0].eq(layer_1),
                     pg[0].eq(group_1)]
        for regs in (v, pidx, pw_, pl, pg):
            m.d.sync += [regs[s].eq(regs[s - 1]) for s in range(1, S)]
        m.d.sync += [a_op[p].eq(a_lane) for p in range(P)]
        m.d.sync += [factor_d[0][p].eq(factor[p]) for p in range(P)]
        m.d.sync += [factor_d[1][p].eq(factor_d[0][p]) for p in range(P)]
        m.d.sync += [shift_d[0].eq(shift), shift_d[1].eq(shift_d[0])]
        prod = [registered_product(m, factor_d[1][p], a_op[p], name=f"prod_{p}", kind=self.multipliers)
                for p in range(P)]
        m.d.sync += sh[0].eq(shift_d[1])
        m.d.sync += [rnd[p].eq(step_round(prod[p], sh[0])) for p in range(P)] + [sh[1].eq(sh[0])]
        # the barrel shifter in two stages (at most two 4:1 multiplexer levels each):
        # (x >> (s & ~3)) >> (s & 3) == x >> s
        fine = min(2, shift_bits)
        m.d.sync += [coarse[p].eq(step_shift(rnd[p], Cat(Const(0, fine), sh[1][fine:]))) for p in range(P)] + [sh[2].eq(sh[1])]
        m.d.sync += [step[p].eq(step_shift(coarse[p], sh[2][:fine])) for p in range(P)]
        m.d.sync += [diff[p].eq(subtract_step(lane(pw_[S - 3], wb, p), step[p])) for p in range(P)]
        for p in range(P):
            m.d.sync += lane(new_word, wb, p, signed_=False).eq(saturate_weight(cfg, diff[p]))

        # the read and write requests (``engine`` in rtl.memories.READERS and WRITERS)
        for i, (wr, tr, cb) in enumerate(zip(w_reads, t_reads, self.col_bits)):
            m.d.comb += [wr.en.eq(issue & (cur_layer == i)), wr.addr.eq((cur_group << cb) | cand),
                         tr.en.eq(issue & (cur_layer == i)), tr.addr.eq(cand >> lp)]
            w = getattr(self.writes, self.weight_names[i])
            m.d.comb += [w.valid.eq(v[-1] & (pl[-1] == i)), w.addr.eq((pg[-1] << cb) | pidx[-1]),
                         w.en.eq((1 << P) - 1), w.data.eq(new_word)]
        return m
