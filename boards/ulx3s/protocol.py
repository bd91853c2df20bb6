"""Framing of the UART host link (pure Python; shared by the host driver and the tests).

The exact byte-level specification is ``docs/host_protocol.md``; in short, a packet is::

    SYNC (0xA5) | TYPE (1 byte) | LEN (1 byte, payload words, 0..MAX_WORDS) |
    payload (LEN 32-bit words, little-endian) | CRC-16 (2 bytes, low byte first)

The CRC is CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no reflection, no
final XOR; check value of ``b"123456789"`` is 0x29B1) over TYPE, LEN and the payload bytes.

Host -> device: ``CMD`` (one or more complete core commands, :mod:`golden.protocol`), ``PING``
(no payload).  Device -> host: ``RESP`` (exactly one core response: header plus its data
words; a ``CMD`` packet with ``k`` commands is answered by ``k`` ``RESP`` packets), ``PONG``
(link and configuration information), ``ERROR`` (one word: ``code | type << 8 | len << 16``
with the type and length bytes as received).

This module also holds :class:`LinkModel`, a byte-level reference model of the gateware link
(:mod:`boards.ulx3s.link`) in front of :class:`golden.command_model.CoreModel`, used by the simulation
transport of the host driver.
"""

import dataclasses
import enum
import struct

from golden.config import gateware_fingerprint, initial_state_fingerprint
from golden.protocol import command_length

__all__ = ["SYNC", "MAX_WORDS", "BUFFER_WORDS", "MAGIC", "VERSION", "PacketType", "LinkError",
           "crc16", "crc16_update", "encode_packet", "Packet", "Decoder", "split_commands",
           "command_length", "error_word", "parse_error_word", "info_words", "parse_info",
           "LinkModel", "pack_commands"]

SYNC = 0xA5
MAX_WORDS = 64          # payload words per packet, both directions
BUFFER_WORDS = 512      # gateware receive buffer (one DP16KD as 512 x 36)
MAGIC = 0x4F5A504F      # "OPZO" little-endian
VERSION = 2             # 2: PONG carries the gateware and initial-state fingerprints and the seed


class PacketType(enum.IntEnum):
    CMD = 0x01
    PING = 0x02
    RESP = 0x81
    PONG = 0x82
    ERROR = 0xEE


class LinkError(enum.IntEnum):
    BAD_CRC = 1       # CRC mismatch (packet dropped)
    BAD_LENGTH = 2    # LEN > MAX_WORDS, CMD payload not whole commands (or empty), PING with payload
    BAD_TYPE = 3      # unknown packet type (with a good CRC)
    TIMEOUT = 4       # packet incomplete: no byte for the timeout while inside a packet
    OVERFLOW = 5      # receive buffer full (host sent too much ahead); packet dropped


# --- CRC --------------------------------------------------------------------------------

def crc16_update(crc, byte):
    """One byte of CRC-16/CCITT-FALSE, MSB first (the gateware does the same 8 steps)."""
    crc ^= (byte & 0xFF) << 8
    for _ in range(8):
        crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        crc &= 0xFFFF
    return crc


def crc16(data, crc=0xFFFF):
    for b in data:
        crc = crc16_update(crc, b)
    return crc


# --- packets ----------------------------------------------------------------------------

def encode_packet(ptype, words=()):
    """Bytes of one packet of type ``ptype`` carrying 32-bit ``words``."""
    words = [w & 0xFFFF_FFFF for w in words]
    if len(words) > MAX_WORDS:
        raise ValueError(f"a packet carries at most {MAX_WORDS} words, got {len(words)}")
    body = bytes([int(ptype) & 0xFF, len(words)]) + struct.pack(f"<{len(words)}I", *words)
    crc = crc16(body)
    return bytes([SYNC]) + body + bytes([crc & 0xFF, crc >> 8])


@dataclasses.dataclass
class Packet:
    type: int
    words: list

    def __repr__(self):
        try:
            name = PacketType(self.type).name
        except ValueError:
            name = f"0x{self.type:02x}"
        return f"Packet({name}, [{', '.join(f'0x{w:08x}' for w in self.words)}])"


