"""The core's memories and its register banks.

Storage, in the lane layout of :mod:`golden.lanes` (``P`` lanes; neuron ``j`` of a layer sits
in lane ``j % P`` of word group ``j // P``):

* ``weights_l`` (one per hidden layer) and ``readout``: word ``(c << col_bits) | i`` holds
  ``W[c*P .. c*P+P-1, i]``;
* ``feedback_l``: word ``(c << class_bits) | k`` holds ``M[c*P .. c*P+P-1, k]``;
* ``membrane_l``, ``surrogate_l``: word ``c``; ``trace_l`` (``l = 0..L``): word ``i // P``;
* spikes, noise signs and "trace is nonzero" flags: bit vectors in registers
  (:class:`NetworkRegisters`); readout, baseline, error and totals: one register per class.

Every memory has one synchronous read port and one write port (so it maps to EBR).  The
write port is shared through a :class:`rtl.write_port_mux.WritePortMux` whose priority list
(highest first) is :data:`WRITERS`, the read port through a
:class:`rtl.read_port_mux.ReadPortMux` whose list is :data:`READERS`; a unit asks for a port
through ``LaneMemory.writer(name)`` / ``LaneMemory.reader(name)``.  No two requesters of one
memory are valid in the same cycle except the host's write default (always valid; its ``en``
says when it writes), which every pipeline overrides.
"""

from amaranth.hdl import Array, Const, Signal, signed, unsigned
from amaranth.lib.memory import Memory
from amaranth.utils import ceil_log2

from golden.core import FixedCore
from golden.lanes import address_bits, pack_matrix

from .read_port_mux import ReadPortMux, read_port_request
from .write_port_mux import WritePortMux

__all__ = ["LaneMemory", "PassMemory", "CoreMemories", "NetworkRegisters", "READERS", "WRITERS", "group_select", "lane",
           "memory_shapes", "read_request", "valid_lanes"]

WRITERS = {
    # memory kind: its write port's requesters, highest priority first
    "weights": ("engine", "host"),              # the hidden engine's write-back; the host's WRITE
    "readout": ("engine", "host"),              # the readout engine's write-back; the host's WRITE
    "feedback": ("feedback_pass", "host"),      # the momentum update's write-back; the host's WRITE
    "membrane": ("forward", "clear"),           # FIN's stage 2; START's CLEAR
    "surrogate": ("forward",),                  # FIN's stage 3
    "trace_0": ("input_trace", "clear"),        # the input trace unit; START's CLEAR
    "trace": ("forward", "clear"),              # FIN's stage 3 (a_1 .. a_L); START's CLEAR
}

READERS = {
    # memory kind: its read port's requesters, highest priority first (no two of them read
    # one memory in the same cycle)
    "weights": ("engine", "forward", "host"),   # the hidden engine; ACC; READ
    "readout": ("engine", "forward", "host"),   # the readout engine; OUT_ACC; READ
    "feedback": ("feedback_pass", "host"),      # MP_RUN; READ
    "membrane": ("forward", "host"),            # START / ACC / FIN read ahead; READ
    "surrogate": ("feedback_pass",),            # MP_START, WP_JOB
    "trace_0": ("engine", "host", "input_trace"),
    "trace": ("engine", "forward", "host"),     # an engine (a_1 .. a_L); START / FIN; READ
}


LUT_RAM_WORDS = 16     # an ECP5 LUT RAM's depth (TRELLIS_DPR16X4): an asynchronous read


def memory_shapes(cfg):
    """Every memory's ``(lane_bits, depth)`` by name (the names of ``CoreMemories.by_name``),
    so that a unit can size its requests from the configuration alone."""
    L, nout, sizes = cfg.n_hidden_layers, cfg.n_outputs, cfg.sizes
    groups = [cfg.groups(n) for n in sizes]
    col_bits = [address_bits(n) for n in sizes]
    wb, fbb = cfg.weight_bits, cfg.feedback_bits
    return {**{f"weights_{l}": (wb, groups[l + 1] << col_bits[l]) for l in range(L)},
            "readout": (wb, groups[L + 1] << col_bits[L]),
            **{f"feedback_{l}": (fbb, groups[l + 1] << address_bits(nout)) for l in range(L)},
            **{f"membrane_{l}": (cfg.membrane_bits, groups[l + 1]) for l in range(L)},
            **{f"surrogate_{l}": (cfg.surrogate_frac_bits + 1, groups[l + 1]) for l in range(L)},
            **{f"trace_{l}": (cfg.trace_bits, groups[l]) for l in range(L + 1)}}


