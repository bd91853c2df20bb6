"""Commands of the resident system: the data set store, sample order, runs and counters.

A board built with the resident system (``rtl/resident_core.py``) answers, on the same
command stream as the core (:mod:`golden.protocol`), the core's commands (opcodes 0..7) and
these (opcodes 8..15).  The header layout and the response format are the core's: header
``[31:28]`` opcode, response ``[31:28]`` opcode echoed, ``[27:24]`` status, ``[23:0]`` data
word count.  A command with a non-``OK`` status changed nothing.

============  ====  ===========================================  ===============================
opcode        val   header fields / following words              response
============  ====  ===========================================  ===============================
STORE         8     ``[23:0]`` row; then ``[15:0]`` column; then  ``OK``; ``ERR_ADDR`` if row >=
                    4 words = 16 bytes, little-endian, for        rows or column > n_inputs
                    columns column .. column + 15 (column
                    ``n_inputs`` is the label; later ones are
                    ignored)
CHECKSUM      9     ``[27]`` clear after answering                ``OK``, 1 word: the checksum
SHUFFLE       10    ``[27]`` restart first (identity, LFSR        ``OK`` when done; ``ERR_VALUE``
                    reseeded); ``[23:0]`` n: shuffle order[0:n]   if n > n_train
RUN           11    ``[27]`` train; ``[23:0]`` count              ``OK`` when the last sample is
                                                                 counted; ``ERR_VALUE`` if count
                                                                 is 0 or over the split's rows
COUNTERS      12    --                                            ``OK``, 5 words: train seen,
                                                                 train correct, test seen, test
                                                                 correct, errors
CLEAR         13    ``[27]`` also restart the train encoder bank  ``OK`` (counters and confusion
                                                                 matrices zeroed)
CONFUSION     14    ``[16]`` split (0 train, 1 test), ``[7:0]``   ``OK``, ``n_outputs`` words:
                    label                                         the row's counts per prediction;
                                                                 ``ERR_ADDR`` if label >= m
STORE_INFO    15    --                                            ``OK``, 3 words: n_train,
                                                                 n_test, n_inputs
============  ====  ===========================================  ===============================

Rows: train sample ``k`` is row ``k``, test sample ``k`` is row ``n_train + k``.  A train
run feeds rows ``order[0 .. count-1]`` (:mod:`golden.sample_order`), a test run rows
``n_train .. n_train + count - 1``.  Store checksum (CHECKSUM): over every byte the store
accepts, in arrival order, with its row ``r`` and column ``c``:
``v = (b + c + r) mod 2^16``, ``s1 = (s1 + v) mod 2^16``, ``s2 = (s2 + s1) mod 2^16``; the
word is ``s2 << 16 | s1``.  It covers the link and the write path (a byte written to the
wrong place changes it), not the block RAM cells themselves.
"""

import enum

from .protocol import Status, command_length

__all__ = ["ResOp", "STORE_BYTES", "header", "store_commands", "expected_checksum", "resident_command_length", "store_command",
           "checksum_update", "is_resident_op", "Status"]

STORE_BYTES = 16        # bytes per STORE command (4 data words)


class ResOp(enum.IntEnum):
    STORE = 8
    CHECKSUM = 9
    SHUFFLE = 10
    RUN = 11
    COUNTERS = 12
    CLEAR = 13
    CONFUSION = 14
    STORE_INFO = 15


def is_resident_op(head):
    return (head >> 28) & 0xF >= 8


def resident_command_length(head, n_inputs):
    """Words of the command starting with ``head`` on a resident system's stream."""
    if (head >> 28) & 0xF == ResOp.STORE:
        return 2 + STORE_BYTES // 4
    return command_length(head, n_inputs)


def header(op, value=0, flag=False):
    """A resident command header: opcode, ``[27]`` flag, ``[23:0]`` value."""
    return (int(op) << 28) | (int(bool(flag)) << 27) | (int(value) & 0xFF_FFFF)


def store_command(row, col, data):
    """The STORE command writing ``data`` (up to 16 bytes; zero-padded) at ``(row, col)``."""
    data = bytes(data)
    if len(data) > STORE_BYTES:
        raise ValueError(f"a STORE carries at most {STORE_BYTES} bytes, got {len(data)}")
    data = data + bytes(STORE_BYTES - len(data))
    words = [int.from_bytes(data[k:k + 4], "little") for k in range(0, STORE_BYTES, 4)]
    return [header(ResOp.STORE, row), col & 0xFFFF, *words]


def checksum_update(state, byte, row, col):
    """One accepted byte into the store checksum ``(s1, s2)``."""
    s1, s2 = state
    s1 = (s1 + ((byte + col + row) & 0xFFFF)) & 0xFFFF
    s2 = (s2 + s1) & 0xFFFF
    return s1, s2


def store_commands(pixels, labels, first_row=0):
    """STORE commands writing sample rows ``first_row, first_row + 1, ...``: each row's
    ``n_inputs`` pixel bytes and then its label (column ``n_inputs``), 16 bytes a command."""
    cmds = []
    for k, (row_pixels, label) in enumerate(zip(pixels, labels)):
        data = bytes(int(v) for v in row_pixels) + bytes([int(label)])
        for col in range(0, len(data), STORE_BYTES):
            cmds.append(store_command(first_row + k, col, data[col:col + STORE_BYTES]))
    return cmds


def expected_checksum(pixels, labels, first_row=0, state=(0, 0)):
    """The CHECKSUM word after :func:`store_commands` of these rows, from ``state``."""
    for k, (row_pixels, label) in enumerate(zip(pixels, labels)):
        for col, b in enumerate([*(int(v) for v in row_pixels), int(label)]):
            state = checksum_update(state, b, first_row + k, col)
    return state
