"""Figure of a migration: customers moving from the old segments to the new ones."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._format import fmt_int
from ._canvas import empty_figure, figure, png

__all__ = ["migration_figure"]

_LABEL_CHARS = 30


def _label(segment: dict[str, Any]) -> str:
    name = str(segment["name"])
    if len(name) > _LABEL_CHARS:
        name = name[: _LABEL_CHARS - 1] + "…"
    return f"{segment['segment_id']} · {name}" if name else str(segment["segment_id"])


def migration_figure(
    matrix: np.ndarray, segments_old: list[dict[str, Any]], segments_new: list[dict[str, Any]]
) -> bytes:
    """Heatmap of the share of each old segment going to each new segment, with counts.

    Parameters
    ----------
    matrix : numpy.ndarray of int
        Customers per (old segment, new segment) (:attr:`Migration.matrix`).
    segments_old, segments_new : list of dict
        ``segment_id`` and ``name`` of the rows and of the columns.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    rows, cols = counts.shape
    width, height = max(5.0, 1.1 * cols + 3.2), max(2.6, 0.55 * rows + 1.8)
    if counts.sum() == 0:
        return empty_figure(width, height, "No customer in both tables")
    with figure(width, height) as fig:
        ax = fig.add_subplot()
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(rows):
            for j in range(cols):
                if counts[i, j] == 0:
                    continue
                ax.text(
                    j,
                    i,
                    f"{fmt_int(counts[i, j])}\n{100 * shares[i, j]:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if shares[i, j] > 0.55 else "#1f2933",
                )
        ax.set_xticks(range(cols), [_label(s) for s in segments_new], rotation=30, ha="right")
        ax.set_yticks(range(rows), [_label(s) for s in segments_old])
        ax.set_xlabel("segment now")
        ax.set_ylabel("segment then")
        ax.set_title("Where each segment's customers went (share of the row)", loc="left")
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label("share of the segment then")
        return png(fig)
