"""Command-level reference model of the resident system: store, order, feeder, core, counter.

:class:`ResidentModel` consumes the command words of :mod:`golden.protocol` (passed to a
:class:`golden.command_model.CoreModel`) and of :mod:`golden.resident_protocol` (executed
here) and returns the words the RTL (``rtl/resident_core.py``) answers with.  A ``RUN``
feeds the core model the same commands the feeder sends (START, T x STEP, END) with the
``lfsr_rate`` spikes of :mod:`golden.input_encoding`, and counts the answers as the result
counter does.
"""

import numpy as np

from .command_model import CoreModel
from .input_encoding import TEST, TRAIN, encoder_lanes, encoder_seeds, spikes_from_states
from .protocol import Op, Status, command_words, parse_response, response
from .resident_protocol import STORE_BYTES, ResOp, checksum_update, resident_command_length
from .sample_order import SampleOrder

__all__ = ["ResidentModel"]

WORD_MASK = 0xFFFF_FFFF


class ResidentModel:
    """The resident system for ``cfg`` with a store of ``n_train`` + ``n_test`` rows."""

    def __init__(self, cfg, n_train, n_test, core=None):
        if n_test < 1:
            raise ValueError(f"n_test must be at least 1, got {n_test}")
        self.cfg, self.n_train, self.n_test = cfg, n_train, n_test
        self.core = core or CoreModel(cfg)
        rows = n_train + n_test
        self.pixels = np.zeros((rows, cfg.n_inputs), dtype=np.uint8)
        self.labels = np.zeros(rows, dtype=np.int64)
        self.checksum = (0, 0)
        self.order = SampleOrder(n_train, cfg.seed)
        lanes = encoder_lanes(cfg.n_inputs)
        self.train_bank = encoder_seeds(cfg.seed, TRAIN, lanes)
        self.counters = dict(train_seen=0, train_correct=0, test_seen=0, test_correct=0, errors=0)
        self.confusion = np.zeros((2, cfg.n_outputs, cfg.n_outputs), dtype=np.int64)
        self.predictions = []        # (train, label, prediction) of every counted sample
        self.pending = []

    # --- the stream --------------------------------------------------------------------
    def command_length(self, head):
        """Words of the command starting with ``head`` on this stream."""
        return resident_command_length(head, self.cfg.n_inputs)

    def feed(self, word):
        self.pending.append(word & WORD_MASK)
        if len(self.pending) < resident_command_length(self.pending[0], self.cfg.n_inputs):
            return []
        words, self.pending = self.pending, []
        return self.execute(words)

    def execute(self, words):
        head = words[0]
        op = head >> 28
        if op < 8:
            return self.core.execute(words)
        flag, value = bool(head >> 27 & 1), head & 0xFF_FFFF
        if op == ResOp.STORE:
            return [response(op, self._store(value, words[1] & 0xFFFF, words[2:]))]
        if op == ResOp.CHECKSUM:
            s1, s2 = self.checksum
            if flag:
                self.checksum = (0, 0)
            return [response(op, Status.OK, 1), s2 << 16 | s1]
        if op == ResOp.SHUFFLE:
            if value > self.n_train:
                return [response(op, Status.ERR_VALUE)]
            if flag:
                self.order.restart()
            self.order.shuffle(value)
            return [response(op, Status.OK)]
        if op == ResOp.RUN:
            size = self.n_train if flag else self.n_test
            if not 1 <= value <= size:
                return [response(op, Status.ERR_VALUE)]
            self._run(flag, value)
            return [response(op, Status.OK)]
        if op == ResOp.COUNTERS:
            c = self.counters
            return [response(op, Status.OK, 5), c["train_seen"], c["train_correct"],
                    c["test_seen"], c["test_correct"], c["errors"]]
        if op == ResOp.CLEAR:
            for k in self.counters:
                self.counters[k] = 0
            self.confusion[:] = 0
            if flag:
                self.train_bank = encoder_seeds(self.cfg.seed, TRAIN, len(self.train_bank))
            return [response(op, Status.OK)]
        if op == ResOp.CONFUSION:
            split, label = head >> 16 & 1, head & 0xFF
            if label >= self.cfg.n_outputs:
                return [response(op, Status.ERR_ADDR)]
            return [response(op, Status.OK, self.cfg.n_outputs),
                    *(int(v) for v in self.confusion[split, label])]
        # STORE_INFO
        return [response(op, Status.OK, 3), self.n_train, self.n_test, self.cfg.n_inputs]

    # --- the commands' bodies ------------------------------------------------------------
    def _store(self, row, col, data_words):
        n = self.cfg.n_inputs
        if row >= self.n_train + self.n_test or col > n:
            return Status.ERR_ADDR
        data = b"".join(int(w).to_bytes(4, "little") for w in data_words)
        for k in range(STORE_BYTES):
            c = col + k
            if c > n:
                break
            if c == n:
                self.labels[row] = data[k]
            else:
                self.pixels[row, c] = data[k]
            self.checksum = checksum_update(self.checksum, data[k], row, c)
        return Status.OK

    def _run(self, train, count):
        cfg = self.cfg
        if train:
            rows = [int(r) for r in self.order.order[:count]]
            states = self.train_bank
        else:
            rows = list(range(self.n_train, self.n_train + count))
            states = encoder_seeds(cfg.seed, TEST, len(self.train_bank))
        for row in rows:
            spikes, states = spikes_from_states(self.pixels[row][None], cfg.timesteps, states)
            label = int(self.labels[row])
            self._sample(train, label, spikes[0])
        if train:
            self.train_bank = [int(s) for s in states]

    def _sample(self, train, label, spikes):
        """The feeder's commands for one sample into the core model; the counter's view of
        the answers."""
        cmds = [[(int(Op.START) << 28) | (int(train) << 27) | (label & 0xFF)]]
        cmds += [command_words(Op.STEP, bits=[int(b) for b in x]) for x in spikes]
        cmds.append(command_words(Op.END))
        c = self.counters
        for words in cmds:
            rsp = self.core.execute(words)
            op, status, count = parse_response(rsp[0])
            if status != Status.OK:
                c["errors"] += 1
            if op == Op.END and status == Status.OK and count:
                pred = rsp[1] & 0xFF
                key = "train" if train else "test"
                c[f"{key}_seen"] += 1
                c[f"{key}_correct"] += int(rsp[1] == label)
                self.confusion[0 if train else 1, label, pred] += 1
                self.predictions.append((train, label, rsp[1]))

    def state(self):
        """The core's state (:meth:`CoreModel.state`) plus the resident registers."""
        return {**self.core.state(), "order": self.order.order.copy(),
                "counters": dict(self.counters), "confusion": self.confusion.copy()}
