"""Command and response words of the core's streams (shared by the RTL, the tests and hosts).

Both streams carry 32-bit words.  Every command is answered by exactly one response header,
possibly followed by data words, so a host always knows where it is.

Command header ``[31:28] opcode``; the other fields depend on the opcode:

========  =====  ===========================================  =====================================
opcode    value  header fields / following words              response
========  =====  ===========================================  =====================================
NOP       0      --                                           ``OK``
START     1      ``[27]`` train, ``[15:0]`` label             ``OK`` (sample state cleared)
STEP      2      then ``ceil(n_inputs / 32)`` spike words,    ``OK`` after the time step is done
                 input ``i`` is bit ``i % 32`` of word
                 ``i // 32``
END       3      --                                           ``OK`` with count ``1 + m``, then the
                                                              predicted class and ``total[0..m-1]``
WRITE     4      ``[27:24]`` memory; then an address word     ``OK``
                 (``[31:16]`` row, ``[15:0]`` column) and a
                 data word (two's complement)
READ      5      ``[27:24]`` memory; then an address word     ``OK`` with count 1, then the value
                                                              (sign-extended to 32 bits)
========  =====  ===========================================  =====================================

Response header: ``[31:28]`` opcode echoed, ``[27:24]`` status, ``[23:0]`` number of data
words that follow.  A command with a non-``OK`` status changed nothing; its trailing words
(spike, address, data words) are still consumed, so the next command is found.

Memories (``row``, ``column`` ranges): ``W(l)`` = hidden weights of layer ``l`` (``n_l`` x
fan-in), ``W_OUT`` (``m`` x ``n_L``), ``M(l)`` (``n_l`` x ``m``), ``BASELINE`` (``m`` x 1),
``LFSR`` (``P`` x 1), ``MEMBRANE(l)`` / ``SPIKE(l)`` (``n_l`` x 1, read only),
``TRACE`` (row ``i``, column = layer ``0..L``), ``PARAM`` (row: 0 hidden_lr_shift,
1 readout_lr_shift; column 0).  State memories are read only: writing them is ``ERR_ADDR``.
A written value outside the entry's range (a weight wider than ``weight_bits``, a zero LFSR
state, a learning-rate shift outside :func:`lr_shift_range`) is ``ERR_VALUE``.
Values read back are sign-extended (weights, ``M``, baseline, membranes) or zero-extended
(spikes, traces, LFSR states, parameters).
"""

import enum

__all__ = ["Op", "Status", "Mem", "header", "response", "parse_response", "spike_words",
           "mem_id", "WORD_MASK", "LR_SHIFT_MAX", "TOTAL_SHIFT_MAX", "lr_shift_bases", "lr_shift_range",
           "command_length", "sample_commands", "command_words", "to_signed"]

WORD_MASK = 0xFFFF_FFFF


class Op(enum.IntEnum):
    NOP = 0
    START = 1
    STEP = 2
    END = 3
    WRITE = 4
    READ = 5


class Status(enum.IntEnum):
    OK = 0
    ERR_OPCODE = 1    # unknown opcode
    ERR_STATE = 2     # STEP or END without a START, or more STEPs than timesteps
    ERR_LABEL = 3     # label >= n_outputs
    ERR_ADDR = 4      # memory, row or column out of range, or a read-only memory written
    ERR_VALUE = 5     # written value outside the entry's range (or a zero LFSR state)


LR_SHIFT_MAX = 24
"""The largest learning-rate shift (``hidden_lr_shift``, ``readout_lr_shift``) of a
configuration, :meth:`golden.config.CoreConfig.validate`."""

TOTAL_SHIFT_MAX = 31
"""The largest total right shift of a weight update (the learning-rate shift plus the
fractional bits the product carries beyond a weight's): the update engines' barrel
shifters take 5 bits."""


def lr_shift_bases(cfg):
    """What a weight update adds to the hidden and readout learning-rate shifts: the
    fractional bits the products ``d a`` and ``e a`` carry beyond a weight's."""
    return (cfg.signal_frac_bits + cfg.trace_frac_bits - cfg.frac_bits,
            cfg.error_frac_bits + cfg.trace_frac_bits - cfg.frac_bits)


