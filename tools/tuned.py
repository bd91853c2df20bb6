"""Hyperparameters chosen on validation accuracy, per data set, model and method.

Each entry holds the configuration fields (``--set FIELD=VALUE``) that ``tools.train``
applies on top of the data set's preset unless ``--untuned`` is given.  They were chosen
by ``python -m tools.tune`` (grids, commands and the validation accuracy of every point
in ``results/tune/<data>.json``); nothing here was chosen on test accuracy.
Float methods use the same fields as the chip: every rate is the power of two of its shift.
The ablations ``m_random_frozen`` and ``m_zero_frozen`` are not searched: they take the
chip's OPZO fields, so that they differ from it only in ``M`` never being updated.
``antithetic`` was chosen for the chip's OPZO by ``python -m tools.antithetic``
(``results/antithetic.json``, validation, seeds 1-3): on for Yin-Yang and digits (their
presets carry it, since it shapes the gateware); the float methods that inject noise were
tuned without it and keep it off.
Digits' chip OPZO, chip readout-only and float BP come from the full-length searches on
seeds 4-6 (20 epochs, halvings at 10 and 15: ``"... full"`` in ``results/tune/digits.json``);
its other methods from the 6-epoch search on seed 0.
Yin-Yang's thermometer resolution (the preset's ``encoding_levels``, 64: 256 inputs) was
chosen first, for the chip's OPZO on seeds 4-6 (``"fixed:opzo levels"``, the tuning
schedule, and ``"fixed:opzo levels full"``, 20 epochs); every method was then searched at it.
"""

__all__ = ["TUNED", "tuned_overrides"]

TUNED = {
    "digits": {
        "fixed:m_random_frozen": {"feedback_decay_shift": 11, "hidden_lr_shift": 5, "noise_shift": 1, "readout_lr_shift": 8, "antithetic": True},
        "fixed:m_zero_frozen": {"feedback_decay_shift": 11, "hidden_lr_shift": 5, "noise_shift": 1, "readout_lr_shift": 8, "antithetic": True},
        "fixed:opzo": {"feedback_decay_shift": 11, "feedback_init": "zero", "hidden_lr_shift": 5, "noise_shift": 1, "readout_lr_shift": 8, "antithetic": True},
        "fixed:readout": {"readout_lr_shift": 9},
        "float:bp": {"hidden_lr_shift": 4, "readout_lr_shift": 9},
        "float:dfa": {"hidden_lr_shift": 4, "readout_lr_shift": 9},
        "float:opzo": {"feedback_decay_shift": 11, "feedback_init": "zero", "hidden_lr_shift": 7, "noise_shift": 2, "readout_lr_shift": 9, "antithetic": False},
        "float:readout": {"readout_lr_shift": 9},
        "float:zo": {"hidden_lr_shift": 16, "noise_shift": 2, "readout_lr_shift": 8, "antithetic": False},
    },
    "yinyang": {
        "fixed:m_random_frozen": {"feedback_decay_shift": 11, "hidden_lr_shift": 7, "noise_shift": 2, "readout_lr_shift": 9, "antithetic": True},
        "fixed:m_zero_frozen": {"feedback_decay_shift": 11, "hidden_lr_shift": 7, "noise_shift": 2, "readout_lr_shift": 9, "antithetic": True},
        "fixed:opzo": {"feedback_decay_shift": 11, "feedback_init": "random", "hidden_lr_shift": 7, "noise_shift": 2, "readout_lr_shift": 9, "antithetic": True},
        "fixed:readout": {"readout_lr_shift": 8},
        "float:bp": {"hidden_lr_shift": 8, "readout_lr_shift": 10},
        "float:dfa": {"hidden_lr_shift": 7, "readout_lr_shift": 9},
        "float:opzo": {"feedback_decay_shift": 12, "feedback_init": "zero", "hidden_lr_shift": 5, "noise_shift": 2, "readout_lr_shift": 9, "antithetic": False},
        "float:readout": {"readout_lr_shift": 8},
        "float:zo": {"hidden_lr_shift": 14, "noise_shift": 3, "readout_lr_shift": 10, "antithetic": False},
    },
    "mnist": {
        "fixed:m_random_frozen": {"feedback_decay_shift": 12, "hidden_lr_shift": 5, "noise_shift": 0, "readout_lr_shift": 8},
        "fixed:m_zero_frozen": {"feedback_decay_shift": 12, "hidden_lr_shift": 5, "noise_shift": 0, "readout_lr_shift": 8},
        "fixed:opzo": {"feedback_decay_shift": 12, "feedback_init": "zero", "hidden_lr_shift": 5, "noise_shift": 0, "readout_lr_shift": 8},
        "fixed:readout": {"readout_lr_shift": 7},
        "float:bp": {"hidden_lr_shift": 7, "readout_lr_shift": 9},
        "float:dfa": {"hidden_lr_shift": 5, "readout_lr_shift": 8},
        "float:opzo": {"feedback_decay_shift": 11, "feedback_init": "zero", "hidden_lr_shift": 7, "noise_shift": 2, "readout_lr_shift": 9},
        "float:readout": {"readout_lr_shift": 7},
        "float:zo": {"hidden_lr_shift": 16, "noise_shift": 3, "readout_lr_shift": 9},
    },
}


def tuned_overrides(data, model, method):
    """The tuned fields for ``(data, model, method)`` (empty if none were tuned)."""
    return dict(TUNED.get(data, {}).get(f"{model}:{method}", {}))
