"""Figures of the "Segment profiles" section: the lift heatmap and the feature box plots."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.patches import Patch

from .._format import fmt_label, fmt_lift, fmt_segment
from ._canvas import (
    SegmentLegend,
    as_float,
    compact_axis,
    empty_figure,
    figure,
    log_axis,
    panel_grid,
    png,
)

__all__ = ["feature_boxes_figure", "lift_figure"]


def lift_figure(lift: dict[str, Any]) -> bytes:
    """Heatmap of lift (segment mean / population mean): features × segments, log colours.

    Parameters
    ----------
    lift : dict
        ``lift`` of the report data: ``features``, ``segments`` (names) and ``matrix``.
    """
    features = list(lift["features"])
    names = list(lift["segments"])
    matrix = np.array([as_float(row) for row in lift["matrix"]], dtype=np.float64).reshape(
        len(features), len(names)
    )
    # Room below the cells for segment labels on two lines, at the left for the
    # (shortened) feature names.
    height = max(3.0, 0.3 * len(features) + 2.1)
    width = max(6.0, 1.05 * len(names) + 4.6)
    if not features or not names:
        return empty_figure(width, height, "No profile to show")
    with figure(width, height) as fig:
        ax = fig.add_subplot()
        usable = np.isfinite(matrix) & (matrix > 0)
        # The colour scale is symmetric in log space around 1, capped at 10×, so
        # "twice the average" and "half the average" get equally strong colours.
        span = 2.0
        if usable.any():
            extreme = float(np.max(np.abs(np.log10(matrix[usable]))))
            span = float(min(10.0, max(2.0, 10**extreme)))
        shown = np.where(usable, np.clip(matrix, 1 / span, span), np.nan)
        image = ax.imshow(
            np.ma.masked_invalid(shown),
            cmap="RdBu_r",
            norm=LogNorm(vmin=1 / span, vmax=span),
            aspect="auto",
        )
        ax.set_facecolor("#dddddd")
        ax.set_xticks(
            range(len(names)),
            [fmt_segment(i, name, width=15, lines=3) for i, name in enumerate(names)],
            fontsize=7,
        )
        ax.set_yticks(range(len(features)), [fmt_label(f) for f in features], fontsize=7.5)
        ax.spines[:].set_visible(False)
        for i in range(len(features)):
            for j in range(len(names)):
                value = matrix[i, j]
                strong = usable[i, j] and abs(np.log(max(value, 1e-12))) > np.log(span) * 0.6
                ax.text(
                    j,
                    i,
                    fmt_lift(value) if np.isfinite(value) else "–",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if strong else "#222222",
                )
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label("lift (× overall average)")
        ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if 1 / span <= t <= span]
        bar.set_ticks(ticks, labels=[f"{t:g}×" for t in ticks])
        bar.minorticks_off()
        return png(fig)


def feature_boxes_figure(
    feature_boxes: list[dict[str, Any]], segments: list[dict[str, Any]]
) -> bytes:
    """Box plots per segment for the most distinguishing features (whiskers at 5–95%).

    A 0/1 feature (``binary``) is drawn as the share of each segment with a 1 instead:
    a box of zeros and ones says nothing a reader can use.

    Parameters
    ----------
    feature_boxes : list of dict
        ``feature_boxes`` of the report data: ``feature``, ``log_scale`` and ``boxes``.
    segments : list of dict
        ``segments`` of the report data (``id`` and ``name``), for colours and legend.
    """
    n = len(feature_boxes)
    rows, cols = panel_grid(n, 3)
    width = max(7.5, 3.65 * cols + 0.2)
    legend = SegmentLegend.for_segments(segments, width)
    height = 2.6 * rows + 0.5 + legend.height
    if n == 0:
        return empty_figure(width, height, "No distinguishing feature to show")
    with figure(width, height) as fig:
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, item in zip(axes.flat, feature_boxes, strict=False):
            if item.get("binary"):
                _share_bars(ax, item, legend)
                continue
            stats = [
                {
                    "med": float(b["median"]),
                    "q1": float(b["q1"]),
                    "q3": float(b["q3"]),
                    "whislo": float(b["low"]),
                    "whishi": float(b["high"]),
                    "mean": float(b["mean"]),
                    "label": str(b["segment_id"]),
                    "fliers": [],
                }
                for b in item["boxes"]
            ]
            parts = ax.bxp(
                stats,
                showfliers=False,
                showmeans=True,
                patch_artist=True,
                medianprops={"color": "black"},
                meanprops={
                    "marker": "D",
                    "markerfacecolor": "white",
                    "markeredgecolor": "black",
                    "markersize": 4,
                },
            )
            for box, b in zip(parts["boxes"], item["boxes"], strict=True):
                box.set_facecolor(legend.color(b["segment_id"]))
                box.set_alpha(0.85)
            if item.get("log_scale"):
                log_axis(ax, "y")
            else:
                compact_axis(ax.yaxis)
            ax.set_title(fmt_label(item["feature"]), fontsize=9)
            ax.set_xlabel("segment")
        for ax in list(axes.flat)[n:]:
            ax.set_axis_off()
        legend.draw(fig, lambda color, label: Patch(color=color, label=label))
        return png(fig)


def _share_bars(ax: Any, item: dict[str, Any], legend: SegmentLegend) -> None:
    """A 0/1 feature as bars: the share of each segment with a 1, labelled "42%"."""
    boxes = item["boxes"]
    shares = [100.0 * float(b["mean"]) for b in boxes]
    positions = range(1, len(boxes) + 1)
    bars = ax.bar(
        positions, shares, color=[legend.color(b["segment_id"]) for b in boxes], alpha=0.85
    )
    for bar, share in zip(bars, shares, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height() + 2,
            f"{share:.0f}%",
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xticks(list(positions), [str(b["segment_id"]) for b in boxes])
    ax.set_ylim(0, 115)
    ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_title(f"{fmt_label(item['feature'])}: share with 1", fontsize=9)
    ax.set_xlabel("segment")
