"""The weight-update engine: the passes ``W -= round_shift(factor * a^T, shift)`` as jobs.

The sequencer (:mod:`rtl.core`) hands the engine one *job* at a time: a layer, a word group
``c`` of that layer's neurons, the factor word of those ``P`` neurons (``d`` for a hidden
layer, ``e`` for the readout), the mask of presynaptic neurons whose trace is nonzero and
the learning-rate shift.  The engine then works on its own while the sequencer goes on
(with the next group's feedback pass): the two use different memories, so learning costs
the slower of the two, not their sum.

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
4      ``step = that >> shift`` registered (barrel shifter)
5      ``W - step`` registered (exact)
6      ``W = sat_w(W - step)`` written back
====== ==================================================================================

The stages after 2 cost no cycles but the last job's drain: a new job only waits for the
previous one's last product (stage 2).

The masks (which presynaptic traces are nonzero) do not change while learning runs, so
the engine's :class:`rtl.bit_scan.BitScan` keeps a snapshot of each layer's scan: a job
starts visiting on the cycle after it is accepted (``ready`` waits until the snapshot is
the mask's own), and no address depends on the job hand-over.

Every stage carries its layer, group and index, so the next job is accepted as soon as the
last product of the previous one has been taken (the factor register is then free).  A
pass never visits one address twice and two jobs never share a group, so a write-back can
never race a read.
"""

from amaranth.hdl import Array, Cat, Signal, signed

from .bit_scan import BitScan
from .memories import lane
from .multiplier import registered_product
from .update_rule import saturate_weight, step_round, step_shift, subtract_step

__all__ = ["UpdateEngine"]


