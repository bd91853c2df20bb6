"""Amaranth gateware of the OPZO core; each module mirrors its namesake in ``golden/``."""
