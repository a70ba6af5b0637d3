"""Invariant checks by category (normalization, offsets, amplitude) and the expected-divergence registry."""
