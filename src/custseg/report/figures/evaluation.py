"""Figure of the "Evaluation" section: the silhouette plot."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._format import fmt_segment
from .._shared import segment_colors
from ._canvas import ACCENT, as_float, empty_figure, figure, png

__all__ = ["silhouette_figure"]


def silhouette_figure(silhouette: dict[str, Any], segments: list[dict[str, Any]]) -> bytes:
    """Per-customer silhouette values, sorted within each segment, with the mean as a line.

    Parameters
    ----------
    silhouette : dict
        ``silhouette`` of the report data: ``value``, ``per_segment``,
        ``values_by_segment`` and ``n_plotted``.
    segments : list of dict
        ``segments`` of the report data (``id`` and ``name``), for colours and labels.
    """
    colors = segment_colors(len(segments))
    groups = [as_float(values) for values in silhouette["values_by_segment"]]
    total = sum(g.size for g in groups)
    if total == 0:
        return empty_figure(8.0, 5.2, "Silhouette values were not computed")
    with figure(8.0, 5.2) as fig:
        ax = fig.add_subplot()
        gap = max(10, total // 40)
        lower = 0
        centers = []
        # Drawn bottom-up in reverse so that segment 0 ends at the top, like a table.
        for seg, values in reversed(list(zip(segments, groups, strict=True))):
            ordered = np.sort(values)
            upper = lower + ordered.size
            ax.fill_betweenx(
                np.arange(lower, upper),
                0,
                ordered,
                color=colors[int(seg["id"])],
                alpha=0.85,
                lw=0,
            )
            centers.append((lower + upper) / 2)
            lower = upper + gap
        mean = silhouette.get("value")
        if mean is not None:
            ax.axvline(float(mean), color=ACCENT, ls="--", lw=1.5)
            ax.text(
                float(mean),
                lower,
                f" mean {float(mean):.2f}",
                color=ACCENT,
                va="bottom",
                ha="left",
                fontsize=8,
            )
        ax.axvline(0, color="#333333", lw=0.8)
        means = list(silhouette.get("per_segment") or [])
        means += [None] * (len(segments) - len(means))
        ax.set_yticks(
            centers,
            [
                fmt_segment(s["id"], s["name"], width=30, lines=1)
                + f"\nmean {'–' if m is None else f'{m:.2f}'}"
                for s, m in reversed(list(zip(segments, means, strict=False)))
            ],
        )
        ax.set_xlabel("silhouette value (−1 wrong segment · 0 on a border · 1 well inside)")
        ax.set_xlim(min(-0.2, float(np.nanmin(np.concatenate(groups))) - 0.05), 1.0)
        sample = int(silhouette.get("n_plotted") or total)
        ax.set_title(f"Silhouette of {sample:,} customers, sorted within each segment")
        return png(fig)