class Decoder:
    """Incremental packet decoder with resynchronisation on the sync byte.

    ``feed(data)`` returns the complete packets with a good CRC; bytes outside packets are
    skipped until the next ``SYNC``; a packet with a bad CRC or a length above ``max_words``
    is dropped (counted in ``crc_errors`` / ``length_errors``) and the search for ``SYNC``
    resumes at the byte after the dropped packet's ``SYNC``.
    """

    def __init__(self, max_words=255):
        self.max_words = max_words
        self.buf = bytearray()
        self.crc_errors = 0
        self.length_errors = 0
        self.skipped = 0

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            start = self.buf.find(SYNC)
            if start < 0:
                self.skipped += len(self.buf)
                self.buf.clear()
                return out
            self.skipped += start
            del self.buf[:start]
            if len(self.buf) < 3:
                return out
            n = self.buf[2]
            if n > self.max_words:
                self.length_errors += 1
                del self.buf[:1]
                continue
            size = 5 + 4 * n
            if len(self.buf) < size:
                return out
            body = bytes(self.buf[1:3 + 4 * n])
            got = self.buf[size - 2] | self.buf[size - 1] << 8
            if crc16(body) != got:
                self.crc_errors += 1
                del self.buf[:1]
                continue
            out.append(Packet(body[0], list(struct.unpack(f"<{n}I", body[2:]))))
            del self.buf[:size]

    @property
    def pending(self):
        return len(self.buf)


# --- command boundaries -------------------------------------------------------------------

def split_commands(words, n_inputs, length=None):
    """Split a word list into commands; raises ``ValueError`` if the last one is incomplete.
    ``length(head)``: a stream's command lengths (default :func:`command_length`)."""
    length = length or (lambda head: command_length(head, n_inputs))
    out, i = [], 0
    while i < len(words):
        n = length(words[i])
        if i + n > len(words):
            raise ValueError(f"incomplete command at word {i}: needs {n} words, "
                             f"{len(words) - i} left")
        out.append(list(words[i:i + n]))
        i += n
    return out


# --- link payloads -----------------------------------------------------------------------

def error_word(code, ptype=0, length=0):
    return (int(code) & 0xFF) | (ptype & 0xFF) << 8 | (length & 0xFF) << 16


def parse_error_word(word):
    """``(LinkError, type byte, length byte)``."""
    return LinkError(word & 0xFF), (word >> 8) & 0xFF, (word >> 16) & 0xFF


def info_words(cfg, buffer_words=BUFFER_WORDS, max_words=MAX_WORDS):
    """The ``PONG`` payload: magic, version/limits, the configuration's sizes, and what the
    bitstream was built from: :func:`golden.config.gateware_fingerprint`,
    :func:`golden.config.initial_state_fingerprint` and the seed."""
    hidden = list(cfg.hidden) + [0] * (3 - len(cfg.hidden))
    return [
        MAGIC,
        VERSION | (max_words & 0xFF) << 8 | (buffer_words & 0xFFFF) << 16,
        cfg.n_inputs | cfg.n_outputs << 16,
        cfg.timesteps | cfg.lanes << 16,
        hidden[0] | hidden[1] << 16,
        hidden[2] | cfg.n_hidden_layers << 16,
        gateware_fingerprint(cfg),
        initial_state_fingerprint(cfg),
        cfg.seed,
    ]


def parse_info(words):
    """Decode a ``PONG`` payload into a dictionary."""
    if len(words) < 9 or words[0] != MAGIC:
        raise ValueError(f"not an OPZO link PONG (version {VERSION}): {[hex(w) for w in words]}")
    layers = words[5] >> 16
    hidden = [words[4] & 0xFFFF, words[4] >> 16, words[5] & 0xFFFF][:layers]
    return {
        "version": words[1] & 0xFF, "max_words": (words[1] >> 8) & 0xFF,
        "buffer_words": words[1] >> 16,
        "n_inputs": words[2] & 0xFFFF, "n_outputs": words[2] >> 16,
        "timesteps": words[3] & 0xFFFF, "lanes": words[3] >> 16, "hidden": hidden,
        "gateware_fingerprint": words[6], "initial_state_fingerprint": words[7], "seed": words[8],
    }


