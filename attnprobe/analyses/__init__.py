"""Analyses: pure functions from arrays and alignments to result dataclasses (no torch)."""
