"""The lane layout of the core's memories: one home for the packing rule.

``P`` lanes: neuron ``j`` of a layer sits in lane ``j % P`` of word group ``c = j // P``.  A
matrix whose rows are neurons (weights, feedback matrices) puts ``M[c*P .. c*P+P-1, i]`` at
word ``(c << col_bits) | i``, where ``col_bits = address_bits(cols)`` makes the address a
concatenation rather than a multiply; a vector (membranes, surrogates, traces) puts group
``c`` at word ``c``.  The gateware initialises its memories with :func:`pack_matrix`, the
testbenches read them back with :func:`unpack_matrix` and :func:`unpack_vector`.
"""

__all__ = ["address_bits", "pack_matrix", "unpack_word", "unpack_matrix", "unpack_vector"]


def address_bits(n):
    """Address bits to index ``n`` items (at least 1, so that an index is never 0 bits)."""
    return max(1, (n - 1).bit_length())


def pack_matrix(rows, lane_bits, lanes, groups, col_bits, cols):
    """Memory words of a ``len(rows) x cols`` integer matrix in the lane layout.

    Parameters
    ----------
    rows : sequence of sequences of int
        The matrix, one row per neuron.
    lane_bits : int
        Bits of one entry (two's complement, truncated).
    lanes, groups, col_bits, cols : int
        ``P``, the word groups of the rows, the column address bits and the columns.

    Returns
    -------
    list of int
        ``groups << col_bits`` words.
    """
    mask = (1 << lane_bits) - 1
    words = [0] * (groups << col_bits)
    for j in range(len(rows)):
        c, p = divmod(j, lanes)
        for i in range(cols):
            words[(c << col_bits) | i] |= (int(rows[j][i]) & mask) << (p * lane_bits)
    return words


def unpack_word(word, bits, lanes, signed):
    """The ``lanes`` entries of one memory word, lane 0 first."""
    out = []
    for p in range(lanes):
        v = (word >> (p * bits)) & ((1 << bits) - 1)
        if signed and v >> (bits - 1):
            v -= 1 << bits
        out.append(v)
    return out


def unpack_matrix(read_word, rows, cols, col_bits, bits, lanes, signed=True):
    """The ``rows x cols`` matrix stored by :func:`pack_matrix`, as nested lists;
    ``read_word(address)`` returns one memory word as an unsigned int."""
    out = [[0] * cols for _ in range(rows)]
    for c in range(-(-rows // lanes)):
        for i in range(cols):
            for p, v in enumerate(unpack_word(read_word((c << col_bits) | i), bits, lanes, signed)):
                if c * lanes + p < rows:
                    out[c * lanes + p][i] = v
    return out


def unpack_vector(read_word, n, bits, lanes, signed):
    """The ``n`` entries of a vector memory (group ``c`` at word ``c``), as a list."""
    out = [0] * n
    for c in range(-(-n // lanes)):
        for p, v in enumerate(unpack_word(read_word(c), bits, lanes, signed)):
            if c * lanes + p < n:
                out[c * lanes + p] = v
    return out
