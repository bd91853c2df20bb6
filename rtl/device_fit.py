"""Will a design fit the device?  Block-RAM and multiplier counts checked before synthesis,
and the data set store's rows for a resident build (``python -m rtl.build --resident DATA``)."""

from golden.config import ebr_estimate

from .dataset_store import ebr_estimate as store_ebr

__all__ = ["resident_rows", "mult18_count", "check_fit", "max_lanes"]


def mult18_count(cfg):
    """MULT18X18D multipliers of the core: one per lane in each of the feedback pass
    (``M e`` and ``g psi`` share it) and the two update engines (hidden, readout), so ``3 P``
    whatever the layer sizes (the 85F builds report 24 at P = 8 and 96 at P = 32)."""
    return 3 * cfg.lanes


def resident_rows(data):
    """``(n_train, n_test)`` store rows for data set ``data``: its training split, and room
    for the larger of its validation and test splits (the host puts either there)."""
    from golden.data import load_dataset
    ds = load_dataset(data)
    return len(ds.x_train), max(len(ds.x_val), len(ds.x_test))


def check_fit(board_obj, device, cfg, resident=None):
    """Refuse, before synthesis, a design whose multipliers (:func:`mult18_count`) or block
    RAMs exceed the device's (estimates of :func:`golden.config.ebr_estimate` plus one, and of
    the store).  Returns the block RAMs needed (None when the board does not say)."""
    mults = getattr(board_obj, "mult18", {}).get(device)
    if mults is not None and mult18_count(cfg) > mults:
        raise ValueError(f"the design does not fit the {device}: lanes = {cfg.lanes} needs "
                         f"{mult18_count(cfg)} multipliers (3 per lane), the device has {mults}")
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


def max_lanes(board_obj, device, cfg, resident=None):
    """The largest lane count P (a power of two, at most 32) at which ``cfg`` fits ``device``
    by :func:`check_fit`: its multipliers (3 per lane) and block RAMs.  On the ULX3S the
    multipliers decide: 8 on the 12F/25F (28), 16 on the 45F (72), 32 on the 85F (156).
    Logic cells are not estimated: the build's report says how many P takes."""
    best = None
    for p in (1, 2, 4, 8, 16, 32):
        try:
            check_fit(board_obj, device, cfg.with_(lanes=p), resident)
        except ValueError:
            break
        best = p
    if best is None:
        check_fit(board_obj, device, cfg.with_(lanes=1), resident)     # raises, naming why
    return best
