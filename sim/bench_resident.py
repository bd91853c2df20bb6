"""The benchmark's resident stage (``--resident``, stage 6 of :mod:`sim.bench`): the resident
system measured under cocotb/Verilator with its store where ``rtl.build --resident`` puts it,
its rate at the core's Fmax against the chip rate, and its link bytes per training sample.
"""

from .bench_rtl import measure_resident
from .link_cost import BITS_PER_BYTE, resident_link_bytes

__all__ = ["resident_sdram", "resident_store", "resident_stage"]


def resident_sdram(device, config):
    """The SDRAM store's controller in the resident bench: the clock and CAS latency of
    ``rtl.build --resident``'s default target for this device and configuration
    (:func:`rtl.build_defaults.default_target`, :func:`boards.ulx3s.top.default_sdram_config`),
    with a 2 us power-up wait (a counter; the datasheet's 200 us would only lengthen the
    upload)."""
    from boards.ulx3s.top import default_sdram_config
    from rtl.build_defaults import default_target
    mhz, _ = default_target(device, config, resident=config)
    sdram = default_sdram_config(mhz * 1e6)
    return {"clk_freq": sdram.clk_freq, "cas_latency": sdram.cas_latency, "t_powerup": 2000.0}


def resident_store(cfg, args):
    """Where the data set lives in the benchmarked system: ``args.resident_store``, or with
    ``"auto"`` where ``rtl.build --resident`` puts it on ``args.device``
    (:func:`rtl.device_fit.choose_store`)."""
    if args.resident_store != "auto":
        return args.resident_store
    from rtl.board_registry import find_board
    from rtl.device_fit import choose_store, resident_rows
    return choose_store(find_board("ulx3s"), args.device, cfg, resident_rows(cfg.name))


def resident_stage(cfg, args, store, *, build_base, baud, fmax, cycles_per_sample):
    """The ``resident_*`` keys of the benchmark's result.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    args : argparse.Namespace
        The parsed flags of :func:`sim.bench.main` (``samples``, ``seed``, ``simulator``,
        ``verbose``, ``device``).
    store : str
        ``"bram"`` or ``"sdram"`` (:func:`resident_store`).
    build_base : path-like
        The run's :func:`sim.bench_rtl.rtl_build_base`.
    baud : int
    fmax : float or None
        MHz; None gives a null resident rate.
    cycles_per_sample : float
        The bare core's (stage 1), for the ratio to the chip rate.

    Raises
    ------
    RuntimeError
        If the data set is not one byte per input, or the run mismatched the golden model.
    """
    from golden.data import load_dataset

    ds = load_dataset(cfg.name)
    if ds.n_features != cfg.n_inputs:
        raise RuntimeError(f"--resident needs a pixel data set (one byte per input); "
                           f"{cfg.name} has {ds.n_features} features for {cfg.n_inputs} inputs")
    resident = measure_resident(cfg, samples=args.samples, build_base=build_base, seed=args.seed,
                                simulator=args.simulator, verbose=args.verbose,
                                sdram=resident_sdram(args.device, cfg.name) if store == "sdram" else None)
    n_eval = max(len(ds.x_val), len(ds.x_test))
    lb = resident_link_bytes(cfg, len(ds.x_train), n_eval)
    res_sps = fmax * 1e6 / resident["resident_cycles_per_sample"] if fmax else None
    resident.update({
        "resident_samples_per_second": res_sps,
        # the same clock for both: the ratio of their cycles per training sample
        "resident_ratio_to_chip": cycles_per_sample / resident["resident_cycles_per_sample"],
        "resident_link_bytes_per_training_sample": lb["epoch_bytes"] / len(ds.x_train),
        "resident_upload_bytes": lb["upload_bytes"],
        "resident_upload_seconds_at_baud": lb["upload_bytes"] * BITS_PER_BYTE / baud,
    })
    return resident
