"""ULX3S (ECP5) support: top level (``top``), UART host link gateware (``link``), its
framing (``protocol``, pure Python) and the host driver / CLI (``host``)."""
