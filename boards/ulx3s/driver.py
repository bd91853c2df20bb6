"""Host driver of the OPZO board over the UART link: transports, packets, commands.

:class:`OpzoHost` sends whole core commands (golden/protocol.py) over a :class:`Transport`:
the serial port of a ULX3S (:class:`SerialTransport`) or the device simulated in Python
(:class:`SimTransport`: the link model of :mod:`boards.ulx3s.protocol` in front of the golden
command model).  The command line is :mod:`boards.ulx3s.host`; the packet format is in
``docs/host_protocol.md``.
"""

import collections
import time

import numpy as np

from golden.protocol import Mem, Op, Status, command_words, parse_response, sample_commands, to_signed

from .protocol import (MAX_WORDS, Decoder, LinkModel, PacketType, encode_packet,
                       pack_commands, parse_error_word, parse_info)

__all__ = ["Transport", "SerialTransport", "SimTransport", "OpzoHost", "LinkFailure", "DEFAULT_BAUD"]

DEFAULT_BAUD = 1_000_000


class LinkFailure(RuntimeError):
    pass


class Transport:
    """Byte transport: ``write(data)``; ``read(n, timeout)`` returns up to ``n`` bytes (fewer,
    possibly none, when ``timeout`` seconds pass)."""

    def write(self, data):
        raise NotImplementedError

    def read(self, n, timeout):
        raise NotImplementedError

    def close(self):
        pass


