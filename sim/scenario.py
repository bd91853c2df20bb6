"""Command sequences for verifying the core, and the scoreboard that checks its answers.

A scenario is a list of commands (each a list of 32-bit words, :mod:`golden.protocol`).  The
expected answer to every command comes from :class:`golden.command_model.CoreModel`; the same scenario
drives the Amaranth simulator in unit tests and the generated Verilog under cocotb.
"""

import numpy as np

from golden.encoding import TRAIN, encode
from golden.protocol import Mem, Op, command_words, parse_response, sample_commands

from golden.command_model import CoreModel

__all__ = ["state_reads", "sample_commands", "random_samples", "data_samples", "Scoreboard",
           "error_commands", "host_commands"]


def state_reads(cfg):
    """READ commands covering the complete state (weights, M, membranes, spikes, traces,
    readout weights, baseline, LFSR states, parameters)."""
    L, out = cfg.n_hidden_layers, []
    for l in range(L):
        out += [command_words(Op.READ, mem=Mem.W1 + l, row=j, col=i)
                for j in range(cfg.hidden[l]) for i in range(cfg.sizes[l])]
        out += [command_words(Op.READ, mem=Mem.M1 + l, row=j, col=k)
                for j in range(cfg.hidden[l]) for k in range(cfg.n_outputs)]
        for mem in (Mem.MEMBRANE, Mem.SPIKE):
            out += [command_words(Op.READ, mem=mem, row=j, col=l) for j in range(cfg.hidden[l])]
    out += [command_words(Op.READ, mem=Mem.W_OUT, row=k, col=j)
            for k in range(cfg.n_outputs) for j in range(cfg.hidden[-1])]
    for l in range(L + 1):
        out += [command_words(Op.READ, mem=Mem.TRACE, row=i, col=l) for i in range(cfg.sizes[l])]
    out += [command_words(Op.READ, mem=Mem.BASELINE, row=k, col=0) for k in range(cfg.n_outputs)]
    out += [command_words(Op.READ, mem=Mem.LFSR, row=p, col=0) for p in range(cfg.lanes)]
    out += [command_words(Op.READ, mem=Mem.PARAM, row=r, col=0) for r in range(2)]
    return out


def random_samples(cfg, rng, n, *, rate=0.4, train_fraction=0.75):
    """``n`` samples of random spikes: list of (spikes, label, train)."""
    return [((rng.random((cfg.timesteps, cfg.n_inputs)) < rate).astype(np.int64),
             int(rng.integers(cfg.n_outputs)), bool(rng.random() < train_fraction))
            for _ in range(n)]


def data_samples(cfg, dataset, n, *, train=True, seed=0, epoch=0, start=0):
    """``n`` real training samples of ``dataset``, encoded exactly as tools.train does."""
    x = dataset.x_train[start:start + n]
    spikes = encode(cfg.encoding, x, cfg.timesteps, seed=seed, split=TRAIN, epoch=epoch,
                    levels=cfg.encoding_levels)
    return [(spikes[i], int(dataset.y_train[start + i]), train) for i in range(len(x))]


def error_commands(cfg, rng):
    """Malformed or out-of-order commands, each answered with an error and changing nothing
    (sent between samples: END and STEP without an open sample are out of order)."""
    L = cfg.n_hidden_layers
    bad = [
        [(0x6 + int(rng.integers(10))) << 28],                          # unknown opcode
        command_words(Op.START, train=True, label=cfg.n_outputs),       # label out of range
        command_words(Op.READ, mem=Mem.W1, row=cfg.hidden[0], col=0),   # row out of range
        command_words(Op.READ, mem=Mem.W_OUT, row=0, col=cfg.hidden[-1]),
        command_words(Op.READ, mem=15, row=0, col=0),                   # no such memory
        command_words(Op.WRITE, mem=Mem.MEMBRANE, row=0, col=0, value=1),   # read-only
        command_words(Op.WRITE, mem=Mem.W1, row=0, col=0, value=1 << (cfg.weight_bits - 1)),
        command_words(Op.WRITE, mem=Mem.LFSR, row=0, col=0, value=0),
        command_words(Op.WRITE, mem=Mem.PARAM, row=0, col=0, value=31),
        command_words(Op.READ, mem=Mem.TRACE, row=0, col=L + 1),
        command_words(Op.END),                                          # no sample open
        command_words(Op.STEP, bits=np.zeros(cfg.n_inputs, dtype=np.int64)),
    ]
    if L < 3:
        bad.append(command_words(Op.READ, mem=Mem.W1 + L, row=0, col=0))  # absent layer
    return bad


