"""The target a build takes when the command line names none: the core clock and
nextpnr's router, per device and per configuration (:func:`default_target`), with the
measurements behind each choice."""

__all__ = ["ROUTERS", "DEFAULT_ROUTER", "DEFAULT_MHZ", "FALLBACK_MHZ", "CONFIG_DEFAULTS",
           "ROUTED_LANES", "LANE_DEFAULTS", "default_target"]

ROUTERS = ("router1", "router2")
# nextpnr's router per device when --router is not given: only router1 routes the design on
# the 25F die (router2 stalls at ~1,500 overused wires); on the 85F router2 always
# converged, while router1 reaches the higher clock (digits at a 100 MHz target: 104.9 to
# 109.5 MHz on seeds 0-3 against 84.1 for router2) but looped without converging on the
# MNIST netlist
DEFAULT_ROUTER = {"12F": "router1", "25F": "router1", "45F": "router2", "85F": "router1"}
# the core clock target per device when --freq is not given (MHz): the 85F meets 100 MHz on
# every nextpnr seed 0-3 with router1 (results/fpga/); the smaller dies are not measured there
DEFAULT_MHZ = {"85F": 100.0}
FALLBACK_MHZ = 50.0
# configurations whose netlist sets its own defaults, whatever the device: MNIST's 784-input
# weight memory spans 120 block RAMs, and the read address, shared by the forward pass and
# the update engine, crosses the die to reach them (11.3 to 17.4 ns of routing on the
# critical paths of the builds in results/fpga/). At a 50 MHz target router2 gave 51.16 MHz
# on the default seed but 45.98 on seed 1, and the resident build 45.04
# (results/fpga/*-50MHz*.json); 40 MHz holds on both seeds and with the resident store
# (results/fpga/ulx3s-85F-mnist*.json). router1 loops on this netlist
CONFIG_DEFAULTS = {"mnist": {"mhz": 40.0, "router": "router2"}}
# the largest lane count P measured to place and route, per device (``--lanes max`` takes no
# more): on the 85F, P = 32 (54,591 LUT4, 33,379 FF) does not route, router2 at a 100 MHz
# target with 4,400 wires still overused at iteration 23 and router1 at 50 MHz with about
# 146,000 arcs unrouted after 24 minutes, both no longer falling, and router2 at 50 MHz gave no
# result in 102 minutes; P = 16 routes (README,
# "Lanes per device").  Devices not listed are capped by their multipliers and block RAMs only.
ROUTED_LANES = {"85F": 16}
# the target of a build at a lane count other than P = 8, per (device, P): P = 16 on the 85F
# meets 65 MHz with router2 (67.51 MHz, results/fpga/ulx3s-85F-digits-p16.json) but not 70
# (65.04 MHz) nor 100 (71.77 MHz, results/fpga/ulx3s-85F-digits-p16-router2.json)
LANE_DEFAULTS = {("85F", 16): {"mhz": 65.0, "router": "router2"}}


def default_target(device, config, resident=None, lanes=None):
    """``(MHz, router)`` of a build given neither ``--freq`` nor ``--router``.

    The clock is the lowest of the targets that apply: the configuration's own
    (:data:`CONFIG_DEFAULTS`), the lane count's on this device (``lanes``,
    :data:`LANE_DEFAULTS`) and 50 MHz with the data set store on board (``resident``: that
    build is measured at 50 MHz only); else the device's (:data:`DEFAULT_MHZ`).  The router is
    the configuration's, else the lane count's, else the device's.
    """
    rules = [r for r in (CONFIG_DEFAULTS.get(config), LANE_DEFAULTS.get((device, lanes))) if r]
    if resident:
        rules.append({"mhz": FALLBACK_MHZ})
    clocks = [r["mhz"] for r in rules if "mhz" in r]
    mhz = min(clocks) if clocks else DEFAULT_MHZ.get(device, FALLBACK_MHZ)
    router = next((r["router"] for r in rules if "router" in r), DEFAULT_ROUTER.get(device, "router2"))
    return mhz, router
