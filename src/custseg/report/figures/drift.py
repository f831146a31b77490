"""Figures of the drift report: one feature then vs now, and the segment shares then vs now.

They read the drift document of :func:`custseg.scoring.drift.check_drift` (plain data)
and draw with the house kit of :mod:`._canvas`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._format import fmt_compact, fmt_share
from .._shared import segment_colors
from ._canvas import MUTED, empty_figure, figure, png

__all__ = [
    "STATUS_COLORS",
    "THEN_COLOR",
    "bin_labels",
    "feature_drift_figure",
    "segment_shares_figure",
]

STATUS_COLORS = {"green": "#1a9850", "amber": "#d08c00", "red": "#d73027"}
"""Colour of each drift status, in the figures and on the page."""
THEN_COLOR = "#b0b7c3"
"""Bars of the training population ("then")."""


def bin_labels(bins: dict[str, Any]) -> list[str]:
    """Readable labels of a feature's drift bins, one per share in ``bins["then"]``.

    Numeric bins ``[a, b)`` read ``a–b`` (``< b`` and ``≥ a`` for the open outer bins);
    a single-value bin ``[v, nextafter(v))`` (zero) reads ``= v`` and the next one ``> v–b``;
    the last bin is ``missing``. Categorical bins are the levels, ``other`` and
    ``missing``.
    """
    if "levels" in bins:
        return [*map(str, bins["levels"]), "other", "missing"]
    edges = [float(e) for e in bins.get("edges", [])]
    if not edges:
        return ["values", "missing"]
    labels = [f"< {fmt_compact(edges[0])}"]
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        if high == np.nextafter(low, np.inf):
            labels.append(f"= {fmt_compact(low)}")
        elif labels[-1].startswith("= "):
            labels.append(f"> {labels[-1][2:]}–{fmt_compact(high)}")
        else:
            labels.append(f"{fmt_compact(low)}–{fmt_compact(high)}")
    last = labels[-1]
    labels.append(f"> {last[2:]}" if last.startswith("= ") else f"≥ {fmt_compact(edges[-1])}")
    return [*labels, "missing"]


def feature_drift_figure(feature: dict[str, Any]) -> bytes:
    """Shares of one feature's bins at training and now, side by side.

    Parameters
    ----------
    feature : dict
        One entry of the drift document's ``features``: ``feature``, ``psi``,
        ``status`` and ``bins`` (``then``, ``now`` and ``edges`` or ``levels``).
    """
    bins = feature["bins"]
    labels = bin_labels(bins)
    then = np.asarray(bins["then"], dtype=np.float64) * 100
    now = np.asarray(bins["now"], dtype=np.float64) * 100
    # Bins empty on both sides (an open outer bin, no gaps) say nothing: leave them out.
    keep = (then > 0) | (now > 0)
    color = STATUS_COLORS.get(feature.get("status", ""), MUTED)
    if not keep.any():
        return empty_figure(7.5, 2.9, "No value to compare")
    with figure(7.5, 2.9) as fig:
        ax = fig.add_subplot()
        x = np.arange(int(keep.sum()))
        ax.bar(x - 0.2, then[keep], width=0.4, color=THEN_COLOR, label="at training")
        ax.bar(x + 0.2, now[keep], width=0.4, color=color, label="now")
        ax.set_xticks(x, [label for label, k in zip(labels, keep, strict=True) if k])
        ax.tick_params(axis="x", labelrotation=30 if keep.sum() > 6 else 0)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right" if keep.sum() > 6 else "center")
        ax.set_ylabel("customers (%)")
        ax.set_title(
            f"{feature['feature']} · PSI {float(feature['psi']):.2f} ({feature['status']})",
            loc="left",
        )
        ax.legend(loc="upper right")
        return png(fig)


def segment_shares_figure(segments: list[dict[str, Any]]) -> bytes:
    """Share of each segment at training (grey) and now (the segment's colour).

    Parameters
    ----------
    segments : list of dict
        The drift document's ``segments``: ``segment_id``, ``name``, ``share_then``,
        ``share_now``.
    """
    colors = segment_colors(len(segments))
    height = max(2.2, 0.55 * len(segments) + 1.0)
    if not segments:
        return empty_figure(7.5, height, "No segment")
    with figure(7.5, height) as fig:
        ax = fig.add_subplot()
        # Segment 0 at the top, like a table.
        y = np.arange(len(segments))[::-1]
        then = np.array([float(s["share_then"]) for s in segments]) * 100
        now = np.array([float(s["share_now"]) for s in segments]) * 100
        ax.barh(y + 0.2, then, height=0.4, color=THEN_COLOR, label="at training")
        ax.barh(
            y - 0.2,
            now,
            height=0.4,
            color=[colors[int(s["segment_id"])] for s in segments],
            label="now",
        )
        top = float(max(then.max(), now.max()))
        for yi, value in zip(y, now, strict=True):
            ax.text(
                value + top * 0.01,
                yi - 0.2,
                fmt_share(value / 100),
                va="center",
                fontsize=7.5,
                color=MUTED,
            )
        ax.set_yticks(y, [f"{s['segment_id']} · {s['name']}" for s in segments])
        ax.set_xlim(0, top * 1.15)
        ax.set_xlabel("customers (%)")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
        return png(fig)