def read_request(cfg, name):
    """The signature of one reader of memory ``name``, from the reader's side: ``en`` (a read
    whose data is used is out), ``addr``; ``data`` is the word read, the next cycle."""
    bits, depth = memory_shapes(cfg)[name]
    return read_port_request(ceil_log2(depth), bits * cfg.lanes)


def group_select(index, groups):
    """The bits of ``index`` that pick one of ``groups`` word groups (a 1-bit 0 for one group,
    because Amaranth's ``word_select`` wants an index of at least one bit)."""
    return index[:address_bits(groups)] if groups > 1 else Const(0, 1)


class LaneMemory:
    """A memory of ``lanes``-entry words with one synchronous read port and one write port.

    Parameters
    ----------
    m : Module
        The module the memory is added to, as ``m.submodules[name]``.
    name : str
        Its name (also the name the testbenches peek it by).
    lane_bits, lanes, depth : int
        Entry width, entries per word, words.
    init : list of int, optional
        Initial words.
    no_rw_check : bool
        Promise that no read whose data is used hits the word written in its cycle.
    lane_writes : bool
        One write enable per lane (the block RAM's byte enables).
    writers, readers : tuple of str
        The write and read ports' requesters, highest priority first (:data:`WRITERS`,
        :data:`READERS`); without readers, :meth:`read` drives the read port.
    registered_addr : bool
        Register the read address and read asynchronously from the register (a LUT RAM's
        own read): the data still arrives the cycle after the request, but the requesters'
        address multiplexer ends at a flip-flop instead of running on into the LUT RAM's
        read address.  A read of a word written in the same cycle then returns the new
        word (a synchronous port returns the old): only for memories where no used read
        meets a write to its word in one cycle.
    """

    def __init__(self, m, name, lane_bits, lanes, depth, init=None, no_rw_check=False,
                 lane_writes=False, writers=(), readers=(), registered_addr=False):
        self.lane_bits, self.lanes, self.depth = lane_bits, lanes, depth
        # no_rw_check (the block RAMs): no read whose data is used hits the word written in
        # the same cycle (each pass visits an address once; the host reads, then writes),
        # so yosys need not emulate read-first behaviour around them (a flip-flop per data
        # bit and address compares on the write path; rtl/build.py:mark_no_rw_check).
        # tests/test_rtl_core.py checks the premise with ``live``.
        mem = Memory(shape=unsigned(lane_bits * lanes), depth=depth, init=init or [],
                     attrs={"no_rw_check": 1} if no_rw_check else {})
        m.submodules[name] = mem
        self.memory = mem                  # for testbenches: ``ctx.get(memory.data[i])``
        self.no_rw_check = no_rw_check
        if registered_addr and not readers:
            raise ValueError(f"{name}: registered_addr needs readers (the address register follows their multiplexer)")
        self.rd = mem.read_port(domain="comb" if registered_addr else "sync")
        # lane_writes: one write enable per lane (the block RAMs' byte enables), so that the
        # host writes one entry without reading, patching and writing back its whole word;
        # the pipelines write every lane (``all_lanes``)
        self.wr = mem.write_port(granularity=lane_bits if lane_writes else None)
        self.all_lanes = (1 << lanes) - 1 if lane_writes else 1
        self.live = Signal(name=f"{name}_read_live")   # a read whose data is used is out
        self.registered_addr = registered_addr
        self.read_addr = self.rd.addr       # the address a read asks for (before any address register)
        if writers:
            mux = WritePortMux(addr_width=len(self.wr.addr), en_width=len(self.wr.en),
                               data_width=len(self.wr.data), requesters=writers)
            m.submodules[f"{name}_writers"] = self.writers = mux
            m.d.comb += [self.wr.addr.eq(mux.port.addr), self.wr.en.eq(mux.port.en),
                         self.wr.data.eq(mux.port.data)]
        self.readers = None
        if readers:
            mux = ReadPortMux(addr_width=len(self.rd.addr), data_width=len(self.rd.data), requesters=readers)
            m.submodules[f"{name}_readers"] = self.readers = mux
            if registered_addr:
                read_addr = Signal.like(self.rd.addr, name=f"{name}_read_addr")
                m.d.sync += read_addr.eq(mux.port.addr)
                m.d.comb += self.rd.addr.eq(read_addr)
                self.read_addr = mux.port.addr
            else:
                m.d.comb += self.rd.addr.eq(mux.port.addr)
            m.d.comb += [self.live.eq(mux.port.en), mux.port.data.eq(self.rd.data)]

    def writer(self, name):
        """The write port's requester ``name`` (drive its ``valid``; ``addr``, ``en``, ``data``
        unconditionally)."""
        return self.writers.request(name)

    def reader(self, name):
        """The read port's requester ``name`` (drive its ``en`` and ``addr``; ``data`` is the
        word read, the next cycle)."""
        return self.readers.request(name)

    def read(self, m, addr):
        """Read the word at ``addr`` (its data arrives the next cycle); only for a memory
        without ``readers``."""
        assert self.readers is None
        m.d.comb += [self.rd.addr.eq(addr), self.live.eq(1)]


