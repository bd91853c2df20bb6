"""The bit scan: the set bits of a mask, lowest first, one per cycle.

Passes over inputs visit only the inputs whose spike (forward) or trace (weight update) is
nonzero.  Every mask a pass scans holds still while it is scanned, so the scan never copies
it: it walks it in *chunks* of ``C`` bits and keeps only short state in registers.

:class:`BitScan` is a four-place queue, every place a register, filled from the front:

========= ==========================================================================
place     holds
========= ==========================================================================
``cand``  the index to visit now (the memory address comes straight from it)
``cur``   the rest of the chunk ``cand`` came from
``nxt``   the next chunk with a set bit, its bits read from the mask
``sel``   the number of the chunk after it; ``left``: the nonzero chunks after that
========= ==========================================================================

When the consumer *takes* ``cand``, the lowest bit of ``cur`` (or, once ``cur`` is empty,
of ``nxt``) becomes ``cand``; a used ``nxt`` is refilled from ``sel``'s chunk of the mask and
``sel`` from the lowest chunk of ``left``.  So between registers there is one ``C``-bit
carry chain (or one mask-chunk multiplexer), whatever the mask's width, and ``cand_v``
falls exactly when the last set bit has been taken.

A scan *loads* its queue from a snapshot of its mask: the queue as it stands before the
first take.  A primer per mask makes that snapshot, pipelined over :attr:`PRIME_CYCLES`
cycles, all the time; ``primed`` says that the mask held still long enough for the
snapshot to be its own (registered, so it sees a write one cycle late).  The sequencer loads a scan only when it is primed, and may load
it again (the same mask for the next word group) as often as it likes.

:func:`lowest_set` is the combinational step: one subtract isolates the lowest set bit, an
OR per index bit encodes it.
"""

from amaranth.hdl import Array, Cat, Const, Mux, Signal

from golden.lanes import address_bits

__all__ = ["lowest_set", "BitScan"]


def lowest_set(v):
    """``(index, any, rest)`` of ``v``: the index of its lowest set bit (0 when ``v == 0``),
    whether any bit is set, and ``v`` with that bit cleared."""
    n = len(v)
    below = (v - 1)[:n]                      # the lowest set bit and all under it flip
    rest = v & below
    onehot = v & ~below
    ib = address_bits(n)
    index = Cat(*(Cat(*(onehot[i] for i in range(n) if (i >> b) & 1)).any() if n > (1 << b)
                  else Const(0, 1) for b in range(ib)))
    return index, v.any(), rest


class _Queue:
    """The registers of one scan queue (the live one, or a primer's snapshot)."""

    def __init__(self, prefix, C, nc):
        def sig(shape, suffix):
            return Signal(shape, name=f"{prefix}_{suffix}")
        self.cand_bit = sig(address_bits(C), "cand_bit")
        self.cand_chunk = sig(address_bits(nc), "cand_chunk")
        self.cand_v = sig(1, "cand_v")
        self.cur = sig(C, "cur")
        self.cur_any = sig(1, "cur_any")
        self.cur_chunk = sig(address_bits(nc), "cur_chunk")
        self.nxt = sig(C, "nxt")
        self.nxt_chunk = sig(address_bits(nc), "nxt_chunk")
        self.nxt_v = sig(1, "nxt_v")
        self.sel = sig(address_bits(nc), "sel")
        self.sel_v = sig(1, "sel_v")
        self.left = sig(nc, "left")

    def fields(self):
        return [self.cand_bit, self.cand_chunk, self.cand_v, self.cur, self.cur_any, self.cur_chunk,
                self.nxt, self.nxt_chunk, self.nxt_v, self.sel, self.sel_v, self.left]


