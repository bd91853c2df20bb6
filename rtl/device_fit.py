"""Will a design fit the device?  Block-RAM and multiplier counts checked before synthesis,
and the data set store's rows for a resident build (``python -m rtl.build --resident DATA``):
in block RAM when it fits, else in the board's SDRAM (:func:`choose_store`) when it has one
and the data set fits it."""

from golden.config import ebr_estimate

from .build_defaults import ROUTED_LANES

from .dataset_store import _ebr, store_geometry
from .dataset_store import ebr_estimate as store_ebr

__all__ = ["resident_rows", "mult18_count", "check_fit", "max_lanes", "choose_store",
           "sdram_store_words", "STORES"]

STORES = ("bram", "sdram")


def mult18_count(cfg):
    """MULT18X18D multipliers of the core: one per lane in each of the feedback pass
    (``M e`` and ``g psi`` share it) and the two update engines (hidden, readout), so ``3 P``
    whatever the layer sizes (the 85F builds report 24 at P = 8 and 96 at P = 32)."""
    return 3 * cfg.lanes


def resident_rows(data, n_inputs=None):
    """``(n_train, n_test)`` store rows for data set ``data``: its training split, and room
    for the larger of its validation and test splits (the host puts either there).  With
    ``n_inputs`` (the core's), a data set whose rows have another pixel count is refused:
    the feeder makes one input's spikes from one pixel."""
    from golden.data import load_dataset
    ds = load_dataset(data)
    if n_inputs is not None and ds.n_features != n_inputs:
        raise ValueError(f"resident data set {data} has {ds.n_features} pixels a row, the "
                         f"configuration {n_inputs} inputs: build it with --config {data}")
    return len(ds.x_train), max(len(ds.x_val), len(ds.x_test))


def sdram_store_words(n_inputs, n_train, n_test):
    """16-bit SDRAM words :class:`rtl.sdram_store.SdramStore` spans: every row is
    ``ceil((n_inputs + 1) / 2)`` words rounded up to a power of two (docs/resident.md)."""
    rows = store_geometry(n_inputs, n_train, n_test)[3]
    return rows << ((n_inputs + 2) // 2 - 1).bit_length()


def _sdram_store_ebr(n_inputs, n_train, n_test):
    """Block RAMs of the SDRAM store's two row buffers (a row each in the feeder's layout)."""
    lanes, _, wp, _ = store_geometry(n_inputs, n_train, n_test)
    return _ebr(2 * wp, lanes * 8)


def check_fit(board_obj, device, cfg, resident=None, store="bram"):
    """Refuse, before synthesis, a design whose multipliers (:func:`mult18_count`) or block
    RAMs exceed the device's (estimates of :func:`golden.config.ebr_estimate` plus one, and of
    the store), or, with ``store="sdram"``, whose data set exceeds the board's SDRAM
    (``board_obj.sdram_words``, 16-bit words).  Returns the block RAMs needed (None when the
    board does not say)."""
    if store not in STORES:
        raise ValueError(f"store must be one of {STORES}, got {store!r}")
    if store == "sdram":
        if resident is None:
            raise ValueError("store 'sdram' needs a resident data set")
        have = getattr(board_obj, "sdram_words", None)
        if not have:
            raise ValueError(f"store 'sdram': board {getattr(board_obj, 'name', board_obj)!r} "
                             "has no SDRAM")
        need_words = sdram_store_words(cfg.n_inputs, *resident)
        if need_words > have:
            stride = need_words // sum(resident)
            raise ValueError(f"the data set does not fit the SDRAM: {resident[0]} + {resident[1]} "
                             f"rows of {stride} 16-bit words ({cfg.n_inputs} pixels and a label "
                             f"each) take {2 * need_words:,} bytes ({2 * need_words / 2**20:.1f} "
                             f"MB), the SDRAM holds {2 * have:,} bytes ({2 * have / 2**20:g} MB)")
    mults = getattr(board_obj, "mult18", {}).get(device)
    if mults is not None and mult18_count(cfg) > mults:
        raise ValueError(f"the design does not fit the {device}: lanes = {cfg.lanes} needs "
                         f"{mult18_count(cfg)} multipliers (3 per lane), the device has {mults}")
    available = getattr(board_obj, "ebr", {}).get(device)
    if available is None:
        return None
    need = ebr_estimate(cfg) + 1
    parts = f"core ~{need}"
    if resident is not None and store == "sdram":
        # the row buffers, and the order memory's two copies (one per read port)
        buffers = _sdram_store_ebr(cfg.n_inputs, *resident)
        order = 2 * _ebr(resident[0], resident[0].bit_length())
        need += buffers + order
        parts += f" + SDRAM row buffers ~{buffers} + order memory ~{order}"
    elif resident is not None:
        store_n = store_ebr(cfg.n_inputs, *resident) + 2         # + the order memory's two copies
        need += store_n
        parts += f" + data set store ~{store_n} ({resident[0]} + {resident[1]} rows)"
    if need > available:
        raise ValueError(f"the design does not fit the {device}: it needs about {need} block RAMs "
                         f"({parts}), the device has {available}")
    return need


def choose_store(board_obj, device, cfg, resident):
    """Where a resident data set goes: ``"bram"`` when the design with the block RAM store
    fits the device (:func:`check_fit`), else ``"sdram"`` when the board has an SDRAM; then
    :func:`check_fit` with the SDRAM store raises if the data set exceeds the SDRAM or the
    rest the block RAMs.  A board without SDRAM gets the block RAM store's refusal."""
    try:
        check_fit(board_obj, device, cfg, resident)
        return "bram"
    except ValueError:
        if not getattr(board_obj, "sdram_words", None):
            raise
    check_fit(board_obj, device, cfg, resident, store="sdram")
    return "sdram"


def max_lanes(board_obj, device, cfg, resident=None, store="bram"):
    """The largest lane count P (a power of two, at most 32) at which ``cfg`` fits ``device``
    by :func:`check_fit` (its multipliers, 3 per lane, and block RAMs) and which is not above
    the device's measured routing limit (:data:`rtl.build_defaults.ROUTED_LANES`).  On the
    ULX3S the multipliers allow 8 on the 12F/25F (28), 16 on the 45F (72) and 32 on the 85F
    (156), but P = 32 does not route on the 85F, so it gets 16.  Logic cells are not
    estimated: the build's report says how many P takes."""
    best = None
    routed = ROUTED_LANES.get(device, 32)
    for p in (p for p in (1, 2, 4, 8, 16, 32) if p <= routed):
        try:
            check_fit(board_obj, device, cfg.with_(lanes=p), resident, store)
        except ValueError:
            break
        best = p
    if best is None:
        check_fit(board_obj, device, cfg.with_(lanes=1), resident, store)  # raises, naming why
    return best