class PassMemory:
    """A memory as a pass sees it: its read request (``data``, ``read``) and write request
    (``wr``), either of them ``None`` when the pass has none."""

    def __init__(self, reads, writes, name):
        self.req, self.wr = getattr(reads, name, None), getattr(writes, name, None)
        self.data = self.req.data if self.req is not None else None

    def read(self, m, addr):
        m.d.comb += [self.req.en.eq(1), self.req.addr.eq(addr)]


class CoreMemories:
    """Every memory of one configuration, initialised from :class:`golden.core.FixedCore`.

    Attributes
    ----------
    weights, feedback, membrane, surrogate : list of LaneMemory
        One per hidden layer.
    readout : LaneMemory
        ``W_out``.
    trace : list of LaneMemory
        ``a_0`` (input traces) .. ``a_L``.
    by_name : dict
        All of them by name (for tests that watch the ports, :mod:`sim.pysim`).
    """

    def __init__(self, m, cfg):
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        sizes = cfg.sizes
        groups = [cfg.groups(n) for n in sizes]
        col_bits = [address_bits(n) for n in sizes]
        class_bits = address_bits(nout)
        wb, fbb = cfg.weight_bits, cfg.feedback_bits
        init = FixedCore(cfg)
        self.weights = [LaneMemory(m, f"weights_{l}", wb, P, groups[l + 1] << col_bits[l],
                                   pack_matrix(init.weights[l], wb, P, groups[l + 1], col_bits[l], sizes[l]),
                                   no_rw_check=True, lane_writes=True, writers=WRITERS["weights"], readers=READERS["weights"])
                        for l in range(L)]
        self.readout = LaneMemory(m, "readout", wb, P, groups[L + 1] << col_bits[L],
                                  pack_matrix(init.weights[L], wb, P, groups[L + 1], col_bits[L], sizes[L]),
                                  no_rw_check=True, lane_writes=True, writers=WRITERS["readout"], readers=READERS["readout"])
        self.feedback = [LaneMemory(m, f"feedback_{l}", fbb, P, groups[l + 1] << class_bits,
                                    pack_matrix(init.feedback[l], fbb, P, groups[l + 1], class_bits, nout),
                                    no_rw_check=True, lane_writes=True, writers=WRITERS["feedback"],
                                    readers=READERS["feedback"])
                         for l in range(L)]
        # the membranes' words are never read in the cycle they are written (a group's word
        # is read ahead before its FIN and written after it; the host reads outside passes),
        # so a LUT-RAM membrane reads from a registered address (LUT_RAM_WORDS)
        self.membrane = [LaneMemory(m, f"membrane_{l}", cfg.membrane_bits, P, groups[l + 1],
                                    writers=WRITERS["membrane"], readers=READERS["membrane"],
                                    registered_addr=groups[l + 1] <= LUT_RAM_WORDS)
                         for l in range(L)]
        # the surrogates likewise: written in FIN's stage 3, read by the feedback pass after
        # the forward pass has ended (its read address is a multiplexer of the pass's state and
        # group counters, which ran 9 ns of routing into a LUT-RAM read at P = 16)
        self.surrogate = [LaneMemory(m, f"surrogate_{l}", cfg.surrogate_frac_bits + 1, P, groups[l + 1],
                                     writers=WRITERS["surrogate"], readers=READERS["surrogate"],
                                     registered_addr=groups[l + 1] <= LUT_RAM_WORDS)
                          for l in range(L)]
        # the traces likewise: a group's trace word is read before its FIN and written two
        # cycles after it, the engines read them after the forward pass, the input trace
        # unit reads a word before it writes it (tests/test_rtl_core.py watches the premise)
        self.trace = [LaneMemory(m, f"trace_{l}", cfg.trace_bits, P, groups[l], writers=WRITERS[kind],
                                 readers=READERS[kind], registered_addr=groups[l] <= LUT_RAM_WORDS)
                      for l, kind in enumerate(["trace_0"] + ["trace"] * L)]
        self.by_name = {**{f"weights_{l}": self.weights[l] for l in range(L)}, "readout": self.readout,
                        **{f"feedback_{l}": self.feedback[l] for l in range(L)},
                        **{f"membrane_{l}": self.membrane[l] for l in range(L)},
                        **{f"surrogate_{l}": self.surrogate[l] for l in range(L)},
                        **{f"trace_{l}": self.trace[l] for l in range(L + 1)}}
        assert {n: (mm.lane_bits, mm.depth) for n, mm in self.by_name.items()} == memory_shapes(cfg)


