"""The segmentation report: a self-contained HTML page, its figures, a summary, the profiles.

Built in two steps, like skrub's table report: :func:`build_report_data` computes a
plain dictionary (no I/O, no figure), :func:`render_report` turns it into HTML, PNG
figures, Markdown and a profile table; :func:`write_report` does both and writes the
files atomically.

- :mod:`.data`: the data step, one module per report section (no matplotlib, no Jinja2);
- :mod:`.figures`: the figures, one module per report section;
- :mod:`.render`: the HTML page (``templates/report.html``), the summary, the profiles;
- :mod:`._shared`: what both steps agree on (data version, segment colours);
- :mod:`.write`: the files.
"""

from .data import build_report_data
from .render import RenderedReport, render_report
from .write import write_report

__all__ = ["build_report_data", "render_report", "write_report", "RenderedReport"]
