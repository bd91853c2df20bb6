"""The resident data set in block RAM: 8-bit pixels and labels of a train and a test split.

The host writes it once (``we``, ``sample``, ``col``, ``wdata``: one byte per cycle); the
feeder (:mod:`rtl.feeder`) reads it one spike word's pixels at a time through
:func:`store_read_signature`.  Layout: sample row ``r`` (train samples ``0 .. n_train - 1``,
then test samples ``n_train .. n_train + n_test - 1``) holds ``words = ceil(n_inputs / 32)``
memory words of ``E = min(32, n_inputs)`` bytes; input ``i`` is byte ``i % 32`` of word
``i // 32``, the same lane as in the spike word it becomes.  Rows are ``2^ceil(log2 words)``
words apart so that a row's address is a concatenation, not a multiplication.
"""

from amaranth.hdl import Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.input_encoding import MAX_ENCODER_LANES, encoder_lanes

__all__ = ["DatasetStore", "store_read_signature", "store_fetch_signature", "store_geometry",
           "ebr_estimate"]

PIXEL_BITS = 8
LABEL_BITS = 8          # n_outputs <= 256 (golden.config); a bad label is the core's ERR_LABEL

# ECP5 DP16KD (18 Kbit) aspect ratios: (depth, width); 36 wide only as pseudo dual port,
# which a one-read one-write memory is.
_EBR_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


def _check(name, value, lo, hi):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")


def store_geometry(n_inputs, n_train, n_test):
    """``(lanes, words, words_pow2, rows)`` of a store; validates the parameters."""
    _check("n_inputs", n_inputs, 1, 4096)
    _check("n_train", n_train, 1, 1 << 16)
    _check("n_test", n_test, 0, 1 << 16)
    lanes = encoder_lanes(n_inputs)
    words = -(-n_inputs // MAX_ENCODER_LANES)
    return lanes, words, 1 << (words - 1).bit_length(), n_train + n_test


def _ebr(depth, width):
    return min(-(-depth // d) * -(-width // w) for d, w in _EBR_SHAPES)


def ebr_estimate(n_inputs, n_train, n_test):
    """Block RAMs (DP16KD) the store needs: pixel memory plus label memory, each mapped
    with the cheapest single aspect ratio (what yosys's memory_libmap picks for one port
    pair)."""
    lanes, words, wp, rows = store_geometry(n_inputs, n_train, n_test)
    return _ebr(rows * wp, lanes * PIXEL_BITS) + _ebr(rows, LABEL_BITS)


def store_read_signature(n_inputs, n_train, n_test):
    """The read port, seen from the reader (the feeder).

    Members
    -------
    split : Out(1)
        0 train, 1 test.
    index : Out(range(max(n_train, n_test, 2)))
        Sample within the split.
    word : Out(range(max(words, 2)))
        Spike word of the sample.
    pixels : In(E * 8)
        The word's bytes, one cycle after ``split``/``index``/``word`` (a block RAM read).
    label : In(8)
        The sample's label, with the same latency.
    """
    lanes, words, _, _ = store_geometry(n_inputs, n_train, n_test)
    return wiring.Signature({
        "split": Out(1),
        "index": Out(range(max(n_train, n_test, 2))),
        "word": Out(range(max(words, 2))),
        "pixels": In(lanes * PIXEL_BITS),
        "label": In(LABEL_BITS),
    })


def store_fetch_signature(n_train, n_test):
    """The reader's look-ahead and wait port, for a store that is not always ready (the
    SDRAM store, :mod:`rtl.sdram_store`); a block RAM store leaves it unconnected.

    Members
    -------
    want : Out(1)
        The row at the read port (``split``/``index``) is needed: a run is in progress.
    next_valid : Out(1)
        ``next_split``/``next_index`` name the row the reader will need after this one.
    next_split : Out(1)
    next_index : Out(range(max(n_train, n_test, 2)))
    ready : In(1, init=1)
        The row at the read port is readable with the usual one-cycle latency, and stays so
        while the read port names it.  Unconnected it is 1: a block RAM is always ready.
    """
    return wiring.Signature({
        "want": Out(1),
        "next_valid": Out(1),
        "next_split": Out(1),
        "next_index": Out(range(max(n_train, n_test, 2))),
        "ready": In(1, init=1),
    })


class DatasetStore(wiring.Component):
    """Pixels and labels of ``n_train`` + ``n_test`` samples of ``n_inputs`` inputs.

    Parameters
    ----------
    n_inputs, n_train, n_test : int
        Inputs per sample (1..4096), training samples (1..65536), test samples (0..65536).

    Ports
    -----
    we : In(1)
        Write ``wdata`` this cycle.
    sample : In(range(n_train + n_test))
        Row written: train sample ``k`` is row ``k``, test sample ``k`` is row ``n_train + k``.
    col : In(range(n_inputs + 1))
        Pixel ``col`` (``col < n_inputs``) or, for ``col == n_inputs``, the label.
    wdata : In(8)
        The byte: a pixel ``floor(255 x + 1/2)`` (golden.input_encoding) or a label.
    read : In(store_read_signature(...))
        The feeder's read port (one-cycle latency).

    Writes and reads of the same word in the same cycle are not supported (the host loads
    the store while the feeder is idle).
    """

    def __init__(self, n_inputs, n_train, n_test):
        self.lanes, self.words, self.words_pow2, self.rows = store_geometry(n_inputs, n_train, n_test)
        self.n_inputs, self.n_train, self.n_test = n_inputs, n_train, n_test
        super().__init__({
            "we": In(1),
            "sample": In(range(max(self.rows, 2))),
            "col": In(range(n_inputs + 1)),
            "wdata": In(PIXEL_BITS),
            "read": In(store_read_signature(n_inputs, n_train, n_test)),
        })

    def elaborate(self, platform):
        m = Module()
        word_bits = (self.words_pow2 - 1).bit_length()
        pix = Memory(shape=unsigned(self.lanes * PIXEL_BITS), depth=self.rows * self.words_pow2,
                     init=[])
        lab = Memory(shape=unsigned(LABEL_BITS), depth=self.rows, init=[])
        m.submodules.pixels = pix
        m.submodules.labels = lab
        wp = pix.write_port(granularity=PIXEL_BITS)
        lw = lab.write_port()
        rp = pix.read_port()
        lr = lab.read_port()

        def address(row, word):
            return (row << word_bits) | word if word_bits else row

        # --- host writes: one byte, the lane enable picks it out of the word -----------
        is_label = self.col == self.n_inputs
        lane = self.col[:5] if self.n_inputs > 1 else 0
        word = (self.col >> 5) if self.n_inputs > MAX_ENCODER_LANES else 0
        m.d.comb += [
            wp.addr.eq(address(self.sample, word)),
            wp.data.eq(self.wdata.replicate(self.lanes)),
            wp.en.eq(Mux(self.we & ~is_label, 1 << lane, 0)),
            lw.addr.eq(self.sample),
            lw.data.eq(self.wdata),
            lw.en.eq(self.we & is_label),
        ]

        # --- feeder reads -----------------------------------------------------------------
        row = Signal(range(max(self.rows, 2)))
        m.d.comb += [
            row.eq(self.read.index + Mux(self.read.split, self.n_train, 0)),
            rp.addr.eq(address(row, self.read.word if word_bits else 0)),
            lr.addr.eq(row),
            self.read.pixels.eq(rp.data),
            self.read.label.eq(lr.data),
        ]
        return m
