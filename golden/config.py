"""The one configuration object shared by the golden model and the RTL.

Every size, bit width, shift, seed and lane count of the core lives in :class:`CoreConfig`.
The fixed-point model (:mod:`golden.core`) and the Amaranth gateware (``rtl/``) are both
built from it, so they cannot disagree about a parameter.  The meaning of each field is
specified in ``docs/fixed_point.md``.

Presets are chosen by name (``--config digits``): see :data:`PRESETS`.
"""

from dataclasses import dataclass, field, fields, replace, asdict

__all__ = ["CoreConfig", "PRESETS", "preset", "parse_overrides", "LFSR_TAPS", "HOST_FIELDS",
           "INITIAL_STATE_FIELDS", "gateware_fingerprint", "initial_state_fingerprint",
           "ebr_estimate", "EBR_ULX3S_85F"]

# Maximal-length Fibonacci LFSRs: width -> tap positions t of the recurrence
# b[n + width] = XOR_t b[n + t].  Their characteristic polynomials
# (x^width + sum_t x^t) are primitive; tests/test_noise.py proves it.
LFSR_TAPS = {
    16: (0, 2, 3, 5),       # x^16 + x^5 + x^3 + x^2 + 1
    32: (0, 1, 2, 22),      # x^32 + x^22 + x^2 + x + 1
}

ERROR_FORMS = ("hardsigmoid",)
FEEDBACK_INITS = ("zero", "random")


def _range(name, value, lo, hi, why=""):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]{why}, got {value!r}")