class UpdateEngine:
    """One weight-update engine inside the core's module ``m``.

    Parameters
    ----------
    m : amaranth.hdl.Module
        The core's module; the engine adds its logic to it.
    name : str
        Prefix of the engine's signal names.
    cfg : golden.config.CoreConfig
    weights, traces : list of rtl.memories.LaneMemory
        For each layer the engine serves (job layer ``0 .. len(weights) - 1``): the weight
        memory it updates and the trace memory of that layer's inputs.
    masks : list of Value
        For each layer: which of its inputs have a nonzero trace.  Must hold still from
        ``BitScan.PRIME_CYCLES + 2`` cycles before a job of that layer is accepted until
        the job is done (``ready`` waits for the scan's snapshot).
    col_bits : list of int
        Column address bits of each weight memory.
    mask_bits : int
        Width of the nonzero-trace masks (the widest input layer served).
    max_groups : int
        Largest word-group count of the layers served.
    shift_bits : int
        Width of the learning-rate shift (the barrel shifter has one level per bit).
    multipliers : {"inferred", "ecp5"}
        How the product registers are made (:func:`rtl.multiplier.registered_product`).

    Attributes
    ----------
    go : Signal, in
        Accept the job on ``layer``, ``group``, ``shift``, ``factor``; assert only
        when ``ready``.
    ready : Value
        A job can be accepted this cycle.
    idle : Value
        No job is running and the pipeline is empty (every write has happened).
    """

    STAGES = 5                       # registered stages between the read data and the write

    def __init__(self, m, name, *, cfg, weights, traces, masks, col_bits, mask_bits, max_groups,
                 shift_bits, multipliers="inferred"):
        P, wb, tb = cfg.lanes, cfg.weight_bits, cfg.trace_bits
        lp = (P - 1).bit_length()
        n = len(weights)
        self._m, self._weights, self._traces, self._col_bits, self._lp = m, weights, traces, col_bits, lp

        def sig(shape, suffix, **kw):
            return Signal(shape, name=f"{name}_{suffix}", **kw)

        def data(shape, suffix):
            """A pipeline data register: no reset (a valid bit says when it holds
            something), so the reset net does not reach it."""
            return sig(shape, suffix, reset_less=True)

        # job interface
        self.go = sig(1, "go")
        self.layer = sig(range(max(n, 2)), "job_layer")
        self.group = sig(range(max_groups + 1), "job_group")
        self.shift = sig(shift_bits, "job_shift")
        self.factor = [sig(signed(18), f"job_factor_{p}") for p in range(P)]

        # scan (rtl/bit_scan.py): loaded from the job's layer's snapshot while ready
        self.scan = scan = BitScan(m, f"{name}_scan", masks)
        self.run = run = sig(1, "run")          # a job is open
        self.cand = cand = scan.cand
        cand_v = scan.cand_v
        self.cur_layer = cur_layer = sig(range(max(n, 2)), "layer")
        self.cur_group = cur_group = sig(range(max_groups + 1), "group")
        shift = sig(shift_bits, "shift")
        factor = [data(signed(18), f"factor_{p}") for p in range(P)]
        idx = data(range(mask_bits), "idx")       # stage 1 index
        v1 = sig(1, "v1")                        # stage 1 (read data) valid
        self.issue = run & cand_v
        # free when nothing is left to visit and the last read is past stage 1, whose
        # product is the last use of ``factor``
        # primed, registered (off the hand-over path): a job's mask must then hold still
        # from PRIME_CYCLES + 2 cycles before it is handed over (it does, by many cycles)
        primed = sig(1, "primed")
        m.d.sync += primed.eq(scan.primed)
        self.ready = (~run | (~cand_v & ~v1)) & primed

        # pipeline registers
        S = self.STAGES
        self.v = v = [sig(1, f"valid_{s}") for s in range(S)]
        self.idx = pidx = [data(range(mask_bits), f"idx_{s}") for s in range(S)]
        pw_ = [data(P * wb, f"w_{s}") for s in range(S)]
        self.pl = pl = [data(range(max(n, 2)), f"layer_{s}") for s in range(S)]
        self.pg = pg = [data(range(max_groups + 1), f"group_{s}") for s in range(S)]
        a_op = [data(tb, f"a_{p}") for p in range(P)]
        prod_w = 18 + tb + 1
        sh = [data(shift_bits, f"shift_{s}") for s in range(2)]   # the shift travels with the products
        rnd = [data(signed(prod_w + 1), f"round_{p}") for p in range(P)]
        step = [data(signed(prod_w + 1), f"step_{p}") for p in range(P)]
        diff = [data(signed(prod_w + 2), f"diff_{p}") for p in range(P)]
        self.new_word = new_word = sig(P * wb, "new_word")
        self.idle = ~run & ~Cat(v1, *v).any()

        w_rd = Array(wm.rd.data for wm in weights)[cur_layer] if n > 1 else weights[0].rd.data
        a_rd = Array(tm.rd.data for tm in traces)[cur_layer] if n > 1 else traces[0].rd.data
        a_lane = a_rd.word_select(idx[:lp], tb) if lp else a_rd[:tb]

        # While ready, the job registers follow the job inputs (nothing uses them then), so
        # that ``go`` itself only drives ``run`` and ``cand_v``: a small fan-out.
        m.d.comb += [scan.select.eq(self.layer), scan.load.eq(self.ready), scan.go.eq(self.go),
                     scan.take.eq(self.issue)]
        with m.If(self.ready):
            m.d.sync += [run.eq(self.go), cur_layer.eq(self.layer), cur_group.eq(self.group),
                         shift.eq(self.shift)]
            m.d.sync += [factor[p].eq(self.factor[p]) for p in range(P)]
        m.d.sync += [v1.eq(self.issue), idx.eq(cand)]
        m.d.sync += [v[0].eq(v1), pidx[0].eq(idx), pw_[0].eq(w_rd), pl[0].eq(cur_layer),
                     pg[0].eq(cur_group)]
        for regs in (v, pidx, pw_, pl, pg):
            m.d.sync += [regs[s].eq(regs[s - 1]) for s in range(1, S)]
        m.d.sync += [a_op[p].eq(a_lane) for p in range(P)]
        prod = [registered_product(m, factor[p], a_op[p], name=f"{name}_prod_{p}", kind=multipliers)
                for p in range(P)]
        m.d.sync += sh[0].eq(shift)
        m.d.sync += [rnd[p].eq(step_round(prod[p], sh[0])) for p in range(P)] + [sh[1].eq(sh[0])]
        m.d.sync += [step[p].eq(step_shift(rnd[p], sh[1])) for p in range(P)]
        m.d.sync += [diff[p].eq(subtract_step(lane(pw_[3], wb, p), step[p])) for p in range(P)]
        for p in range(P):
            m.d.comb += lane(new_word, wb, p, signed_=False).eq(saturate_weight(cfg, diff[p]))

    def ports(self):
        """Drive the engine's read and write requests (``engine`` in
        :data:`rtl.memories.READERS` and :data:`rtl.memories.WRITERS`)."""
        m, lp = self._m, self._lp
        for l, (wm, tm, cb) in enumerate(zip(self._weights, self._traces, self._col_bits)):
            wr, tr = wm.reader("engine"), tm.reader("engine")
            m.d.comb += [wr.en.eq(self.issue & (self.cur_layer == l)), wr.addr.eq((self.cur_group << cb) | self.cand),
                         tr.en.eq(self.issue & (self.cur_layer == l)), tr.addr.eq(self.cand >> lp)]
            w = wm.writer("engine")
            m.d.comb += [w.valid.eq(self.v[-1] & (self.pl[-1] == l)), w.addr.eq((self.pg[-1] << cb) | self.idx[-1]),
                         w.en.eq(wm.all_lanes), w.data.eq(self.new_word)]
