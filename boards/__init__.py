"""Board support: top levels, host links and drivers for boards carrying the OPZO core."""
