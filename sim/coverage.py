"""Functional coverage of an RTL-against-golden run: plain counters of the events worth
seeing (each saturation, each error code, stalls on each stream, zero-``d`` groups skipped,
empty-input steps, back-to-back samples, host access between samples).

Saturation is counted inside the golden model, where each quantity is clamped once
(docs/fixed_point.md): :func:`install` wraps the ``saturate`` of each golden module so that
every element the clamp changed is counted, per quantity and side.  The RTL equals the
golden model bit for bit in the same run (every word and the complete state are compared),
so a clamp counted here is a clamp the RTL made as well.  ``disabled`` turns one quantity's
clamp off (the clamp returns its input unchanged): a golden model run that way is a mutant
that must disagree with the RTL as soon as the clamp mattered (:class:`MutantBoard` in
:mod:`sim.cocotb_core`).

The state extremes (the smallest and largest value of each stored quantity seen in the
RTL's registers and memories at the state checks) show that a limit was *held* in RTL
state, not only crossed in the model.

:func:`format_table` prints a table in which every event that never happened says so.
"""

import sys

import numpy as np

__all__ = ["SATURATING", "Coverage", "install", "disabled", "format_table", "merge",
           "state_limits"]

# quantity -> (golden module, function that clamps it)
SATURATING = {
    "membrane": ("golden.neuron", "lif_step"),
    "trace": ("golden.trace", "trace_step"),
    "readout o": ("golden.core", "_step"),
    "M": ("golden.feedback", "feedback_update"),
    "g": ("golden.feedback", "top_down_signal"),
    "d": ("golden.update_rule", "neuron_factor"),
    "hidden weight": ("golden.update_rule", "hidden_update"),
    "readout weight": ("golden.update_rule", "readout_update"),
}
_BY_FUNCTION = {func: q for q, (_, func) in SATURATING.items()}

disabled = set()
"""Quantities whose clamp is switched off (for mutant golden models)."""

counting = [True]
"""``counting[0] = False`` while a mutant model runs, so that only the real model counts."""

_counts = {}          # (quantity, "low"/"high") -> elements clamped
_installed = []


def _wrap(original, unsigned):
    def clamp(x, bits):
        q = _BY_FUNCTION.get(sys._getframe(1).f_code.co_name)
        if q is None:
            return original(x, bits)
        lo, hi = (0, (1 << bits) - 1) if unsigned else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        if q in disabled:
            return x
        if not counting[0]:
            return original(x, bits)
        a = np.asarray(x)
        low, high = int(np.count_nonzero(a < lo)), int(np.count_nonzero(a > hi))
        if low:
            _counts[(q, "low")] = _counts.get((q, "low"), 0) + low
        if high:
            _counts[(q, "high")] = _counts.get((q, "high"), 0) + high
        return original(x, bits)
    clamp.__wrapped__ = original
    return clamp


def install():
    """Wrap the golden modules' clamps (idempotent)."""
    if _installed:
        return
    import importlib
    for module in sorted({m for m, _ in SATURATING.values()}):
        mod = importlib.import_module(module)
        for name, unsigned in (("saturate", False), ("saturate_unsigned", True)):
            original = getattr(mod, name, None)
            if original is not None and not hasattr(original, "__wrapped__"):
                setattr(mod, name, _wrap(original, unsigned))
                _installed.append((mod, name, original))


def uninstall():
    while _installed:
        mod, name, original = _installed.pop()
        setattr(mod, name, original)


def clamp_counts():
    """Elements clamped so far, ``{(quantity, side): count}`` (a copy)."""
    return dict(_counts)


def reset_counts():
    _counts.clear()


def state_limits(cfg):
    """``{name: (lo, hi)}`` of the stored quantities whose limits a state check sees (the
    names are :func:`state_values`'s)."""
    from golden.arith import smax, smin
    return {
        "hidden weights": (smin(cfg.weight_bits), smax(cfg.weight_bits)),
        "readout weights": (smin(cfg.weight_bits), smax(cfg.weight_bits)),
        "feedback": (smin(cfg.feedback_bits), smax(cfg.feedback_bits)),
        "membranes": (smin(cfg.membrane_bits), smax(cfg.membrane_bits)),
        "traces": (0, (1 << cfg.trace_bits) - 1),
        "baseline": (smin(cfg.output_bits), smax(cfg.output_bits)),
        "total": (cfg.timesteps * smin(cfg.output_bits), cfg.timesteps * smax(cfg.output_bits)),
    }


def state_values(state):
    """``{name: list of arrays}`` of a state dictionary, by :func:`state_limits`'s names."""
    return {"hidden weights": state["weights"][:-1], "readout weights": state["weights"][-1:],
            **{k: (state[k] if isinstance(state[k], list) else [state[k]])
               for k in ("feedback", "membranes", "traces", "baseline", "total")}}