# --- reference model of the device side ----------------------------------------------------

class LinkModel:
    """Byte-level model of the gateware link plus the core (:class:`golden.command_model.CoreModel`).

    ``feed(data)`` consumes host bytes and returns the device's answer bytes; ``timeout()``
    models the host pausing for longer than the link's timeout in the middle of a packet.
    It has the gateware's framing rules (not its timing or buffer limits).
    """

    HUNT, TYPE, LEN, PAYLOAD, CRC0, CRC1 = range(6)

    def __init__(self, cfg, core=None):
        from golden.command_model import CoreModel

        self.cfg = cfg
        self.core = core or CoreModel(cfg)
        self.state = self.HUNT
        self.ptype = self.plen = 0
        self.body = bytearray()

    def _error(self, code):
        return encode_packet(PacketType.ERROR, [error_word(code, self.ptype, self.plen)])

    def reset(self):
        """The board's reset (docs/core_architecture.md, "Reset"): the link hunts for
        ``SYNC`` again, a packet half received is dropped without an answer (none of its
        words reaches the core), an answer half sent is abandoned, and the core model takes
        its own reset (:meth:`golden.command_model.CoreModel.reset`).  Only for the bare
        core: the resident system's reset is not modelled."""
        self.state = self.HUNT
        self.ptype = self.plen = 0
        self.body.clear()
        self.core.reset()

    def timeout(self):
        if self.state == self.HUNT:
            return b""
        self.state = self.HUNT
        return self._error(LinkError.TIMEOUT)

    def _verdict(self, crc):
        body = bytes([self.ptype, self.plen]) + bytes(self.body)
        if crc16(body) != crc:
            return self._error(LinkError.BAD_CRC)
        words = list(struct.unpack(f"<{self.plen}I", bytes(self.body)))
        if self.ptype == PacketType.CMD:
            try:
                cmds = split_commands(words, self.cfg.n_inputs, self.core.command_length)
            except ValueError:
                cmds = None
            if not cmds:
                return self._error(LinkError.BAD_LENGTH)
            out = b""
            for cmd in cmds:
                rsp = []
                for w in cmd:
                    rsp += self.core.feed(w)
                out += encode_packet(PacketType.RESP, rsp)
            return out
        if self.ptype == PacketType.PING:
            if self.plen:
                return self._error(LinkError.BAD_LENGTH)
            return encode_packet(PacketType.PONG, info_words(self.cfg))
        return self._error(LinkError.BAD_TYPE)

    def feed(self, data):
        out = b""
        for b in data:
            if self.state == self.HUNT:
                if b == SYNC:
                    self.state, self.ptype, self.plen = self.TYPE, 0, 0
                    self.body.clear()
            elif self.state == self.TYPE:
                self.ptype, self.state = b, self.LEN
            elif self.state == self.LEN:
                self.plen = b
                if b > MAX_WORDS:
                    out += self._error(LinkError.BAD_LENGTH)
                    self.state = self.HUNT
                else:
                    self.state = self.PAYLOAD if b else self.CRC0
            elif self.state == self.PAYLOAD:
                self.body.append(b)
                if len(self.body) == 4 * self.plen:
                    self.state = self.CRC0
            elif self.state == self.CRC0:
                self.crc_lo, self.state = b, self.CRC1
            else:
                self.state = self.HUNT
                out += self._verdict(self.crc_lo | b << 8)
        return out


def pack_commands(commands, max_words=MAX_WORDS):
    """Group whole commands (lists of words) into ``CMD`` packets of at most ``max_words``.

    Returns a list of ``(packet bytes, number of commands in it)``.
    """
    out, cur, n = [], [], 0
    for cmd in commands:
        if len(cmd) > max_words:
            raise ValueError(f"a command of {len(cmd)} words does not fit a packet")
        if len(cur) + len(cmd) > max_words:
            out.append((encode_packet(PacketType.CMD, cur), n))
            cur, n = [], 0
        cur += list(cmd)
        n += 1
    if cur:
        out.append((encode_packet(PacketType.CMD, cur), n))
    return out