def lr_shift_range(cfg, row):
    """``(lo, hi)``, the learning-rate shifts that PARAM entry ``row`` (0: hidden, 1: readout)
    accepts, and a configuration may hold: at least 0 and at most :data:`LR_SHIFT_MAX`,
    with a total shift (plus :func:`lr_shift_bases`) in ``0 .. TOTAL_SHIFT_MAX``.  The one
    home of the rule: the command model, the RTL's host checks and
    :func:`rtl.core.check_rtl_config` use it."""
    base = lr_shift_bases(cfg)[row]
    return max(0, -base), min(LR_SHIFT_MAX, TOTAL_SHIFT_MAX - base)


class Mem(enum.IntEnum):
    W1 = 0
    W2 = 1
    W3 = 2
    W_OUT = 3
    M1 = 4
    M2 = 5
    M3 = 6
    BASELINE = 7
    LFSR = 8
    MEMBRANE = 9      # column = layer
    SPIKE = 10        # column = layer
    TRACE = 11        # column = layer 0..L (0: input)
    PARAM = 12


def mem_id(kind, layer=0):
    """``mem_id("W", 1)`` -> ``Mem.W2``; kinds ``W``, ``M`` take a 0-based hidden layer."""
    if kind == "W":
        return Mem(Mem.W1 + layer)
    if kind == "M":
        return Mem(Mem.M1 + layer)
    return Mem[kind]


def header(op, *, train=False, label=0, mem=0):
    """A command header word."""
    word = int(op) << 28
    if op == Op.START:
        word |= (int(bool(train)) << 27) | (label & 0xFFFF)
    elif op in (Op.WRITE, Op.READ):
        word |= (int(mem) & 0xF) << 24
    return word


def address(row, col):
    return ((row & 0xFFFF) << 16) | (col & 0xFFFF)


def response(op, status, count=0):
    return (int(op) << 28) | (int(status) << 24) | (count & 0xFF_FFFF)


def parse_response(word):
    """``(op, status, count)`` of a response header."""
    return (word >> 28) & 0xF, Status((word >> 24) & 0xF), word & 0xFF_FFFF


def spike_words(bits):
    """Pack one spike vector (sequence of 0/1) into 32-bit words, input ``i`` at bit ``i % 32``."""
    words = []
    for base in range(0, len(bits), 32):
        w = 0
        for k, b in enumerate(bits[base:base + 32]):
            if b:
                w |= 1 << k
        words.append(w)
    return words


def to_signed(word):
    word &= WORD_MASK
    return word - (1 << 32) if word >> 31 else word


def command_words(op, **kw):
    """Full command as words: ``STEP`` takes ``bits``; ``WRITE``/``READ`` take ``mem, row, col``
    (and ``value`` for WRITE); ``START`` takes ``train, label``."""
    if op == Op.STEP:
        return [header(op)] + spike_words(kw["bits"])
    if op == Op.WRITE:
        return [header(op, mem=kw["mem"]), address(kw["row"], kw["col"]), kw["value"] & WORD_MASK]
    if op == Op.READ:
        return [header(op, mem=kw["mem"]), address(kw["row"], kw["col"])]
    if op == Op.START:
        return [header(op, train=kw.get("train", False), label=kw.get("label", 0))]
    return [int(op) << 28 if isinstance(op, Op) else (op & 0xF) << 28]


def command_length(head, n_inputs):
    """Number of words (header included) of the command starting with ``head``."""
    op = (head >> 28) & 0xF
    if op == Op.STEP:
        return 1 + -(-n_inputs // 32)
    if op == Op.WRITE:
        return 3
    if op == Op.READ:
        return 2
    return 1


def sample_commands(spikes, label, train):
    """The commands of one sample: START, one STEP per time step (``spikes``: one 0/1 vector
    per step), END."""
    cmds = [command_words(Op.START, train=train, label=int(label))]
    cmds += [command_words(Op.STEP, bits=[int(b) for b in x]) for x in spikes]
    cmds.append(command_words(Op.END))
    return cmds
