"""Figure of "The segments in two dimensions": customers on two principal components."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from ._canvas import SegmentLegend, as_float, figure, png

__all__ = ["projection_figure"]


def projection_figure(projection: dict[str, Any], segments: list[dict[str, Any]]) -> bytes:
    """Customers on the first two principal components, coloured by segment, with centroids.

    Parameters
    ----------
    projection : dict
        ``projection`` of the report data: ``x``, ``y``, ``labels``, ``centroids``,
        ``explained_variance_ratio``, ``n_drawn`` and ``n_total``.
    segments : list of dict
        ``segments`` of the report data (``id`` and ``name``), for colours and legend.
    """
    x = as_float(projection["x"])
    y = as_float(projection["y"])
    labels = np.asarray(projection["labels"], dtype=np.int64)
    ratio = list(projection.get("explained_variance_ratio") or [None, None])
    legend = SegmentLegend.for_segments(segments, 8.5)
    with figure(8.5, 5.6 + legend.height) as fig:
        ax = fig.add_subplot()
        for seg in segments:
            mask = labels == int(seg["id"])
            ax.scatter(
                x[mask],
                y[mask],
                s=6,
                alpha=0.45,
                color=legend.color(seg["id"]),
                linewidths=0,
                rasterized=True,
            )
        for seg, (cx, cy) in zip(segments, projection["centroids"], strict=True):
            ax.scatter(
                [cx], [cy], s=220, color=legend.color(seg["id"]), edgecolors="black", zorder=3
            )
            ax.text(
                cx,
                cy,
                str(seg["id"]),
                ha="center",
                va="center",
                fontsize=8.5,
                weight="bold",
                zorder=4,
            )
        legend.draw(
            fig, lambda color, label: Line2D([], [], marker="o", ls="", color=color, label=label)
        )
        ax.set_xlabel(f"first principal component ({_pct(ratio[0])} of the variance)")
        ax.set_ylabel(f"second principal component ({_pct(ratio[1])} of the variance)")
        ax.set_title(
            f"{int(projection.get('n_drawn', x.size)):,} of "
            f"{int(projection.get('n_total', x.size)):,} customers; large dots are segment centres"
        )
        return png(fig)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"
