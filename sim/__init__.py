"""Simulation plumbing: cocotb runner for Amaranth components, stream helpers, reference models."""