class BitScan:
    """A pipelined scan of one of several stable masks, built into the module ``m``.

    Parameters
    ----------
    m : amaranth.hdl.Module
    name : str
        Prefix of the signal names.
    masks : list of Value
        The masks the scan can walk (a layer's inputs each).  A mask must hold still from
        :attr:`PRIME_CYCLES` cycles before a load until its scan is done.
    chunk : int
        Bits per chunk ``C`` (a power of two).

    Attributes
    ----------
    select : Signal, in
        The mask a load takes.
    load : Signal, in
        Load the queue from the selected mask's snapshot (the scan restarts); wins over take.
    go : Signal, in (default 1)
        With ``load``: whether the loaded scan runs (``cand_v`` is the snapshot's and ``go``).
    take : Signal, in
        The consumer uses ``cand`` this cycle (only while ``cand_v``).
    cand, cand_v : Value
        The index to visit (registers: chunk number and bit), and whether there is one.
    last : Value
        ``cand`` is the last set bit (with ``cand_v``): a take now ends the scan, so a
        consumer may load the next scan in the same cycle (made of two registers).
    primed : Value
        The selected mask's snapshot is up to date, if the mask did not change at the last
        clock edge (that is seen one cycle later): never load in the cycle after a mask
        was written.
    """

    PRIME_CYCLES = 4

    def __init__(self, m, name, masks, *, chunk=8):
        if chunk < 2 or chunk & (chunk - 1):
            raise ValueError(f"chunk must be a power of two >= 2, got {chunk}")
        C = chunk
        width = max(len(v) for v in masks)
        nc = -(-width // C)
        self.select = Signal(range(max(2, len(masks))), name=f"{name}_select")
        self.load = Signal(name=f"{name}_load")
        self.go = Signal(name=f"{name}_go", init=1)
        self.take = Signal(name=f"{name}_take")
        padded = [Cat(v, Const(0, nc * C - len(v))) if len(v) < nc * C else v for v in masks]

        def chunk_of(mask, c):
            return mask.word_select(c, C) if nc > 1 else mask[:C]

        # --- one primer per mask: the snapshot, four registered stages -------------------
        snaps, primed = [], []
        for k, mask in enumerate(padded):
            p = f"{name}_prime{k}"
            prev = Signal(nc * C, name=f"{p}_prev")
            # chunk c of the mask now == chunk c one cycle earlier, registered per chunk (a
            # C-bit compare each), so that no compare as wide as the mask ends at a register
            same_c = Signal(nc, name=f"{p}_same")
            same = same_c.all()
            hist = Signal(2, name=f"{p}_hist")
            m.d.sync += [prev.eq(mask), hist.eq(Cat(same, hist[0]))]
            m.d.sync += [same_c[c].eq(chunk_of(prev, c) == chunk_of(mask, c)) for c in range(nc)]
            # the snapshot reads the mask over four cycles: it is the mask's own once the mask
            # has been the same for them (same: the last two; hist: the two pairs before).  A
            # change at the last clock edge is not seen yet: see ``primed``.
            primed.append(same & hist.all())
            nz = Signal(nc, name=f"{p}_nz")            # stage 1: which chunks have a set bit
            m.d.sync += nz.eq(Cat(*(chunk_of(mask, c).any() for c in range(nc))))
            c0, v0, left1 = Signal(address_bits(nc), name=f"{p}_c0"), Signal(name=f"{p}_v0"), Signal(nc, name=f"{p}_left1")
            i0, a0, r0 = lowest_set(nz)                # stage 2: the first chunk
            m.d.sync += [c0.eq(i0), v0.eq(a0), left1.eq(r0)]
            ch0 = Signal(C, name=f"{p}_ch0")           # stage 3: its bits; the second chunk
            c0b, v0b = Signal(address_bits(nc), name=f"{p}_c0b"), Signal(name=f"{p}_v0b")
            c1, v1, left2 = Signal(address_bits(nc), name=f"{p}_c1"), Signal(name=f"{p}_v1"), Signal(nc, name=f"{p}_left2")
            i1, a1, r1 = lowest_set(left1)
            m.d.sync += [ch0.eq(chunk_of(mask, c0)), c0b.eq(c0), v0b.eq(v0), c1.eq(i1), v1.eq(a1), left2.eq(r1)]
            s = _Queue(p, C, nc)                       # stage 4: the snapshot
            bi, _, br = lowest_set(ch0)
            i2, a2, r2 = lowest_set(left2)
            m.d.sync += [s.cand_bit.eq(bi), s.cand_chunk.eq(c0b), s.cand_v.eq(v0b),
                         s.cur.eq(br), s.cur_any.eq(br.any()), s.cur_chunk.eq(c0b),
                         s.nxt.eq(chunk_of(mask, c1)), s.nxt_chunk.eq(c1), s.nxt_v.eq(v1),
                         s.sel.eq(i2), s.sel_v.eq(a2), s.left.eq(r2)]
            snaps.append(s)

        # --- the live queue ---------------------------------------------------------------
        q = _Queue(name, C, nc)
        self._q = q
        self.cand = Cat(q.cand_bit, q.cand_chunk)
        self.cand_v = q.cand_v
        # a take of ``cand`` leaves nothing: the next cand_v is ``cur_any | nxt_v`` (registers)
        self.last = ~q.cur_any & ~q.nxt_v
        src = Signal(range(max(2, len(masks))), name=f"{name}_mask")   # the mask being walked
        pick = (lambda sigs: Array(sigs)[self.select]) if len(masks) > 1 else (lambda sigs: sigs[0])
        self.primed = pick(primed)
        live = Array(padded)[src] if len(masks) > 1 else padded[0]

        from_cur = q.cur_any                      # take the next bit from cur, else from nxt
        word = Signal(C, name=f"{name}_word")
        m.d.comb += word.eq(Mux(from_cur, q.cur, q.nxt))
        wi, _, wr = lowest_set(word)
        si, sa, sr = lowest_set(q.left)
        with m.If(self.load):
            m.d.sync += [dst.eq(pick(list(srcs))) for dst, *srcs in zip(q.fields(), *(s.fields() for s in snaps))]
            m.d.sync += [q.cand_v.eq(pick([s.cand_v for s in snaps]) & self.go), src.eq(self.select)]
        with m.Elif(self.take):
            m.d.sync += [q.cand_bit.eq(wi), q.cand_v.eq(from_cur | q.nxt_v), q.cur.eq(wr),
                         q.cur_any.eq(wr.any())]
            with m.If(~from_cur):               # nxt moves into cand/cur: refill it from sel
                m.d.sync += [q.cand_chunk.eq(q.nxt_chunk), q.cur_chunk.eq(q.nxt_chunk),
                             q.nxt.eq(chunk_of(live, q.sel)), q.nxt_chunk.eq(q.sel), q.nxt_v.eq(q.sel_v),
                             q.sel.eq(si), q.sel_v.eq(sa), q.left.eq(sr)]
            with m.Else():
                m.d.sync += q.cand_chunk.eq(q.cur_chunk)