@dataclass(frozen=True)
class CoreConfig:
    """Sizes, widths, shifts and seeds of the OPZO core (see docs/fixed_point.md)."""

    name: str = "custom"
    # --- network -------------------------------------------------------------------
    n_inputs: int = 64
    hidden: tuple = (128,)
    n_outputs: int = 10
    timesteps: int = 8
    lanes: int = 8
    # --- input encoding (host side; the core only sees spike vectors) ----------------
    encoding: str = "rate"
    encoding_levels: int = 16
    # --- bit widths (two's complement unless noted) -----------------------------------
    weight_bits: int = 16
    frac_bits: int = 13          # weights and membranes: V_th = 1 << frac_bits
    membrane_bits: int = 24
    output_bits: int = 24        # readout o[t] and its running baseline
    trace_bits: int = 7          # unsigned; steady state of a spiking neuron is 2^(A+k) - 1
    trace_frac_bits: int = 6     # a spike adds 1 << trace_frac_bits
    surrogate_frac_bits: int = 6  # psi = 1.0 is 1 << surrogate_frac_bits (unsigned)
    error_frac_bits: int = 8     # e in [-1, 1] is [-(1 << e), 1 << e]
    feedback_bits: int = 18      # M entries
    signal_bits: int = 16        # g = M e and d = g * psi
    signal_frac_bits: int = 10
    # --- dynamics -------------------------------------------------------------------
    leak_shift: int = 1          # lambda = 1 - 2^-leak_shift (0.5)
    noise_shift: int = 2         # sigma = V_th >> noise_shift (0.25)
    feedback_decay_shift: int = 11   # lambda_M = 1 - 2^-k (0.9995)
    feedback_input_shift: int = 9    # M += z * ((o - b) >> this)
    antithetic: bool = False     # odd time steps of a sample inject -z of the step before
    baseline_shift: int = 10     # b += (o - b) >> this
    # --- learning -------------------------------------------------------------------
    hidden_lr_shift: int = 6     # eta_hidden = 2^-k
    readout_lr_shift: int = 9    # eta_readout = 2^-k
    error_form: str = "hardsigmoid"
    # --- initialisation and noise ------------------------------------------------------
    init_gain: float = 2.0       # weights ~ N(0, (gain / sqrt(fan_in))^2), quantised
    feedback_init: str = "zero"
    lfsr_bits: int = 32
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        self.validate()

    # ------------------------------------------------------------------------------
    def validate(self):
        """Raise ``ValueError`` naming the first parameter that is out of its range."""
        _range("n_inputs", self.n_inputs, 1, 4096)
        _range("n_outputs", self.n_outputs, 2, 256)
        if not 1 <= len(self.hidden) <= 3:
            raise ValueError(f"hidden must list 1 to 3 layer sizes, got {self.hidden!r}")
        for k, n in enumerate(self.hidden):
            _range(f"hidden[{k}]", n, 1, 4096)
        _range("timesteps", self.timesteps, 1, 256)
        _range("lanes", self.lanes, 1, 32)
        if self.lanes & (self.lanes - 1):
            raise ValueError(f"lanes must be a power of two in [1, 32] (neuron j sits in lane "
                             f"j % lanes of word j // lanes), got {self.lanes}")
        if self.encoding not in ("rate", "thermometer", "lfsr_rate"):
            raise ValueError(f"encoding must be 'rate', 'thermometer' or 'lfsr_rate' (the resident "
                             f"board's on-chip code), got {self.encoding!r}")
        _range("encoding_levels", self.encoding_levels, 1, 256)
        _range("weight_bits", self.weight_bits, 4, 18, " (one ECP5 multiplier input)")
        _range("frac_bits", self.frac_bits, 1, self.weight_bits - 2,
               " (weights must reach +/- 2 * V_th)")
        fan_in = max((self.n_inputs,) + self.hidden)
        need = self.weight_bits + 1
        _range("membrane_bits", self.membrane_bits, need, 40,
               f" (at least weight_bits + 1 so that V_th and any weight fit)")
        _range("output_bits", self.output_bits, self.weight_bits + 1, 40,
               " (at least weight_bits + 1)")
        _range("trace_frac_bits", self.trace_frac_bits, 1, 16)
        _range("leak_shift", self.leak_shift, 1, 8)
        _range("trace_bits", self.trace_bits, self.trace_frac_bits + self.leak_shift, 18,
               " (a trace reaches 2^(trace_frac_bits + leak_shift))")
        _range("surrogate_frac_bits", self.surrogate_frac_bits, 1, min(12, self.frac_bits))
        _range("error_frac_bits", self.error_frac_bits, 1, min(16, self.frac_bits))
        _range("feedback_bits", self.feedback_bits, 4, 18, " (one ECP5 multiplier input)")
        _range("signal_bits", self.signal_bits, 4, 18, " (one ECP5 multiplier input)")
        _range("signal_frac_bits", self.signal_frac_bits, 0, self.signal_bits - 2)
        _range("noise_shift", self.noise_shift, 0, self.frac_bits)
        _range("feedback_decay_shift", self.feedback_decay_shift, 1, 16)
        _range("feedback_input_shift", self.feedback_input_shift, 0, self.output_bits - 1)
        _range("baseline_shift", self.baseline_shift, 1, 16)
        if not isinstance(self.antithetic, bool):
            raise ValueError(f"antithetic must be True or False, got {self.antithetic!r}")
        if self.antithetic and self.timesteps % 2:
            # steps pair up (0, 1), (2, 3), ... inside a sample: an odd T would leave every
            # sample's last step unpaired, a silently one-sided estimate
            raise ValueError(f"antithetic needs an even number of timesteps (z on step 2k, -z on "
                             f"step 2k + 1 of a sample), got timesteps = {self.timesteps}")
        _range("hidden_lr_shift", self.hidden_lr_shift, 0, 24)
        _range("readout_lr_shift", self.readout_lr_shift, 0, 24)
        if self.hidden_shift < 0:
            raise ValueError("hidden_lr_shift too small: hidden_lr_shift + signal_frac_bits + "
                             "trace_frac_bits - frac_bits must be >= 0")
        if self.readout_shift < 0:
            raise ValueError("readout_lr_shift too small: readout_lr_shift + error_frac_bits + "
                             "trace_frac_bits - frac_bits must be >= 0")
        if self.error_form not in ERROR_FORMS:
            raise ValueError(f"error_form must be one of {ERROR_FORMS}, got {self.error_form!r}")
        if self.feedback_init not in FEEDBACK_INITS:
            raise ValueError(f"feedback_init must be one of {FEEDBACK_INITS}, got {self.feedback_init!r}")
        if self.lfsr_bits not in LFSR_TAPS:
            raise ValueError(f"lfsr_bits must be one of {sorted(LFSR_TAPS)}, got {self.lfsr_bits!r}")
        _range("seed", self.seed, 0, 2**32 - 1)
        if not (0.0 < float(self.init_gain) <= 16.0):
            raise ValueError(f"init_gain must be in (0, 16], got {self.init_gain!r}")

    # --- derived quantities -----------------------------------------------------------
    @property
    def sizes(self):
        return (self.n_inputs, *self.hidden, self.n_outputs)

    @property
    def n_hidden_layers(self):
        return len(self.hidden)

    @property
    def threshold(self):
        return 1 << self.frac_bits

    @property
    def sigma(self):
        return self.threshold >> self.noise_shift

    @property
    def hidden_shift(self):
        """Right shift turning ``d * a`` into a hidden weight step."""
        return self.hidden_lr_shift + self.signal_frac_bits + self.trace_frac_bits - self.frac_bits

    @property
    def readout_shift(self):
        """Right shift turning ``e * a`` into a readout weight step."""
        return self.readout_lr_shift + self.error_frac_bits + self.trace_frac_bits - self.frac_bits

    @property
    def feedback_scale_bits(self):
        """``M_int = M_real * 2**feedback_scale_bits`` in steady state."""
        return self.feedback_decay_shift + self.frac_bits - self.feedback_input_shift

    def groups(self, n):
        """Number of P-lane words that hold ``n`` neurons."""
        return -(-n // self.lanes)

    def with_(self, **changes):
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def to_dict(self):
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def field_names(cls):
        return [f.name for f in fields(cls)]


# What a configuration's fields decide, for the board to say what it was built from:
# ``HOST_FIELDS`` only change what the host sends (the encoding of samples) or a label;
# ``INITIAL_STATE_FIELDS`` only change the state the bitstream starts from (initial weights,
# feedback matrices, LFSR seeds, learning-rate shifts), all of which the host can write;
# every other field changes the gateware itself.
HOST_FIELDS = ("name", "encoding", "encoding_levels")
INITIAL_STATE_FIELDS = ("seed", "init_gain", "feedback_init", "hidden_lr_shift", "readout_lr_shift")


# Fields added after bitstreams were built: at these values they are left out of the
# fingerprints, so that a board built before the field existed still matches its config.
_LATER_FIELDS = {"antithetic": False}


def _fingerprint(cfg, names):
    import hashlib
    import json
    d = cfg.to_dict()
    names = [n for n in names if not (n in _LATER_FIELDS and d[n] == _LATER_FIELDS[n])]
    blob = json.dumps({k: d[k] for k in sorted(names)}, sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little")


def gateware_fingerprint(cfg):
    """32-bit hash of the fields that shape the gateware (all but :data:`HOST_FIELDS` and
    :data:`INITIAL_STATE_FIELDS`): two configurations with the same fingerprint run on the
    same bitstream."""
    return _fingerprint(cfg, [n for n in CoreConfig.field_names()
                              if n not in HOST_FIELDS + INITIAL_STATE_FIELDS])


def initial_state_fingerprint(cfg):
    """32-bit hash of :data:`INITIAL_STATE_FIELDS` (the seed among them): which initial
    weights, feedback matrices, LFSR states and learning-rate shifts a bitstream starts with."""
    return _fingerprint(cfg, INITIAL_STATE_FIELDS)


PRESETS = {
    # The chip's learning fields are the ones chosen on validation accuracy for the fixed
    # OPZO model (tools/tuned.py, results/tune/): the noise scale and the feedback decay are
    # constants of the gateware, so the bitstream must be built with them.  Antithetic noise
    # is on where it won on validation (results/antithetic.json, seeds 1-3: Yin-Yang 97.03
    # against 95.57 %, digits 95.37 against 95.00 %).
    "digits": CoreConfig(name="digits", n_inputs=64, hidden=(128,), n_outputs=10,
                         timesteps=8, lanes=8, encoding="rate", hidden_lr_shift=5,
                         readout_lr_shift=8, noise_shift=1, feedback_decay_shift=11,
                         antithetic=True),
    "yinyang": CoreConfig(name="yinyang", n_inputs=256, hidden=(64, 64), n_outputs=3,
                          timesteps=8, lanes=8, encoding="thermometer", encoding_levels=64,
                          hidden_lr_shift=7, readout_lr_shift=9, noise_shift=2,
                          feedback_decay_shift=11, feedback_init="random", antithetic=True),
    # 784 -> 128 -> 10 at the digits widths: W_1 is 16 words x 1,024 columns (784 padded)
    # of 8 x 16 bits = 120 EBR; with readout and M 128 (ebr_estimate), about 129 with the
    # block the digits build adds: it fits the 85F's 208 at 16-bit weights, and so do two
    # and three hidden layers of 128 (147, 166).  It does not fit the 25F (56 EBR).
    # Learning fields chosen on MNIST validation (results/tune/mnist.json): sigma = V_th
    # (noise_shift 0) and lambda_M = 1 - 2^-12.
    "mnist": CoreConfig(name="mnist", n_inputs=784, hidden=(128,), n_outputs=10,
                        timesteps=8, lanes=8, encoding="rate", hidden_lr_shift=5,
                        readout_lr_shift=8, noise_shift=0, feedback_decay_shift=12),
}


# ECP5 block RAM (DP16KD, 18 Kbit): the (depth, width) shapes one block offers
_EBR_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
EBR_ULX3S_85F = 208


def _bits(n):
    return max(1, (n - 1).bit_length())


def ebr_estimate(cfg):
    """Block RAMs the core's large memories need, in the P-lane layout of the RTL core.

    Every matrix with ``r`` rows and ``c`` columns is one memory of ``ceil(r / P) << bits(c)``
    words of ``P`` entries (``bits(c) = ceil(log2 c)``: a fan-in is padded to a power of
    two); each memory takes the cheapest DP16KD shape.  Hidden and readout weights
    (``weight_bits``) and feedback matrices (``feedback_bits``) are counted; the per-neuron
    state (membranes, surrogates, traces: ``ceil(n / P)`` words) is assumed to sit in
    distributed RAM except where it needs more than 512 words, then it is counted too.
    The ``digits`` preset gives 16; its 85F build reports 17 (one block of state or host
    I/O outside this count), so the estimate plus one is the expected figure.
    """
    P = cfg.lanes

    def blocks(depth, width):
        return min(-(-width // w) * -(-depth // d) for d, w in _EBR_SHAPES)

    sizes = cfg.sizes
    total = 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        total += blocks(cfg.groups(fan_out) << _bits(fan_in), cfg.weight_bits * P)
    for n in cfg.hidden:
        total += blocks(cfg.groups(n) << _bits(cfg.n_outputs), cfg.feedback_bits * P)
    for n, width in [(n, w) for n in cfg.hidden
                     for w in (cfg.membrane_bits, cfg.surrogate_frac_bits + 1)] + \
            [(n, cfg.trace_bits) for n in sizes[:-1]]:
        if cfg.groups(n) > 512:
            total += blocks(cfg.groups(n), width * P)
    return total


def preset(name, **overrides):
    """A named preset, optionally with fields overridden."""
    if name not in PRESETS:
        raise ValueError(f"config must be one of {sorted(PRESETS)}, got {name!r}")
    return PRESETS[name].with_(**overrides) if overrides else PRESETS[name]


def _parse_bool(key, value):
    """``true/false``, ``1/0``, ``yes/no`` or ``on/off`` (any case) as a bool."""
    v = value.strip().lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"--set {key}= expects true or false, got {value!r}")


def parse_overrides(items):
    """``["hidden=64,64", "lanes=4", "antithetic=true"]`` ->
    ``{"hidden": (64, 64), "lanes": 4, "antithetic": True}``."""
    names = set(CoreConfig.field_names())
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or key not in names:
            raise ValueError(f"--set expects FIELD=VALUE with FIELD one of {sorted(names)}, got {item!r}")
        if key == "hidden":
            out[key] = tuple(int(v) for v in value.split(",") if v)
        elif key in ("name", "encoding", "error_form", "feedback_init"):
            out[key] = value
        elif key == "init_gain":
            out[key] = float(value)
        elif key == "antithetic":
            out[key] = _parse_bool(key, value)
        else:
            out[key] = int(value, 0)
    return out
