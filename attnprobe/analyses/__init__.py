"""Pure analyses: arrays and alignments in, results out; no model, no I/O.

Import the module you need (``attnprobe.analyses.extraction``, ...); this
package imports nothing itself, so that reading it never pulls in torch.
"""
