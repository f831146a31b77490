"""The segmentation report: a self-contained HTML page, its figures, a summary, the profiles.

Built in two steps, like skrub's table report: report data is a plain dictionary (no
I/O, no figure), and :func:`render_report` turns it into HTML, PNG figures, Markdown
and a profile table.
"""

from .render import RenderedReport, render_report

__all__ = ["render_report", "RenderedReport"]
