"""Hyperparameters chosen on validation accuracy, per data set, model and method.

Each entry holds the configuration fields (``--set FIELD=VALUE``) that ``tools.train``
applies on top of the data set's preset unless ``--untuned`` is given.  They were chosen
by ``python -m tools.tune`` (grids, commands and the validation accuracy of every point
in ``results/tune/<data>.json``); nothing here was chosen on test accuracy.
Float methods use the same fields as the chip: every rate is the power of two of its shift.
"""

__all__ = ["TUNED", "tuned_overrides"]

TUNED = {
}


def tuned_overrides(data, model, method):
    """The tuned fields for ``(data, model, method)`` (empty if none were tuned)."""
    return dict(TUNED.get(data, {}).get(f"{model}:{method}", {}))
