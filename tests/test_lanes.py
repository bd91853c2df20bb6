"""The lane layout (golden/lanes.py): by hand, and packing then unpacking gives the matrix back."""

import numpy as np

from golden.lanes import address_bits, pack_matrix, unpack_matrix, unpack_vector, unpack_word


def test_address_bits():
    assert [address_bits(n) for n in (1, 2, 3, 4, 5, 128, 129)] == [1, 1, 2, 2, 3, 7, 8]


def test_pack_by_hand():
    # 3 rows x 2 columns, P = 2, 4-bit entries: rows 0, 1 in group 0, row 2 in group 1
    rows = [[1, -1], [2, 3], [-8, 7]]
    words = pack_matrix(rows, 4, 2, 2, address_bits(2), 2)
    assert words == [0x21, 0x3F, 0x08, 0x07]
    assert unpack_word(0x3F, 4, 2, True) == [-1, 3] and unpack_word(0x3F, 4, 2, False) == [15, 3]


def test_roundtrip():
    rng = np.random.default_rng(0)
    for rows, cols, lanes, bits in ((7, 5, 4, 9), (1, 1, 1, 3), (16, 3, 8, 16)):
        m = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=(rows, cols))
        cb = address_bits(cols)
        words = pack_matrix(m, bits, lanes, -(-rows // lanes), cb, cols)
        assert np.array_equal(unpack_matrix(words.__getitem__, rows, cols, cb, bits, lanes), m)
        v = m[:, 0]
        vwords = pack_matrix(v[:, None], bits, lanes, -(-rows // lanes), 0, 1)
        assert np.array_equal(unpack_vector(vwords.__getitem__, rows, bits, lanes, True), v)
