"""The drift report: one self-contained HTML page from a drift document.

:func:`render_drift_report` reads only the document of
:func:`custseg.scoring.drift.check_drift` (what ``drift.json`` holds): no model, no data.
The page has the house style of the segmentation report, its figures are embedded as
``data:`` URIs and it requests nothing, so it opens offline and can be mailed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._utils.io import write_text_atomic
from .._version import __version__
from ..exceptions import DataError
from ._format import displayed
from ._pages import data_uri, environment
from .figures.drift import STATUS_COLORS, feature_drift_figure, segment_shares_figure

__all__ = ["DRIFT_SECTIONS", "RenderedDrift", "render_drift_report", "write_drift_report"]

DRIFT_SECTIONS = (
    ("verdict", "Verdict"),
    ("features", "Every feature, then and now"),
    ("drifting", "The drifting features"),
    ("segments", "Segment shares"),
    ("reading", "How to read this page"),
)
"""``(anchor, heading)`` of every section of the drift page, in order."""

_REQUIRED = ("verdict", "status", "thresholds", "model", "features", "segments", "segments_psi")


@dataclass(frozen=True)
class RenderedDrift:
    """The drift page in memory.

    Attributes
    ----------
    html : str
        The self-contained page.
    figures : dict of str to bytes
        PNG bytes: ``feature_<i>`` for the i-th drifting feature (largest PSI first)
        and ``segment_shares``.
    """

    html: str
    figures: dict[str, bytes] = field(repr=False)


def render_drift_report(document: dict[str, Any]) -> RenderedDrift:
    """Render a drift document into the HTML page and its figures.

    Parameters
    ----------
    document : dict
        As returned by :func:`custseg.scoring.drift.check_drift` (or read from
        ``drift.json``).

    Returns
    -------
    RenderedDrift

    Raises
    ------
    DataError
        If ``document`` is not a drift document.
    """
    _check(document)
    # Feature and segment names come from the data: no bidi or control character may
    # reorder what the page or a figure shows.
    document = displayed(document)
    features = sorted(document["features"], key=lambda f: -float(f["psi"]))
    drifting = [f for f in features if f["status"] != "green"]
    figures = {f"feature_{i}": feature_drift_figure(f) for i, f in enumerate(drifting)}
    figures["segment_shares"] = segment_shares_figure(document["segments"])
    counts = {s: sum(f["status"] == s for f in features) for s in STATUS_COLORS}
    html = (
        environment()
        .get_template("drift.html")
        .render(
            title="Drift check",
            doc=document,
            features=features,
            drifting=drifting,
            counts=counts,
            colors=STATUS_COLORS,
            images={name: data_uri(png) for name, png in figures.items()},
            sections=DRIFT_SECTIONS,
            version=__version__,
        )
    )
    return RenderedDrift(html=html, figures=figures)


def write_drift_report(document: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Render a drift document and write the page to ``path`` atomically.

    Returns
    -------
    pathlib.Path
        The written page.

    Raises
    ------
    DataError
        If ``document`` is not a drift document.
    SourceError
        If the folder of ``path`` cannot be created.
    """
    return write_text_atomic(path, render_drift_report(document).html)


def _check(document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != "custseg-drift":
        raise DataError(
            "not a drift document; build it with custseg.scoring.check_drift(model, frame)"
            " or read the drift.json written by `custseg drift`"
        )
    missing = [key for key in _REQUIRED if key not in document]
    if missing:
        raise DataError(f"the drift document lacks {missing}; run the drift check again")
