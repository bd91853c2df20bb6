"""Will a design fit the device?  Block-RAM estimates checked before synthesis, and the data
set store's rows for a resident build (``python -m rtl.build --resident DATA``)."""

from golden.config import ebr_estimate

from .dataset_store import ebr_estimate as store_ebr

__all__ = ["resident_rows", "check_fit"]


def resident_rows(data):
    """``(n_train, n_test)`` store rows for data set ``data``: its training split, and room
    for the larger of its validation and test splits (the host puts either there)."""
    from golden.data import load_dataset
    ds = load_dataset(data)
    return len(ds.x_train), max(len(ds.x_val), len(ds.x_test))


def check_fit(board_obj, device, cfg, resident=None):
    """Refuse, before synthesis, a design whose block RAMs exceed the device's (estimates of
    :func:`golden.config.ebr_estimate` plus one, and of the store)."""
    available = getattr(board_obj, "ebr", {}).get(device)
    if available is None:
        return None
    need = ebr_estimate(cfg) + 1
    parts = f"core ~{need}"
    if resident is not None:
        store = store_ebr(cfg.n_inputs, *resident) + 2         # + the order memory's two copies
        need += store
        parts += f" + data set store ~{store} ({resident[0]} + {resident[1]} rows)"
    if need > available:
        raise ValueError(f"the design does not fit the {device}: it needs about {need} block RAMs "
                         f"({parts}), the device has {available}")
    return need
