"""ULX3S top level: PLL, the OPZO core, the UART host link, LEDs and a reset button.

``ULX3STop(cfg, freq_hz=50e6)`` is the board design: an ECP5 ``EHXPLLL`` makes the core
clock from the 25 MHz ``clk25``; the power button (``button_pwr``) and PLL lock drive a
synchronised reset; the FTDI ``uart`` pins carry the host link (:mod:`boards.ulx3s.link`).

``ULX3STop(cfg, sim=True, ...)`` bypasses the PLL for simulation: the design then has the
ports ``uart_rx``, ``uart_tx``, ``led`` (8) and ``button`` and runs from the Verilog
``clk``/``rst`` (the ``sync`` domain), so a testbench drives the core clock directly.

``ULX3STop(cfg, resident=(n_train, n_test), store="sdram")`` keeps the resident data set in
the board's SDRAM (:class:`boards.ulx3s.resident_sdram.ResidentOnSdram`: the store on
:class:`boards.ulx3s.sdram.SdramController`) on amaranth-boards' ``sdram`` resource; the
SDRAM's clock pin is the core clock forwarded through an ``ODDRX1F`` in phase (why:
``ULX3STop._sdram_pins`` and docs/sdram.md, "The top level").

LEDs: 0 idle (no sample open), 1 training sample open, 2 inference sample open, 3 error
(core or link error; held for ``led_hold_s``), 4 UART receive activity (stretched),
7 heartbeat (about 1 Hz).
"""

from fractions import Fraction

from amaranth.hdl import ClockDomain, Const, Instance, Module, ResetInserter, Signal
from amaranth.lib import io, wiring
from amaranth.lib.cdc import ResetSynchronizer
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from rtl.core import Core
from rtl.resident_core import ResidentCore

from .link import HostLink
from .resident_sdram import ResidentOnSdram
from .sdram import SdramConfig, pad_signature

__all__ = ["ULX3STop", "LinkedCore", "pll_params", "check_baud", "default_sdram_config",
           "DEFAULT_BAUD", "CLKIN_HZ", "BAUD_TOLERANCE", "STORES"]

CLKIN_HZ = 25_000_000
DEFAULT_BAUD = 1_000_000    # the ULX3S FT231X handles up to 3 Mbaud; 1 Mbaud is exact at 50 MHz


