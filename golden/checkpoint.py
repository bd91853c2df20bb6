"""Checkpoints: the learned state of the core as an ``.npz`` file.

The keys are the ones ``python -m boards.ulx3s.host dump`` writes, so a checkpoint from
the board, from ``python -m tools.train --ckpt`` and from ``python -m tools.nir_convert
import`` are interchangeable:

``W1`` .. ``WL`` (hidden weights, ``n_l x n_{l-1}``), ``W_OUT`` (``n_outputs x n_L``),
``M1`` .. ``ML`` (feedback matrices, ``n_l x n_outputs``), ``BASELINE`` (``n_outputs x 1``),
``LFSR`` (``lanes x 1``), ``PARAM`` (``2 x 1``: hidden and readout learning-rate shifts),
all integers as the core stores them.  ``CONFIG`` (optional) is the
:class:`~golden.config.CoreConfig` as a JSON string (its learning-rate shifts are the ones in
force when the checkpoint was written, as in ``PARAM``); a board dump has none, because the
configuration is fixed when the bitstream is built, so the reader then needs it given.
"""

import json
import zipfile

import numpy as np

from .config import CoreConfig

__all__ = ["core_checkpoint", "save_checkpoint", "load_checkpoint", "checkpoint_weights",
           "config_from_json"]


def config_from_json(text):
    """A :class:`CoreConfig` from its ``to_dict()`` JSON (unknown keys are an error)."""
    fields = json.loads(str(text))
    if not isinstance(fields, dict):
        raise ValueError("the configuration JSON is not an object")
    unknown = set(fields) - set(CoreConfig.field_names())
    if unknown:
        raise ValueError(f"the configuration has unknown fields {sorted(unknown)}")
    if "hidden" in fields:
        fields["hidden"] = tuple(fields["hidden"])
    return CoreConfig(**fields)


def core_checkpoint(cfg, weights, feedback=None, baseline=None, lfsr=None):
    """The checkpoint dictionary of a state (``feedback``, ``baseline``, ``lfsr`` default to a
    freshly reset core's: zero ``M`` and ``b``, seeded LFSRs)."""
    from .noise import LfsrBank
    L = cfg.n_hidden_layers
    if feedback is None:
        feedback = [np.zeros((n, cfg.n_outputs), dtype=np.int64) for n in cfg.hidden]
    if baseline is None:
        baseline = np.zeros(cfg.n_outputs, dtype=np.int64)
    if lfsr is None:
        lfsr = LfsrBank.from_config(cfg).states
    data = {f"W{l + 1}": np.asarray(weights[l], dtype=np.int64) for l in range(L)}
    data["W_OUT"] = np.asarray(weights[L], dtype=np.int64)
    data.update({f"M{l + 1}": np.asarray(feedback[l], dtype=np.int64) for l in range(L)})
    data["BASELINE"] = np.asarray(baseline, dtype=np.int64).reshape(-1, 1)
    data["LFSR"] = np.asarray(lfsr, dtype=np.int64).reshape(-1, 1)
    data["PARAM"] = np.array([[cfg.hidden_lr_shift], [cfg.readout_lr_shift]], dtype=np.int64)
    data["CONFIG"] = np.array(json.dumps(cfg.to_dict()))
    return data


def save_checkpoint(path, data):
    np.savez(path, **data)


def load_checkpoint(path, cfg=None):
    """``(cfg, data)`` from an ``.npz`` checkpoint.

    The configuration is the file's ``CONFIG`` when it has one, else ``cfg`` (required then).
    Every weight matrix is checked against the configuration's sizes.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz checkpoint ({exc})") from None
    if "CONFIG" in data:
        try:
            cfg = config_from_json(data["CONFIG"][()])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: its CONFIG entry is not a valid configuration ({exc})") from None
    elif cfg is None:
        raise ValueError(f"{path} holds no CONFIG (a board dump): give the bitstream's "
                         f"configuration (--config, --set)")
    sizes = cfg.sizes
    L = cfg.n_hidden_layers
    for l in range(L + 1):
        name = f"W{l + 1}" if l < L else "W_OUT"
        if name not in data:
            raise ValueError(f"{path}: no {name} (keys: {sorted(data)})")
        want = (sizes[l + 1], sizes[l])
        if data[name].shape != want:
            raise ValueError(f"{path}: {name} has shape {data[name].shape}, configuration "
                             f"{cfg.name!r} {list(sizes)} needs {want}")
        if not np.issubdtype(data[name].dtype, np.integer):
            raise ValueError(f"{path}: {name} is {data[name].dtype}, the core stores integers")
    if f"W{L + 1}" in data:
        raise ValueError(f"{path}: has W{L + 1}, more hidden layers than configuration "
                         f"{cfg.name!r} ({L})")
    return cfg, data


def checkpoint_weights(cfg, data):
    """The weight matrices ``[W1 .. WL, W_OUT]`` of a checkpoint, as int64."""
    L = cfg.n_hidden_layers
    return [np.asarray(data[f"W{l + 1}" if l < L else "W_OUT"], dtype=np.int64) for l in range(L + 1)]
