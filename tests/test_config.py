import pytest

from golden.config import PRESETS, CoreConfig, preset


def test_init_presets():
    d = preset("digits")
    assert d.sizes == (64, 128, 10) and d.timesteps <= 16 and d.weight_bits <= 16
    y = preset("yinyang")
    assert y.sizes == (256, 64, 64, 3) and y.n_inputs == 4 * y.encoding_levels
    assert set(PRESETS) >= {"digits", "yinyang"}


def test_init_derived():
    c = preset("digits")
    assert c.threshold == 1 << c.frac_bits
    assert c.sigma == c.threshold >> c.noise_shift
    assert c.hidden_shift == c.hidden_lr_shift + c.signal_frac_bits + c.trace_frac_bits - c.frac_bits
    assert c.groups(128) == 16 and c.groups(129) == 17


def test_init_override():
    c = preset("digits", hidden=(33,), lanes=4)
    assert c.hidden == (33,) and c.lanes == 4 and c.name == "digits"


@pytest.mark.parametrize("changes, name", [
    (dict(hidden=(0,)), r"hidden\[0\]"),
    (dict(hidden=()), "hidden"),
    (dict(hidden=(8, 8, 8, 8)), "hidden"),
    (dict(n_inputs=0), "n_inputs"),
    (dict(n_outputs=1), "n_outputs"),
    (dict(lanes=3), "lanes"),
    (dict(lanes=64), "lanes"),
    (dict(weight_bits=20), "weight_bits"),
    (dict(frac_bits=15), "frac_bits"),
    (dict(membrane_bits=16), "membrane_bits"),
    (dict(trace_bits=6), "trace_bits"),
    (dict(leak_shift=0), "leak_shift"),
    (dict(feedback_decay_shift=17), "feedback_decay_shift"),
    (dict(noise_shift=14), "noise_shift"),
    (dict(timesteps=0), "timesteps"),
    (dict(hidden_lr_shift=-1), "hidden_lr_shift"),
    (dict(error_form="mse"), "error_form"),
    (dict(lfsr_bits=31), "lfsr_bits"),
    (dict(seed=-1), "seed"),
])
def test_init_wrong(changes, name):
    with pytest.raises(ValueError, match=name):
        preset("digits", **changes)


def test_init_wrong_message_names_range():
    with pytest.raises(ValueError, match=r"membrane_bits must be an integer in \[17, 40\]"):
        CoreConfig(membrane_bits=12)


def test_preset_unknown():
    with pytest.raises(ValueError, match="config must be one of"):
        preset("cifar")


def test_presets_carry_the_chip_fields_chosen_on_validation():
    """The bitstream is built from the preset, and the noise scale and feedback decay are
    gateware constants: the preset must hold what validation chose for the fixed OPZO model."""
    from tools.tuned import TUNED
    for data in ("digits", "yinyang", "mnist"):
        cfg = preset(data)
        assert {k: getattr(cfg, k) for k in TUNED[data]["fixed:opzo"]} == TUNED[data]["fixed:opzo"]
