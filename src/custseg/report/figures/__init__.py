"""The report's figures, drawn from plain report data into PNG bytes.

One module per report section (:mod:`.overview`, :mod:`.choice_of_k`,
:mod:`.projection`, :mod:`.profiles`, :mod:`.evaluation`), all drawing with the kit of
:mod:`._canvas`: a private Agg canvas per figure, pyplot never imported, the style
applied only while drawing, and PNG bytes that are the same for the same data. Every
figure function returns the bytes of one PNG image. :func:`render_figures` draws them
all in report order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._shared import segment_colors
from .choice_of_k import elbow_figure, k_index_panels, k_indices_figure
from .evaluation import silhouette_figure
from .overview import correlation_figure, distributions_figure, missing_values_figure
from .profiles import feature_boxes_figure, lift_figure
from .projection import projection_figure

__all__ = [
    "FIGURE_NAMES",
    "segment_colors",
    "render_figures",
    "missing_values_figure",
    "distributions_figure",
    "correlation_figure",
    "elbow_figure",
    "k_index_panels",
    "k_indices_figure",
    "projection_figure",
    "lift_figure",
    "feature_boxes_figure",
    "silhouette_figure",
]

_Builder = Callable[[dict[str, Any]], bytes]

_BUILDERS: dict[str, _Builder] = {
    "missing_values": lambda d: missing_values_figure(d["missing"]),
    "distributions": lambda d: distributions_figure(d["distributions"]),
    "correlation": lambda d: correlation_figure(d["correlation"]),
    "elbow": lambda d: elbow_figure(d["k_selection"]),
    "k_indices": lambda d: k_indices_figure(d["k_selection"]),
    "projection": lambda d: projection_figure(d["projection"], d["segments"]),
    "lift": lambda d: lift_figure(d["lift"]),
    "feature_boxes": lambda d: feature_boxes_figure(d["feature_boxes"], d["segments"]),
    "silhouette": lambda d: silhouette_figure(d["silhouette"], d["segments"]),
}

FIGURE_NAMES = tuple(_BUILDERS)
"""Name of every figure (``figures/<name>.png``), in the order the report shows them."""


def render_figures(data: dict[str, Any]) -> dict[str, bytes]:
    """Every figure of the report ``data`` (:func:`custseg.report.build_report_data`).

    The answer is ``{name: PNG bytes}`` in the order of :data:`FIGURE_NAMES`, without
    the figures that would be empty: the missing-values chart is drawn only when a
    feature column has gaps (the page says "No missing values" instead).
    """
    drawn = {name: _BUILDERS[name](data) for name in FIGURE_NAMES if _has_content(name, data)}
    return drawn


def _has_content(name: str, data: dict[str, Any]) -> bool:
    """Whether figure ``name`` has something to show: no chart of gaps without a gap."""
    if name == "missing_values":
        return any(int(m["n_missing"]) > 0 for m in data["missing"])
    return True
