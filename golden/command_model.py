"""Command-level reference model: the golden fixed-point core behind the stream protocol.

:class:`CoreModel` consumes the same 32-bit command words as the RTL and returns the words
the RTL must answer with, computed by :class:`golden.core.FixedCore`.  It is the scoreboard's
source of truth: protocol semantics (errors, what each command changes) live here in
Python once, and the RTL is compared with it word for word and state for state.
"""

import numpy as np

from golden.arith import smax, smin
from golden.core import FixedCore
from golden.neuron import surrogate
from golden.noise import LfsrBank
from golden.protocol import WORD_MASK, Mem, Op, Status, command_length, lr_shift_range, response

__all__ = ["CoreModel"]


class CoreModel:
    """Golden model with the core's command interface."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.built_cfg = cfg       # the configuration the core was built with (PARAM's reset values)
        self.core = FixedCore(cfg)
        self.active = False
        self.train = False
        self.label = 0
        self.steps = 0             # time steps of the open sample (at most cfg.timesteps)
        self.pending = []          # words of an incomplete command
        # what the core holds beyond FixedCore.state(): the surrogates of the last time step
        # (zero after reset; START does not clear them) and the noise sign bits latched in
        # its forward pass (1 for +1; an inference step latches every lane's current LFSR
        # output bit, S & 1, in every word group, since the bank does not step)
        self.surrogates = [np.zeros(n, dtype=np.int64) for n in cfg.hidden]
        self.noise = [np.zeros(n, dtype=np.int64) for n in cfg.hidden]

    def reset(self):
        """The core's reset (docs/core_architecture.md, "Reset"): what lives in registers
        returns to its reset value, what lives in memories is kept.

        Registers: no sample open (the next STEP or END is ``ERR_STATE``), a command half
        received is dropped, the PARAM entries return to the built configuration's shifts,
        the LFSR states to their seeds, the baselines, spikes, latched noise signs and
        totals to 0.  Memories keep their words: weights, ``M``, membranes, surrogates and
        traces.  (A reset in the middle of a time step leaves each memory entry at its value
        before or after that step's update, which no model of whole commands can predict:
        the testbench then loads the RTL's memories into the model.)"""
        cfg = self.cfg = self.built_cfg
        core = self.core
        core.cfg = cfg
        self.active, self.train, self.label, self.steps = False, False, 0, 0
        self.pending = []
        core.lfsr = LfsrBank.from_config(cfg)
        core.baseline = np.zeros(cfg.n_outputs, dtype=np.int64)
        core.spikes = [np.zeros(n, dtype=np.int64) for n in cfg.hidden]
        core.total = np.zeros(cfg.n_outputs, dtype=np.int64)
        self.noise = [np.zeros(n, dtype=np.int64) for n in cfg.hidden]

    def load_memories(self, state):
        """Set what the core keeps in memories (``weights``, ``feedback``, ``membranes``,
        ``surrogates``, ``traces`` of a :meth:`state` dictionary, e.g. read from the RTL);
        the registers are left alone."""
        core = self.core
        core.weights = [np.array(w, dtype=np.int64) for w in state["weights"]]
        core.feedback = [np.array(f, dtype=np.int64) for f in state["feedback"]]
        core.membranes = [np.array(u, dtype=np.int64) for u in state["membranes"]]
        core.traces = [np.array(a, dtype=np.int64) for a in state["traces"]]
        self.surrogates = [np.array(s, dtype=np.int64) for s in state["surrogates"]]

    def state(self):
        """The complete state of the core behind the protocol: :meth:`FixedCore.state` plus
        ``surrogates``, ``noise`` (per hidden layer) and ``params`` (the PARAM entries)."""
        return {**self.core.state(), "surrogates": [s.copy() for s in self.surrogates],
                "noise": [z.copy() for z in self.noise],
                "params": np.array([self.cfg.hidden_lr_shift, self.cfg.readout_lr_shift])}

    # --- memory map -------------------------------------------------------------------
    def _shape(self, mem):
        """(rows, cols, signed bits or None for unsigned, writable) of a memory, or None."""
        cfg, L = self.cfg, self.cfg.n_hidden_layers
        if Mem.W1 <= mem <= Mem.W3 and mem - Mem.W1 < L:
            l = mem - Mem.W1
            return cfg.hidden[l], cfg.sizes[l], cfg.weight_bits, True
        if mem == Mem.W_OUT:
            return cfg.n_outputs, cfg.hidden[-1], cfg.weight_bits, True
        if Mem.M1 <= mem <= Mem.M3 and mem - Mem.M1 < L:
            return cfg.hidden[mem - Mem.M1], cfg.n_outputs, cfg.feedback_bits, True
        if mem == Mem.BASELINE:
            return cfg.n_outputs, 1, cfg.output_bits, True
        if mem == Mem.LFSR:
            return cfg.lanes, 1, None, True
        if mem in (Mem.MEMBRANE, Mem.SPIKE):
            return max(cfg.hidden), L, (cfg.membrane_bits if mem == Mem.MEMBRANE else None), False
        if mem == Mem.TRACE:
            return max(cfg.sizes[:-1]), L + 1, None, False
        if mem == Mem.PARAM:
            return 2, 1, None, True
        return None

    def _valid_address(self, mem, row, col):
        shape = self._shape(mem)
        if shape is None:
            return False
        rows, cols = shape[0], shape[1]
        if not (row < rows and col < cols):
            return False
        cfg = self.cfg
        if mem in (Mem.MEMBRANE, Mem.SPIKE):
            return row < cfg.hidden[col]
        if mem == Mem.TRACE:
            return row < cfg.sizes[col]
        return True

    def read(self, mem, row, col):
        c = self.core
        if Mem.W1 <= mem <= Mem.W3:
            return int(c.weights[mem - Mem.W1][row, col])
        if mem == Mem.W_OUT:
            return int(c.weights[-1][row, col])
        if Mem.M1 <= mem <= Mem.M3:
            return int(c.feedback[mem - Mem.M1][row, col])
        if mem == Mem.BASELINE:
            return int(c.baseline[row])
        if mem == Mem.LFSR:
            return int(c.lfsr.states[row])
        if mem == Mem.MEMBRANE:
            return int(c.membranes[col][row])
        if mem == Mem.SPIKE:
            return int(c.spikes[col][row])
        if mem == Mem.TRACE:
            return int(c.traces[col][row])
        if mem == Mem.PARAM:
            return self.cfg.hidden_lr_shift if row == 0 else self.cfg.readout_lr_shift
        raise AssertionError(mem)

    def _write(self, mem, row, col, word):
        """Apply a write; returns the status."""
        shape = self._shape(mem)
        if shape is None or not shape[3] or not self._valid_address(mem, row, col):
            return Status.ERR_ADDR
        bits = shape[2]
        value = word - (1 << 32) if word >> 31 else word
        c = self.core
        if bits is not None:
            if not smin(bits) <= value <= smax(bits):
                return Status.ERR_VALUE
            if Mem.W1 <= mem <= Mem.W3:
                c.weights[mem - Mem.W1][row, col] = value
            elif mem == Mem.W_OUT:
                c.weights[-1][row, col] = value
            elif Mem.M1 <= mem <= Mem.M3:
                c.feedback[mem - Mem.M1][row, col] = value
            else:
                c.baseline[row] = value
            return Status.OK
        if mem == Mem.LFSR:
            if word == 0 or word >> self.cfg.lfsr_bits:
                return Status.ERR_VALUE
            c.lfsr.states[row] = word
            return Status.OK
        lo, hi = lr_shift_range(self.cfg, row)              # PARAM
        if not lo <= value <= hi:
            return Status.ERR_VALUE
        key = "hidden_lr_shift" if row == 0 else "readout_lr_shift"
        self.cfg = self.cfg.with_(**{key: value})
        c.cfg = self.cfg
        return Status.OK

    # --- command processing --------------------------------------------------------------
    def command_length(self, head):
        """Words of the command starting with ``head`` on this stream."""
        return command_length(head, self.cfg.n_inputs)

    def feed(self, word):
        """Feed one command word; returns the response words it completes (maybe none)."""
        self.pending.append(word & WORD_MASK)
        if len(self.pending) < command_length(self.pending[0], self.cfg.n_inputs):
            return []
        words, self.pending = self.pending, []
        return self.execute(words)

    def execute(self, words):
        """Execute one complete command; returns its response words."""
        cfg = self.cfg
        head = words[0]
        op = head >> 28
        if op == Op.NOP:
            return [response(op, Status.OK)]
        if op == Op.START:
            label = head & 0xFFFF
            if label >= cfg.n_outputs:
                return [response(op, Status.ERR_LABEL)]
            self.active, self.train, self.label = True, bool(head >> 27 & 1), label
            self.steps = 0
            self.core.reset_sample()
            return [response(op, Status.OK)]
        if op == Op.STEP:
            if not self.active or self.steps == cfg.timesteps:
                return [response(op, Status.ERR_STATE)]
            self.steps += 1
            bits = np.zeros(cfg.n_inputs, dtype=np.int64)
            for i in range(cfg.n_inputs):
                bits[i] = words[1 + i // 32] >> (i % 32) & 1
            core, P = self.core, cfg.lanes
            if self.train and core.method == "opzo":
                noise = core._draw_noise()          # the bits _step would draw itself
                self.noise = [(z > 0).astype(np.int64) for z in noise]
            else:
                noise = None
                lane_bits = core.lfsr.states.astype(np.int64) & 1
                self.noise = [lane_bits[np.arange(n) % P] for n in cfg.hidden]
            core._step(bits, self.label, self.train, noise)
            self.surrogates = [surrogate(cfg, u).astype(np.int64) for u in core.membranes]
            return [response(op, Status.OK)]
        if op == Op.END:
            if not self.active:
                return [response(op, Status.ERR_STATE)]
            self.active = False
            total = self.core.total
            return [response(op, Status.OK, 1 + cfg.n_outputs), int(np.argmax(total))] + \
                   [int(v) & WORD_MASK for v in total]
        if op in (Op.WRITE, Op.READ):
            mem = head >> 24 & 0xF
            row, col = words[1] >> 16, words[1] & 0xFFFF
            if op == Op.WRITE:
                return [response(op, self._write(mem, row, col, words[2]))]
            if not self._valid_address(mem, row, col):
                return [response(op, Status.ERR_ADDR)]
            return [response(op, Status.OK, 1), self.read(mem, row, col) & WORD_MASK]
        return [response(op, Status.ERR_OPCODE)]
