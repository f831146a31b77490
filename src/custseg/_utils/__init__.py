"""Utilities shared by every stage: atomic file output, the progress seam, numerical
input checks and thread control, sampling, and lazy re-exports.

Nothing here imports another part of custseg except :mod:`custseg.exceptions`.
"""
