"""Figures of the "Data overview and exploration" section: gaps, histograms, correlations."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._format import fmt_label, fmt_number
from ._canvas import MUTED, as_float, compact_axis, empty_figure, figure, log_axis, panel_grid, png

__all__ = ["correlation_figure", "distributions_figure", "missing_values_figure"]


def missing_values_figure(missing: list[dict[str, Any]]) -> bytes:
    """Horizontal bars: share of missing values of each column that has gaps.

    Columns without a gap are left out (the page counts them in a sentence): with 40
    complete columns and one with gaps, the chart shows that one.

    Parameters
    ----------
    missing : list of dict
        ``missing`` of the report data: ``column``, ``n_missing`` and ``share``.
    """
    gapped = [m for m in missing if int(m["n_missing"]) > 0]
    height = max(2.0, 0.28 * len(gapped) + 1.0)
    if not gapped:
        return empty_figure(7.5, height, "No missing values in the feature columns")
    with figure(7.5, height) as fig:
        ax = fig.add_subplot()
        names = [fmt_label(m["column"]) for m in gapped][::-1]
        shares = np.array([float(m["share"]) for m in gapped][::-1]) * 100
        counts = [int(m["n_missing"]) for m in gapped][::-1]
        bars = ax.barh(names, shares, color="#d6604d")
        top = float(shares.max())
        for bar, count, share in zip(bars, counts, shares, strict=True):
            ax.text(
                bar.get_width() + max(top, 1.0) * 0.01,
                bar.get_y() + bar.get_height() / 2,
                f"{count:,} ({share:.1f}%)",
                va="center",
                fontsize=7.5,
                color=MUTED,
            )
        ax.set_xlim(0, max(top, 1.0) * 1.25)
        ax.set_xlabel("rows with a missing value (%)")
        ax.set_title("Missing values per column (columns with gaps)")
        return png(fig)


def distributions_figure(distributions: list[dict[str, Any]]) -> bytes:
    """Small multiples: one histogram per feature, on a log axis where the column is skewed.

    Parameters
    ----------
    distributions : list of dict
        ``distributions`` of the report data: ``column``, ``edges``, ``counts``,
        ``log_scale`` and ``median``.
    """
    n = len(distributions)
    rows, cols = panel_grid(n, 4)
    if n == 0:
        return empty_figure(2.75 * cols + 0.2, 2.1 * rows + 0.4, "No numeric feature to show")
    with figure(2.75 * cols + 0.2, 2.1 * rows + 0.4) as fig:
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, item in zip(axes.flat, distributions, strict=False):
            edges = as_float(item["edges"])
            counts = as_float(item["counts"])
            ax.stairs(counts, edges, fill=True, color="#4393c3", alpha=0.85)
            if item.get("log_scale"):
                log_axis(ax, "x")
            else:
                compact_axis(ax.xaxis)
            ax.set_title(fmt_label(item["column"]), fontsize=8.5)
            ax.set_xlabel(
                f"median {fmt_number(item.get('median'))}"
                + (" · log scale" if item.get("log_scale") else ""),
                fontsize=7.5,
                color=MUTED,
            )
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
        for ax in list(axes.flat)[n:]:
            ax.set_axis_off()
        return png(fig)


def correlation_figure(correlation: dict[str, Any]) -> bytes:
    """Heatmap of rank correlations between the numeric columns, annotated with values.

    Parameters
    ----------
    correlation : dict
        ``correlation`` of the report data: ``method``, ``columns`` and ``matrix``.
    """
    columns = list(correlation["columns"])
    matrix = np.array([as_float(row) for row in correlation["matrix"]], dtype=np.float64).reshape(
        len(columns), len(columns)
    )
    size = max(4.0, 0.42 * len(columns) + 2.5)
    if not columns:
        return empty_figure(size + 1.2, size, "Not enough numeric columns for correlations")
    with figure(size + 1.2, size) as fig:
        ax = fig.add_subplot()
        image = ax.imshow(np.ma.masked_invalid(matrix), cmap="RdBu_r", vmin=-1, vmax=1)
        labels = [fmt_label(c) for c in columns]
        ax.set_xticks(range(len(columns)), labels, rotation=60, ha="right", fontsize=7.5)
        ax.set_yticks(range(len(columns)), labels, fontsize=7.5)
        ax.spines[:].set_visible(False)
        if len(columns) <= 25:
            for i in range(len(columns)):
                for j in range(len(columns)):
                    value = matrix[i, j]
                    if np.isfinite(value):
                        ax.text(
                            j,
                            i,
                            f"{value:.1f}".replace("-0.0", "0.0"),
                            ha="center",
                            va="center",
                            fontsize=6.5,
                            color="white" if abs(value) > 0.6 else "#222222",
                            # Inside the cells: the layout need not measure 300 texts.
                            in_layout=False,
                        )
        bar = fig.colorbar(image, ax=ax, shrink=0.7)
        bar.set_label(f"{correlation.get('method', 'rank').capitalize()} correlation")
        return png(fig)
