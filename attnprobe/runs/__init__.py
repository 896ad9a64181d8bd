"""Everything that runs a model: teacher-forced passes, gradients, attribution, faithfulness edits.

Each module keeps the part that runs the model small; the summaries are pure
functions in :mod:`attnprobe.analyses`.
"""
