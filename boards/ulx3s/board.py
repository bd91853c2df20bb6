"""The ULX3S as a build target: what ``python -m rtl.build --board ulx3s`` needs to know.

``rtl.build`` finds boards through the ``opzo_core.boards`` entry points (pyproject.toml),
so that the build command does not import any board by name and a new board is one more
module and one more entry point.
"""

__all__ = ["BOARD", "ULX3SBoard"]


class ULX3SBoard:
    """The ULX3S: Amaranth platform per ECP5 size, and the board's top-level design."""

    name = "ulx3s"
    devices = ("12F", "25F", "45F", "85F")
    default_device = "85F"

    @property
    def default_baud(self):
        from .top import DEFAULT_BAUD
        return DEFAULT_BAUD

    def platform(self, device):
        """The amaranth-boards platform of the ULX3S with ECP5 ``device``."""
        if device not in self.devices:
            raise ValueError(f"device must be one of {self.devices}, got {device!r}")
        from amaranth_boards import ulx3s
        return getattr(ulx3s, f"ULX3S_{device}_Platform")()

    # DP16KD block RAMs per ECP5 size (Lattice ECP5 family data sheet)
    ebr = {"12F": 56, "25F": 56, "45F": 108, "85F": 208}
    # MULT18X18D multipliers per ECP5 size (same data sheet)
    mult18 = {"12F": 28, "25F": 28, "45F": 72, "85F": 156}

    # the SDRAM in 16-bit words: the 32 MB part (16M x 16), the smaller of the two the
    # boards carry (docs/sdram.md); the controller's word address is 24 bits
    sdram_words = 1 << 24

    def top(self, cfg, *, freq_hz, baud=None, resident=None, store="bram"):
        """The board's top level around the core (PLL, host link, LEDs, reset);
        ``resident=(n_train, n_test)`` adds the data set store and its feeder
        (:class:`rtl.resident_core.ResidentCore`), in block RAM or, with ``store="sdram"``,
        in the board's SDRAM (:class:`boards.ulx3s.resident_sdram.ResidentOnSdram`)."""
        from .top import ULX3STop
        return ULX3STop(cfg, freq_hz=freq_hz, baud=baud or self.default_baud, resident=resident,
                        store=store)


BOARD = ULX3SBoard()
