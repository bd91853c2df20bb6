"""Tools around the core: the training CLI, the accuracy sweep, the CPU benchmark of the
golden model and the timing-path ranking of a synthesized netlist."""
