"""What the data step and the drawing step agree on: the data version and segment colours.

Both :mod:`custseg.report.data` (which computes) and :mod:`custseg.report.figures` /
:mod:`custseg.report.render` (which draw) need these; keeping them here lets the data
step import neither drawing module, so computing a report never imports matplotlib or
Jinja2. This module imports nothing.
"""

from __future__ import annotations

__all__ = ["PALETTE", "REPORT_DATA_VERSION", "segment_colors"]

REPORT_DATA_VERSION = 1
"""Version of the report data layout; bumped when keys change meaning."""

# Seaborn's "colorblind" palette, written out: custseg does not depend on seaborn.
PALETTE = (
    "#0173b2",
    "#de8f05",
    "#029e73",
    "#d55e00",
    "#cc78bc",
    "#ca9161",
    "#fbafe4",
    "#949494",
    "#ece133",
    "#56b4e9",
)
"""Segment colours in order; segment ``i`` gets ``PALETTE[i % len(PALETTE)]``."""


def segment_colors(k: int) -> list[str]:
    """One hex colour per segment, the same in every figure and in the HTML cards.

    Parameters
    ----------
    k : int
        Number of segments.

    Returns
    -------
    list of str
        ``k`` hex colours; they repeat after ``len(PALETTE)`` segments.
    """
    return [PALETTE[i % len(PALETTE)] for i in range(k)]