def _extend(extremes, key, arrays):
    vals = [int(f(a)) for a in arrays if np.size(a) for f in (np.min, np.max)]
    if vals:
        old = extremes.get(key)
        lo, hi = min(vals), max(vals)
        extremes[key] = [lo, hi] if old is None else [min(old[0], lo), max(old[1], hi)]


class Coverage:
    """Counters of one run; :meth:`as_dict` is JSON."""

    EVENTS = (
        "samples trained", "samples inferred", "time steps", "empty-input steps",
        "full-input steps", "back-to-back samples", "host reads between samples",
        "host writes between samples", "host access inside a sample", "zero-d groups skipped", "nonzero-d groups updated",
        "input stream: idle cycles (driver)", "input stream: stall cycles (core not ready)",
        "output stream: stall cycles (back pressure)",
    )

    def __init__(self, cfg):
        self.cfg = cfg
        self.counts = {e: 0 for e in self.EVENTS}
        self.status = {}                 # status name -> responses
        self.extremes = {}               # state key -> [min, max] seen in RTL state
        self.golden_extremes = {}        # "readout o", "d" -> [min, max] in the golden model
        self.last_op = None
        self.open = False
        reset_counts()

    def add(self, event, n=1):
        self.counts[event] = self.counts.get(event, 0) + n

    def command(self, op, status, model, words):
        """Record one command (after the model has answered it)."""
        from golden.protocol import Op, Status
        self.status[Status(status).name] = self.status.get(Status(status).name, 0) + 1
        ok = status == Status.OK
        if op == Op.START and ok:
            if self.last_op == Op.END:
                self.add("back-to-back samples")
            self.add("samples trained" if model.train else "samples inferred")
        elif op == Op.STEP and ok:
            n = self.cfg.n_inputs
            bits = sum(bin(w).count("1") for w in words[1:])
            self.add("time steps")
            _extend(self.golden_extremes, "readout o", [model.core._o])
            if model.train and model.core.method == "opzo":
                _extend(self.golden_extremes, "d", model.core.factors)
            if bits == 0:
                self.add("empty-input steps")
            if bits == n:
                self.add("full-input steps")
            if model.train and model.core.method == "opzo":
                P = self.cfg.lanes
                for d in model.core.factors:
                    for c in range(self.cfg.groups(len(d))):
                        self.add("nonzero-d groups updated" if np.any(d[c * P:(c + 1) * P])
                                 else "zero-d groups skipped")
        elif op in (Op.READ, Op.WRITE) and ok:
            if model.active:
                self.add("host access inside a sample")
            else:
                self.add("host reads between samples" if op == Op.READ else "host writes between samples")
        if op in (Op.START, Op.STEP, Op.END, Op.READ, Op.WRITE):
            self.last_op = op if ok else None
        else:
            self.last_op = None

    def state(self, state):
        """Record the extremes of an RTL state (after it was compared with golden)."""
        for key, arrays in state_values(state).items():
            _extend(self.extremes, key, arrays)

    def as_dict(self):
        limits = state_limits(self.cfg)
        clamps = clamp_counts()
        return {
            "events": dict(self.counts),
            "status": dict(self.status),
            "clamps": {f"{q} {side}": clamps.get((q, side), 0)
                       for q in SATURATING for side in ("low", "high")},
            "state_at_limit": {f"{key} {side}": int(self.extremes.get(key, [None, None])[i] == limits[key][i])
                               for key in limits for i, side in enumerate(("low", "high"))},
            "extremes": dict(self.extremes),
            "golden_extremes": dict(self.golden_extremes),
        }


def merge(a, b):
    """Sum two :meth:`Coverage.as_dict` tables (for a soak over several configurations)."""
    out = {}
    for part in ("events", "status", "clamps", "state_at_limit"):
        keys = list(a.get(part, {})) + [k for k in b.get(part, {}) if k not in a.get(part, {})]
        out[part] = {k: a.get(part, {}).get(k, 0) + b.get(part, {}).get(k, 0) for k in keys}
    return out


def rows(table):
    """(section, event, count) rows, every status code and clamp side listed even at 0."""
    from golden.protocol import Status
    out = [("event", k, v) for k, v in table["events"].items()]
    out += [("response status", s.name, table["status"].get(s.name, 0)) for s in Status]
    out += [("saturation (elements clamped)", k, v) for k, v in table["clamps"].items()]
    out += [("RTL state held at its limit (runs)", k, v) for k, v in table["state_at_limit"].items()]
    return out


def format_table(table):
    """Markdown table; an event that never happened is marked **never**."""
    lines = ["| kind | event | count |", "|---|---|---|"]
    for section, event, count in rows(table):
        lines.append(f"| {section} | {event} | {count if count else '**never** (0)'} |")
    never = [f"{s}: {e}" for s, e, c in rows(table) if not c]
    lines.append("")
    lines.append("Never happened: " + ("; ".join(never) if never else "none") + ".")
    return "\n".join(lines)
