"""Output error lane (twin of :mod:`golden.error`): hard-sigmoid cross-entropy gradient."""

from amaranth.hdl import Mux

__all__ = ["output_error"]


def output_error(cfg, o, is_label):
    """``clip(2^(E-1) + (o >> (frac_bits + 2 - E)), 0, 2^E) - (is_label << E)``."""
    E = cfg.error_frac_bits
    p = (1 << (E - 1)) + (o >> (cfg.frac_bits + 2 - E))
    p = Mux(p < 0, 0, Mux(p > (1 << E), 1 << E, p))
    return p - Mux(is_label, 1 << E, 0)