class SerialTransport(Transport):
    """A serial port through pyserial (``pip install pyserial``)."""

    def __init__(self, port, baud=DEFAULT_BAUD):
        try:
            import serial
        except ImportError as exc:
            raise LinkFailure("pyserial is needed for a serial port: pip install pyserial") from exc
        self.name = port
        self._errors = serial.SerialException
        try:
            self.port = serial.Serial(port, baud, timeout=0.5)
        except (serial.SerialException, OSError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise LinkFailure(f"cannot open serial port {port}: {why}; check that the ULX3S is "
                              f"plugged in, that the port name is right (ls /dev/ttyUSB*), and that "
                              f"no other program (a terminal, openFPGALoader) holds the port") from exc

    def write(self, data):
        try:
            self.port.write(data)
        except (self._errors, OSError) as exc:
            raise LinkFailure(f"writing to {self.name} failed ({exc}): was the board unplugged?") from exc

    def read(self, n, timeout):
        try:
            self.port.timeout = timeout
            return self.port.read(max(1, min(n, self.port.in_waiting or 1)))
        except (self._errors, OSError) as exc:
            raise LinkFailure(f"reading from {self.name} failed ({exc}): was the board unplugged?") from exc

    def close(self):
        self.port.close()


class SimTransport(Transport):
    """The device simulated in Python: :class:`~boards.ulx3s.protocol.LinkModel` (framing
    rules) in front of :class:`golden.command_model.CoreModel` (the golden core).  A read that finds
    nothing while a packet is open models the device's inter-byte timeout."""

    def __init__(self, cfg, resident=None):
        core = None
        if resident is not None:             # (n_train, n_test): a resident system's store
            from golden.resident_model import ResidentModel
            core = ResidentModel(cfg, *resident)
        self.model = LinkModel(cfg, core)
        self.out = bytearray()

    def write(self, data):
        self.out += self.model.feed(bytes(data))

    def read(self, n, timeout):
        if not self.out:
            self.out += self.model.timeout()
        data = bytes(self.out[:n])
        del self.out[:n]
        return data


class OpzoHost:
    """Commands to the core over a :class:`Transport`.

    Parameters
    ----------
    transport : Transport
    window_words : int
        At most this many command words in flight (unanswered); below the device's receive
        buffer (512 words) so it can never overflow.
    timeout : float
        Seconds to wait for an answer before :class:`LinkFailure`.
    """

    def __init__(self, transport, *, window_words=256, timeout=2.0, max_words=MAX_WORDS):
        self.transport = transport
        self.window = window_words
        self.timeout = timeout
        self.max_words = max_words
        self.decoder = Decoder()
        self.queue = collections.deque()
        self.info = None

    # --- packets ---------------------------------------------------------------------
    def _recv(self):
        deadline = time.monotonic() + self.timeout
        while not self.queue:
            left = deadline - time.monotonic()
            data = self.transport.read(4096, max(0.0, left))
            if data:
                self.queue.extend(self.decoder.feed(data))
            elif left <= 0 or isinstance(self.transport, SimTransport):
                where = getattr(self.transport, "name", "the link")
                raise LinkFailure(f"no answer from the board on {where} within {self.timeout} s: "
                                  f"check that the bitstream is loaded (openFPGALoader -b ulx3s "
                                  f"top.bit) and that --baud matches the bitstream's")
        return self.queue.popleft()

    def resync(self):
        """Bring the link back to a known state: pad any open packet to completion, drop
        whatever is pending, then PING until the PONG arrives."""
        self.transport.write(bytes(5 + 4 * self.max_words))
        time.sleep(0.05 if not isinstance(self.transport, SimTransport) else 0)
        while self.transport.read(4096, 0.05):
            pass
        self.decoder = Decoder()
        self.queue.clear()
        return self.ping()

    def ping(self):
        self.transport.write(encode_packet(PacketType.PING))
        while True:
            p = self._recv()
            if p.type == PacketType.PONG:
                self.info = parse_info(p.words)
                return self.info

    def execute(self, commands):
        """Send whole commands (lists of words); returns each command's response words.

        Packets are pipelined with at most ``window_words`` command words unanswered.
        """
        packets = pack_commands(commands, self.max_words)
        sizes = [(len(pkt) - 5) // 4 for pkt, _ in packets]
        results, pending = [], collections.deque()
        inflight, i = 0, 0
        while i < len(packets) or pending:
            burst = b""
            while i < len(packets) and (not pending or inflight + sizes[i] <= self.window):
                burst += packets[i][0]
                pending.append([packets[i][1], sizes[i]])
                inflight += sizes[i]
                i += 1
            if burst:
                self.transport.write(burst)
            p = self._recv()
            if p.type == PacketType.ERROR:
                code, ptype, length = parse_error_word(p.words[0])
                self.resync()
                raise LinkFailure(f"link error {code.name} (type 0x{ptype:02x}, length {length})")
            if p.type != PacketType.RESP:
                continue
            results.append(p.words)
            pending[0][0] -= 1
            if pending[0][0] == 0:
                inflight -= pending.popleft()[1]
        return results

    def command(self, words):
        (rsp,) = self.execute([words])
        return rsp

    # --- memory access -----------------------------------------------------------------
    @staticmethod
    def _check(rsp, what):
        _, status, _ = parse_response(rsp[0])
        if status != Status.OK:
            raise LinkFailure(f"{what}: core answered {status.name}")
        return rsp

    def read(self, mem, row, col):
        rsp = self._check(self.command(command_words(Op.READ, mem=mem, row=row, col=col)),
                          f"READ {Mem(mem).name}[{row}, {col}]")
        return to_signed(rsp[1])

    def write(self, mem, row, col, value):
        self._check(self.command(command_words(Op.WRITE, mem=mem, row=row, col=col,
                                               value=int(value))),
                    f"WRITE {Mem(mem).name}[{row}, {col}] = {value}")

    def read_matrix(self, mem, rows, cols):
        cmds = [command_words(Op.READ, mem=mem, row=r, col=c) for r in range(rows) for c in range(cols)]
        out = [to_signed(self._check(rsp, f"READ {Mem(mem).name}")[1]) for rsp in self.execute(cmds)]
        return np.array(out, dtype=np.int64).reshape(rows, cols)

    def write_matrix(self, mem, matrix):
        matrix = np.asarray(matrix)
        cmds = [command_words(Op.WRITE, mem=mem, row=r, col=c, value=int(matrix[r, c]))
                for r in range(matrix.shape[0]) for c in range(matrix.shape[1])]
        for rsp in self.execute(cmds):
            self._check(rsp, f"WRITE {Mem(mem).name}")

    def _shapes(self):
        info = self.info or self.ping()
        sizes = [info["n_inputs"], *info["hidden"], info["n_outputs"]]
        L, m = len(info["hidden"]), info["n_outputs"]
        shapes = {f"W{l + 1}": (Mem.W1 + l, sizes[l + 1], sizes[l]) for l in range(L)}
        shapes["W_OUT"] = (Mem.W_OUT, m, sizes[L])
        shapes.update({f"M{l + 1}": (Mem.M1 + l, sizes[l + 1], m) for l in range(L)})
        shapes["BASELINE"] = (Mem.BASELINE, m, 1)
        shapes["LFSR"] = (Mem.LFSR, info["lanes"], 1)
        shapes["PARAM"] = (Mem.PARAM, 2, 1)
        return shapes

    def dump(self, path=None):
        """Weights, feedback matrices, baseline, LFSR states and parameters (as an ``.npz``
        when ``path`` is given); returns the dictionary."""
        data = {name: self.read_matrix(mem, r, c) for name, (mem, r, c) in self._shapes().items()}
        if path is not None:
            np.savez(path, **data)
        return data

    def load(self, path_or_dict):
        """Write back what :meth:`dump` saved (entries missing from the file are skipped)."""
        data = np.load(path_or_dict) if not isinstance(path_or_dict, dict) else path_or_dict
        for name, (mem, r, c) in self._shapes().items():
            if name in data:
                m = np.asarray(data[name])
                if m.shape != (r, c):
                    raise ValueError(f"{name}: checkpoint shape {m.shape}, device {(r, c)}")
                if mem == Mem.LFSR:
                    m = m & 0xFFFF_FFFF
                self.write_matrix(mem, m)

    def program_initial_state(self, cfg):
        """Write the state a bitstream built from ``cfg`` starts with (initial weights,
        feedback matrices, LFSR seeds, zero baseline, learning-rate shifts), so that a board
        built from another seed or initialisation trains exactly as ``cfg`` would."""
        from golden.core import FixedCore
        core = FixedCore(cfg)
        L = cfg.n_hidden_layers
        state = {f"W{l + 1}": core.weights[l] for l in range(L)}
        state["W_OUT"] = core.weights[L]
        state.update({f"M{l + 1}": core.feedback[l] for l in range(L)})
        state["BASELINE"] = core.baseline.reshape(-1, 1)
        state["LFSR"] = core.lfsr.states.astype(np.int64).reshape(-1, 1)
        state["PARAM"] = np.array([[cfg.hidden_lr_shift], [cfg.readout_lr_shift]])
        self.load(state)
        return sum(np.asarray(v).size for v in state.values())

    # --- samples -----------------------------------------------------------------------
    sample_commands = staticmethod(sample_commands)

    def run_samples(self, samples):
        """``samples``: iterable of (spikes, label, train); returns [(pred, totals)], pipelined."""
        cmds, ends = [], []
        for spikes, label, train in samples:
            cmds += self.sample_commands(spikes, label if train else 0, train)
            ends.append(len(cmds) - 1)
        rsps = self.execute(cmds)
        for k, r in enumerate(rsps):
            self._check(r, f"command {k}")
        return [(rsps[e][1], [to_signed(w) for w in rsps[e][2:]]) for e in ends]

    def run_sample(self, spikes, label=0, train=False):
        return self.run_samples([(spikes, label, train)])[0]

    def set_lr_halvings(self, cfg, halvings):
        self.write(Mem.PARAM, 0, 0, cfg.hidden_lr_shift + halvings)
        self.write(Mem.PARAM, 1, 0, cfg.readout_lr_shift + halvings)