class NetworkRegisters:
    """The network state kept in registers: bit vectors and one register per class.

    Attributes
    ----------
    xbits : Signal
        This step's input spikes.
    spikes, noise, trace_nz : list of Signal
        Per hidden layer: spikes, this step's noise signs; per layer ``0..L``: "the trace
        is nonzero" flags (the update engines' scan masks).
    outputs, baseline, error, total : Array of Signal
        Per class: readout ``o_k``, baseline ``b_k``, error ``e_k``, the sample's total.
    """

    def __init__(self, cfg):
        P, L, nout = cfg.lanes, cfg.n_hidden_layers, cfg.n_outputs
        groups = [cfg.groups(n) for n in cfg.sizes]
        ob, eb = cfg.output_bits, cfg.error_frac_bits + 2
        self.xbits = Signal(groups[0] * P, name="xbits")
        self.spikes = [Signal(groups[l + 1] * P, name=f"spikes_{l}") for l in range(L)]
        self.noise = [Signal(groups[l + 1] * P, name=f"noise_{l}") for l in range(L)]
        self.trace_nz = [Signal(groups[l] * P, name=f"trace_nz_{l}") for l in range(L + 1)]
        self.outputs = Array(Signal(signed(ob), name=f"o_{k}") for k in range(nout))
        self.baseline = Array(Signal(signed(ob), name=f"baseline_{k}") for k in range(nout))
        self.error = Array(Signal(signed(eb), name=f"e_{k}") for k in range(nout))
        self.total_bits = ob + cfg.timesteps.bit_length()
        self.total = Array(Signal(signed(self.total_bits), name=f"total_{k}") for k in range(nout))


def lane(word, bits, p, signed_=True):
    """Lane ``p`` of a memory word of ``bits``-bit entries (signed unless told)."""
    v = word[p * bits:(p + 1) * bits]
    return v.as_signed() if signed_ else v


def valid_lanes(n, groups, lanes):
    """The lane-valid bits of a layer of ``n`` neurons in ``groups`` words: a constant."""
    return Const((1 << n) - 1, groups * lanes)