def host_commands(cfg, rng, model):
    """A valid READ of a random entry and a WRITE of a random legal value to a random
    writable entry (weights, M or a baseline), as a host does between samples."""
    from golden.arith import smax, smin
    L = cfg.n_hidden_layers
    l = int(rng.integers(L))
    reads = [(Mem.W1 + l, int(rng.integers(cfg.hidden[l])), int(rng.integers(cfg.sizes[l]))),
             (Mem.M1 + l, int(rng.integers(cfg.hidden[l])), int(rng.integers(cfg.n_outputs))),
             (Mem.MEMBRANE, int(rng.integers(cfg.hidden[l])), l),
             (Mem.TRACE, int(rng.integers(cfg.sizes[l])), l),
             (Mem.BASELINE, int(rng.integers(cfg.n_outputs)), 0),
             (Mem.LFSR, int(rng.integers(cfg.lanes)), 0)]
    mem, row, col = reads[int(rng.integers(len(reads)))]
    kind = int(rng.integers(3))
    if kind == 0:
        target, bits = (Mem.W_OUT, int(rng.integers(cfg.n_outputs)), int(rng.integers(cfg.hidden[-1]))), cfg.weight_bits
    elif kind == 1:
        target, bits = (Mem.M1 + l, int(rng.integers(cfg.hidden[l])), int(rng.integers(cfg.n_outputs))), cfg.feedback_bits
    else:
        target, bits = (Mem.BASELINE, int(rng.integers(cfg.n_outputs)), 0), cfg.output_bits
    value = int(rng.choice([smin(bits), smax(bits), int(rng.integers(smin(bits), smax(bits) + 1))]))
    return [command_words(Op.READ, mem=mem, row=row, col=col),
            command_words(Op.WRITE, mem=target[0], row=target[1], col=target[2], value=value & 0xFFFF_FFFF)]


class Scoreboard:
    """Feeds commands to the reference model and checks the DUT's words against it."""

    def __init__(self, cfg):
        self.model = CoreModel(cfg)
        self.expected = []          # (command index, word)
        self.index = 0
        self.checked = 0
        self.mismatches = []
        self.headers = []           # (op, status, count) expected for each command

    def expect(self, command):
        """Register one command; returns the list of words it should produce."""
        words = []
        for w in command:
            words += self.model.feed(w)
        self.expected += [(self.index, w) for w in words]
        if words:
            self.headers.append(parse_response(words[0]))
        self.index += 1
        return words

    def check(self, word):
        """Compare one received word with the next expected one."""
        if self.checked >= len(self.expected):
            self.mismatches.append((None, None, word))
            return
        cmd, want = self.expected[self.checked]
        if word != want:
            self.mismatches.append((cmd, want, word))
        self.checked += 1

    @property
    def done(self):
        return self.checked >= len(self.expected)

    def report(self, limit=8):
        lines = [f"{len(self.mismatches)} mismatching words of {self.checked} checked"]
        for cmd, want, got in self.mismatches[:limit]:
            if want is None:
                lines.append(f"  unexpected extra word {got:#010x}")
            else:
                lines.append(f"  command #{cmd}: expected {want:#010x}, got {got:#010x}")
        return "\n".join(lines)