def pll_params(f_in, f_out):
    """EHXPLLL dividers for ``f_out`` from ``f_in`` (Hz), searched like Lattice's ``ecppll``.

    Returns a dict with ``CLKI_DIV``, ``CLKFB_DIV``, ``CLKOP_DIV``, ``CLKOP_CPHASE``,
    ``f_out`` (achieved, Hz, exact fraction as float) and ``f_vco``.  Constraints: PFD
    3.125-400 MHz, VCO 400-800 MHz, output 3.125-400 MHz; ties prefer a VCO near 600 MHz.
    """
    if not 3.125e6 <= f_out <= 400e6:
        raise ValueError(f"PLL output must be in [3.125, 400] MHz, got {f_out / 1e6:g} MHz")
    f_in, f_out = Fraction(f_in), Fraction(f_out)
    best = None
    for ref in range(1, 129):
        pfd = f_in / ref
        if not Fraction(3125, 1000) * 10**6 <= pfd <= 400 * 10**6:
            continue
        for fb in range(1, 81):
            fo = pfd * fb
            if not 3125 * 10**3 <= fo <= 400 * 10**6:
                continue
            for op in range(1, 129):
                vco = fo * op
                if not 400 * 10**6 <= vco <= 800 * 10**6:
                    continue
                key = (abs(fo - f_out), abs(vco - 600 * 10**6))
                if best is None or key < best[0]:
                    best = (key, ref, fb, op, fo, vco)
    if best is None:
        raise ValueError(f"no PLL setting reaches {float(f_out) / 1e6:g} MHz")
    _, ref, fb, op, fo, vco = best
    return {"CLKI_DIV": ref, "CLKFB_DIV": fb, "CLKOP_DIV": op,
            "CLKOP_CPHASE": (op - 1) // 2, "f_out": float(fo), "f_vco": float(vco)}


STORES = ("bram", "sdram")     # where a resident data set lives


def default_sdram_config(freq_hz, **kw):
    """The controller's :class:`boards.ulx3s.sdram.SdramConfig` at the core clock: CAS latency
    2 up to 100 MHz (the parts' CL 2 limit), else 3; the 32 MB part's geometry (on the 64 MB
    part it uses the first 512 columns of every row); ``kw`` overrides (simulations shorten
    ``t_powerup``)."""
    return SdramConfig(**{"clk_freq": freq_hz, "cas_latency": 2 if freq_hz <= 100e6 else 3, **kw})


BAUD_TOLERANCE = 0.02    # the receiver samples mid-bit: 2 % over a 10-bit frame is 0.2 bit


def check_baud(freq_hz, baud):
    """Refuse a baud rate the clock cannot make within :data:`BAUD_TOLERANCE` with a whole
    divisor; returns the baud rate made."""
    divisor = max(1, round(freq_hz / baud))
    made = freq_hz / divisor
    error = abs(made - baud) / baud
    if error > BAUD_TOLERANCE:
        raise ValueError(f"baud {baud} cannot be made from a {freq_hz / 1e6:g} MHz clock: the "
                         f"nearest divisor, {divisor}, gives {made:,.0f} baud, {100 * error:.1f} % "
                         f"off (at most {100 * BAUD_TOLERANCE:g} %); pick a clock near a multiple "
                         f"of the baud rate (e.g. 3000000 baud at 48, 60 or 99 MHz)")
    return made


class LinkedCore(wiring.Component):
    """The core behind the host link, with the LED logic; all in the ``sync`` domain.

    ``resident=(n_train, n_test)`` puts the resident system (:class:`rtl.resident_core.ResidentCore`,
    a data set store of that many rows) behind the link instead of the bare core;
    ``sdram`` (an :class:`boards.ulx3s.sdram.SdramConfig`) keeps that store in SDRAM
    (:class:`boards.ulx3s.resident_sdram.ResidentOnSdram`), and the component then has an
    ``sdram`` port (:func:`boards.ulx3s.sdram.pad_signature`) for the pads.
    """

    def __init__(self, cfg, *, freq_hz, baud=DEFAULT_BAUD, timeout_s=0.01, led_hold_s=0.5,
                 divisor=None, timeout_cycles=None, led_hold_cycles=None, resident=None,
                 sdram=None):
        self.cfg = cfg
        if resident is not None:
            n_train, n_test = resident
            if not (isinstance(n_train, int) and isinstance(n_test, int) and n_train >= 1 and n_test >= 1):
                raise ValueError(f"resident must be (n_train, n_test) with both at least 1, got {resident!r}")
        if sdram is not None and not isinstance(sdram, SdramConfig):
            raise ValueError(f"sdram must be an SdramConfig, got {type(sdram).__name__}")
        if sdram is not None and resident is None:
            raise ValueError("sdram needs resident: the SDRAM holds the resident data set")
        self.resident, self.sdram_config = resident, sdram
        self.divisor = divisor or round(freq_hz / baud)
        if self.divisor < 4:
            raise ValueError(f"baud {baud} too fast for a {freq_hz / 1e6:g} MHz clock")
        if divisor is None:
            check_baud(freq_hz, baud)
        self.timeout_cycles = timeout_cycles or max(32 * self.divisor, round(timeout_s * freq_hz))
        self.led_hold_cycles = led_hold_cycles or max(1, round(led_hold_s * freq_hz))
        self.freq_hz = freq_hz
        super().__init__({"uart_rx": In(1, init=1), "uart_tx": Out(1, init=1), "led": Out(8),
                          **({"sdram": Out(pad_signature())} if sdram is not None else {})})

    def elaborate(self, platform):
        m = Module()
        if self.resident is None:
            m.submodules.core = core = Core(self.cfg)
        elif self.sdram_config is None:
            m.submodules.core = core = ResidentCore(self.cfg, *self.resident)
        else:
            m.submodules.core = core = ResidentOnSdram(self.cfg, *self.resident,
                                                       sdram=self.sdram_config)
            wiring.connect(m, core.sdram, wiring.flipped(self.sdram))
        m.submodules.link = link = HostLink(self.cfg, divisor=self.divisor,
                                            timeout_cycles=self.timeout_cycles,
                                            resident=self.resident is not None)
        # register slices both ways: the link's packet-buffer BRAM and framer stay off the
        # core's command decode and response paths (a two-word FIFO with registered output)
        m.submodules.cmd_slice = cmd_slice = SyncFIFOBuffered(width=32, depth=2)
        m.submodules.rsp_slice = rsp_slice = SyncFIFOBuffered(width=32, depth=2)
        wiring.connect(m, link.cmd, cmd_slice.w_stream)
        wiring.connect(m, cmd_slice.r_stream, core.i_stream)
        wiring.connect(m, core.o_stream, rsp_slice.w_stream)
        wiring.connect(m, rsp_slice.r_stream, link.rsp)
        m.d.comb += [link.rx.eq(self.uart_rx), self.uart_tx.eq(link.tx)]

        def stretch(pulse, cycles):
            cnt = Signal(range(cycles + 1))
            pulse_r = Signal()            # registered: the pulse's decode stays in its block
            m.d.sync += pulse_r.eq(pulse)
            with m.If(pulse_r):
                m.d.sync += cnt.eq(cycles)
            with m.Elif(cnt != 0):
                m.d.sync += cnt.eq(cnt - 1)
            return cnt != 0

        err = stretch(core.error | link.link_error, self.led_hold_cycles)
        act = stretch(link.rx_activity, max(1, self.led_hold_cycles // 10))
        beat = Signal(range(max(2, round(self.freq_hz / 2))))
        heart = Signal()
        with m.If(beat == 0):
            m.d.sync += [beat.eq(max(1, round(self.freq_hz / 2)) - 1), heart.eq(~heart)]
        with m.Else():
            m.d.sync += beat.eq(beat - 1)
        m.d.comb += [
            self.led[0].eq(~core.active),
            self.led[1].eq(core.active & core.training),
            self.led[2].eq(core.active & ~core.training),
            self.led[3].eq(err),
            self.led[4].eq(act),
            self.led[7].eq(heart),
        ]
        if self.resident is not None:           # LED 5: a resident run is in progress
            m.d.comb += self.led[5].eq(core.feeding)
        return m


class ULX3STop(wiring.Component):
    """The ULX3S design (``sim=False``) or its PLL-less simulation twin (``sim=True``).

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    freq_hz : float
        Core clock target; the PLL gets the closest reachable frequency (``self.freq_hz``).
    baud : int
        UART rate (rounded to a whole clock divisor).
    sim : bool
        Bypass the PLL and pins: ports ``uart_rx``, ``uart_tx``, ``led``, ``button``.
    divisor, timeout_cycles, led_hold_cycles : int, optional
        Override the derived cycle counts (simulation uses tiny ones).
    resident : (int, int), optional
        ``(n_train, n_test)``: the data set store's rows (see :class:`LinkedCore`).
    store : {"bram", "sdram"}
        With ``resident``: the data set in block RAM or in the board's SDRAM.
    sdram_config : boards.ulx3s.sdram.SdramConfig, optional
        With ``store="sdram"``: the controller's timing (default: at the core clock,
        :func:`default_sdram_config`); with ``sim=True`` the design then also has the
        ``sdram`` pad port.
    """

    def __init__(self, cfg, *, freq_hz=50e6, baud=DEFAULT_BAUD, sim=False, store="bram",
                 sdram_config=None, **link_kw):
        self.cfg, self.sim, self.baud = cfg, sim, baud
        if store not in STORES:
            raise ValueError(f"store must be one of {STORES}, got {store!r}")
        if store == "sdram" and link_kw.get("resident") is None:
            raise ValueError("store 'sdram' needs resident=(n_train, n_test)")
        if sdram_config is not None and store != "sdram":
            raise ValueError("sdram_config is only for store='sdram'")
        if sdram_config is not None and not isinstance(sdram_config, SdramConfig):
            raise ValueError(f"sdram_config must be an SdramConfig, got "
                             f"{type(sdram_config).__name__}")
        self.store = store
        if sim:
            self.pll = None
            self.freq_hz = freq_hz
        else:
            self.pll = pll_params(CLKIN_HZ, freq_hz)
            self.freq_hz = self.pll["f_out"]
        if store == "sdram":
            link_kw["sdram"] = sdram_config or default_sdram_config(self.freq_hz)
        self.inner = LinkedCore(cfg, freq_hz=self.freq_hz, baud=baud, **link_kw)
        ports = ({"uart_rx": In(1, init=1), "uart_tx": Out(1, init=1), "led": Out(8),
                  "button": In(1)} if sim else {})
        if sim and store == "sdram":
            ports["sdram"] = Out(pad_signature())
        super().__init__(ports)

    @property
    def lpf_preferences(self):
        """LPF line constraining the core clock net (the ``sync`` clock is ``clk`` at the top
        of the flattened netlist) to the PLL output frequency."""
        return f'FREQUENCY NET "clk" {self.freq_hz:.1f} HZ;'

    def elaborate(self, platform):
        m = Module()
        inner = self.inner
        if self.sim:
            m.submodules.inner = ResetInserter(self.button)(inner)
            m.d.comb += [inner.uart_rx.eq(self.uart_rx), self.uart_tx.eq(inner.uart_tx),
                         self.led.eq(inner.led)]
            if self.store == "sdram":
                wiring.connect(m, inner.sdram, wiring.flipped(self.sdram))
            return m

        m.submodules.inner = inner
        m.submodules.clk25 = clk25 = io.Buffer("i", platform.request("clk25", 0, dir="-"))
        m.domains.sync = cd_sync = ClockDomain("sync")
        locked = Signal()
        p = self.pll
        mhz = lambda f: f"{f / 1e6:.6g}"  # noqa: E731
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=mhz(CLKIN_HZ), a_FREQUENCY_PIN_CLKOP=mhz(self.freq_hz),
            a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
            a_MFG_GMCREF_SEL="2",
            p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_OUTDIVIDER_MUXB="DIVB",
            p_OUTDIVIDER_MUXC="DIVC", p_OUTDIVIDER_MUXD="DIVD",
            p_CLKI_DIV=p["CLKI_DIV"], p_CLKOP_ENABLE="ENABLED", p_CLKOP_DIV=p["CLKOP_DIV"],
            p_CLKOP_CPHASE=p["CLKOP_CPHASE"], p_CLKOP_FPHASE=0, p_FEEDBK_PATH="CLKOP",
            p_CLKFB_DIV=p["CLKFB_DIV"],
            i_RST=0, i_STDBY=0, i_CLKI=clk25.i, o_CLKOP=cd_sync.clk,
            i_CLKFB=cd_sync.clk, i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1,
            i_PHASESTEP=1, i_PHASELOADREG=1, i_PLLWAKESYNC=0, i_ENCLKOP=0, o_LOCK=locked,
        )
        # The LPF constraint is not added with platform.add_clock_constraint(cd_sync.clk):
        # Amaranth names that net after a submodule ("rst_sync.clk"), which does not exist
        # in the flattened netlist, and nextpnr then ignores it.  The build passes
        # ``lpf_preferences`` (FREQUENCY NET "clk") instead; see rtl/build.py.
        m.submodules.button = button = io.Buffer("i", platform.request("button_pwr", 0, dir="-"))
        m.submodules.rst_sync = ResetSynchronizer(~locked | button.i, domain="sync")

        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += [inner.uart_rx.eq(rx.i), tx.o.eq(inner.uart_tx)]
        for k in range(8):
            m.submodules[f"led{k}"] = led = io.Buffer("o", platform.request("led", k, dir="-"))
            m.d.comb += led.o.eq(inner.led[k])
        if self.store == "sdram":
            self._sdram_pins(m, platform, inner.sdram)
        return m

    @staticmethod
    def _sdram_pins(m, platform, pads):
        """The controller's pads on amaranth-boards' ``sdram`` resource (the ``_n`` pins are
        ``PinsN``: the buffers invert the active-high ``cs``, ``ras``, ``cas``, ``we``).

        The SDRAM clock is the core clock forwarded through an ``ODDRX1F`` (``io.DDRBuffer``
        with 1 on the rising and 0 on the falling edge), in phase, not inverted: the
        controller (boards/ulx3s/sdram.py) puts a command on the pins for a whole cycle from
        one rising edge and lets the SDRAM sample it at the next (a full period of setup,
        and hold from the fabric-to-pad delay of the command registers, longer than the
        ODDR's clock-to-pad delay), and captures read data CL rising edges after that
        edge, inside the data-valid window of an in-phase SDRAM clock (from tAC, 6 to
        7.5 ns at CL 2, after edge CL - 1 to tOH after edge CL).  An inverted clock would make the
        SDRAM sample every command half a cycle early, and the read data would then be gone
        by the capture edge: the controller's CL count assumes this in-phase clock.
        """
        sdram = platform.request("sdram", 0, dir="-")
        m.submodules.sdram_clk = clk = io.DDRBuffer("o", sdram.clk, o_domain="sync")
        m.d.comb += [clk.o[0].eq(Const(1, len(sdram.clk))),
                     clk.o[1].eq(Const(0, len(sdram.clk)))]
        for name in ("clk_en", "cs", "ras", "cas", "we", "ba", "a", "dqm"):
            m.submodules[f"sdram_{name}"] = buf = io.Buffer("o", getattr(sdram, name))
            m.d.comb += buf.o.eq(getattr(pads, name))
        m.submodules.sdram_dq = dq = io.Buffer("io", sdram.dq)
        m.d.comb += [dq.o.eq(pads.dq.o), dq.oe.eq(pads.dq.oe), pads.dq.i.eq(dq.i)]
