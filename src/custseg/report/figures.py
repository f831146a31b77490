"""The report's figures, drawn from plain report data into PNG bytes.

Every figure is a :class:`matplotlib.figure.Figure` attached to an Agg canvas: pyplot
is never imported, so no GUI backend is selected, no figure is registered globally
and nothing leaks from one figure to the next. Styling is applied inside an
``rc_context`` for the duration of each drawing only, and the PNG carries no
software/version metadata, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, FuncFormatter

from ._format import fmt_compact, fmt_lift, fmt_number

__all__ = [
    "FIGURE_NAMES",
    "segment_colors",
    "render_figures",
    "missing_values_figure",
    "distributions_figure",
    "correlation_figure",
    "elbow_figure",
    "k_indices_figure",
    "projection_figure",
    "lift_figure",
    "feature_boxes_figure",
    "silhouette_figure",
]

# Seaborn's "colorblind" palette, written out so that drawing does not import seaborn.
_PALETTE = (
    "#0173b2",
    "#de8f05",
    "#029e73",
    "#d55e00",
    "#cc78bc",
    "#ca9161",
    "#fbafe4",
    "#949494",
    "#ece133",
    "#56b4e9",
)
_ACCENT = "#b2182b"
_MUTED = "#555555"
_DPI = 100
_STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "axes.grid": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
}

FIGURE_NAMES = (
    "missing_values",
    "distributions",
    "correlation",
    "elbow",
    "k_indices",
    "projection",
    "lift",
    "feature_boxes",
    "silhouette",
)


def segment_colors(k: int) -> list[str]:
    """One hex colour per segment, the same in every figure and in the HTML cards."""
    return [_PALETTE[i % len(_PALETTE)] for i in range(k)]


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        try:
            yield fig
        finally:
            fig.clear()


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # metadata Software=None drops the matplotlib version, keeping bytes reproducible.
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def _as_float(values: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


class _LinearTicks(Formatter):
    """Tick labels with thousands separators and just enough decimals for the tick step.

    A per-value formatter cannot tell 0.205 from 0.21 apart when ticks are 0.005 apart;
    this one looks at all the ticks first (``set_locs``) and picks one precision.
    """

    def __init__(self) -> None:
        self._unit = 1.0
        self._suffix = ""
        self._decimals = 0

    def set_locs(self, locs: Any) -> None:
        super().set_locs(locs)
        values = np.sort(np.asarray([v for v in locs if np.isfinite(v)], dtype=np.float64))
        top = float(np.max(np.abs(values))) if values.size else 0.0
        steps = np.diff(values)
        steps = steps[steps > 0]
        step = float(steps.min()) if steps.size else (top or 1.0)
        self._unit, self._suffix = (
            (1e6, "M") if top >= 1e7 else (1e3, "k") if top >= 1e4 else (1.0, "")
        )
        scaled = values / self._unit
        tolerance = step / self._unit * 1e-3
        self._decimals = next(
            (d for d in range(7) if np.all(np.abs(np.round(scaled, d) - scaled) <= tolerance)),
            6,
        )

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = f"{x / self._unit:,.{self._decimals}f}"
        if text.lstrip("-").strip("0.,") == "":
            return "0"
        return text + self._suffix


def _compact_axis(axis: Any) -> None:
    axis.set_major_formatter(_LinearTicks())


def _log_axis(ax: Any, which: str) -> None:
    # symlog is linear below 1 and logarithmic above, so zeros (common in money
    # columns) stay visible while the long right tail is compressed. Its ticks are
    # powers of ten, which read well as 1k, 10k, 100k.
    formatter = FuncFormatter(lambda value, _pos: fmt_compact(value))
    if which == "x":
        ax.set_xscale("symlog", linthresh=1.0)
        ax.xaxis.set_major_formatter(formatter)
    else:
        ax.set_yscale("symlog", linthresh=1.0)
        ax.yaxis.set_major_formatter(formatter)


def _note(ax: Any, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=_MUTED)


def missing_values_figure(missing: list[dict[str, Any]]) -> bytes:
    """Horizontal bars: share of missing values per column (columns without gaps too)."""
    height = max(2.0, 0.28 * len(missing) + 1.0)
    with _figure(7.5, height) as fig:
        ax = fig.add_subplot()
        if not missing:
            _note(ax, "No feature columns")
            return _png(fig)
        names = [m["column"] for m in missing][::-1]
        shares = np.array([float(m["share"]) for m in missing][::-1]) * 100
        counts = [int(m["n_missing"]) for m in missing][::-1]
        bars = ax.barh(names, shares, color=["#d6604d" if s > 0 else "#cccccc" for s in shares])
        top = float(shares.max()) if shares.size else 0.0
        for bar, count, share in zip(bars, counts, shares, strict=True):
            label = "none" if count == 0 else f"{count:,} ({share:.1f}%)"
            ax.text(
                bar.get_width() + max(top, 1.0) * 0.01,
                bar.get_y() + bar.get_height() / 2,
                label,
                va="center",
                fontsize=7.5,
                color=_MUTED,
            )
        ax.set_xlim(0, max(top, 1.0) * 1.25)
        ax.set_xlabel("rows with a missing value (%)")
        if top == 0:
            ax.set_title("No missing values in the feature columns")
        else:
            ax.set_title("Missing values per column")
        return _png(fig)


def distributions_figure(distributions: list[dict[str, Any]]) -> bytes:
    """Small multiples: one histogram per feature, on a log axis where the column is skewed."""
    n = len(distributions)
    cols = max(1, min(4, n))
    rows = max(1, -(-n // cols))
    with _figure(2.75 * cols + 0.2, 2.1 * rows + 0.4) as fig:
        if n == 0:
            _note(fig.add_subplot(), "No numeric feature to show")
            return _png(fig)
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, item in zip(axes.flat, distributions, strict=False):
            edges = _as_float(item["edges"])
            counts = _as_float(item["counts"])
            ax.stairs(counts, edges, fill=True, color="#4393c3", alpha=0.85)
            if item.get("log_scale"):
                _log_axis(ax, "x")
            else:
                _compact_axis(ax.xaxis)
            ax.set_title(str(item["column"]), fontsize=8.5)
            ax.set_xlabel(
                f"median {fmt_number(item.get('median'))}"
                + (" · log scale" if item.get("log_scale") else ""),
                fontsize=7.5,
                color=_MUTED,
            )
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
        for ax in list(axes.flat)[n:]:
            ax.set_axis_off()
        return _png(fig)


def correlation_figure(correlation: dict[str, Any]) -> bytes:
    """Heatmap of rank correlations between the numeric columns, annotated with values."""
    columns = list(correlation["columns"])
    matrix = np.array([_as_float(row) for row in correlation["matrix"]], dtype=np.float64).reshape(
        len(columns), len(columns)
    )
    size = max(4.0, 0.42 * len(columns) + 2.5)
    with _figure(size + 1.2, size) as fig:
        ax = fig.add_subplot()
        if not columns:
            _note(ax, "Not enough numeric columns for correlations")
            return _png(fig)
        image = ax.imshow(np.ma.masked_invalid(matrix), cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=7.5)
        ax.set_yticks(range(len(columns)), columns, fontsize=7.5)
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
                        )
        bar = fig.colorbar(image, ax=ax, shrink=0.7)
        bar.set_label(f"{correlation.get('method', 'rank').capitalize()} correlation")
        return _png(fig)


def _candidates(k_selection: dict[str, Any]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rows = k_selection.get("candidates") or []
    ks = np.array([int(r["k"]) for r in rows], dtype=np.int64)
    keys = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "stability_ari")
    return ks, {key: _as_float([r.get(key) for r in rows]) for key in keys}


def _mark_recommended(ax: Any, k: int | None) -> None:
    if k is not None:
        ax.axvspan(k - 0.35, k + 0.35, color="#fee08b", alpha=0.6, zorder=0, lw=0)


def elbow_figure(k_selection: dict[str, Any]) -> bytes:
    """Inertia against k with the knee marked and the recommended k highlighted."""
    ks, series = _candidates(k_selection)
    knee = k_selection.get("knee")
    recommended = k_selection.get("recommended_k")
    with _figure(7.0, 3.6) as fig:
        ax = fig.add_subplot()
        if ks.size == 0:
            _note(ax, "The model has no record of the k that were tried")
            return _png(fig)
        _mark_recommended(ax, recommended)
        ax.plot(ks, series["inertia"], marker="o", color="#2166ac", lw=2)
        if knee is not None and int(knee) in ks.tolist():
            y = series["inertia"][ks.tolist().index(int(knee))]
            ax.plot([knee], [y], marker="o", ms=14, mfc="none", mec=_ACCENT, mew=2)
            ax.annotate(
                f"knee: k = {knee}",
                (knee, y),
                xytext=(18, 18),
                textcoords="offset points",
                color=_ACCENT,
                arrowprops={"arrowstyle": "->", "color": _ACCENT},
            )
        else:
            ax.text(
                0.97,
                0.92,
                "no clear knee on this curve",
                transform=ax.transAxes,
                ha="right",
                color=_ACCENT,
            )
        ax.set_xticks(ks)
        ax.set_xlabel("number of segments k")
        ax.set_ylabel("inertia (within-segment spread)")
        _compact_axis(ax.yaxis)
        handles: list[Artist] = [Line2D([], [], marker="o", color="#2166ac", label="inertia")]
        if recommended is not None:
            handles.append(Patch(color="#fee08b", label=f"recommended k = {recommended}"))
        ax.legend(handles=handles, loc="upper right", bbox_to_anchor=(1.0, 0.85))
        ax.set_title("Elbow curve: how much spread each extra segment removes")
        return _png(fig)


_INDEX_PANELS = (
    ("silhouette", "Silhouette (higher is better)"),
    ("calinski_harabasz", "Calinski–Harabasz (higher is better)"),
    ("davies_bouldin", "Davies–Bouldin (lower is better)"),
    ("stability_ari", "Stability, ARI (higher is better)"),
)


def k_indices_figure(k_selection: dict[str, Any]) -> bytes:
    """Four panels: silhouette, Calinski–Harabasz, Davies–Bouldin and stability against k."""
    ks, series = _candidates(k_selection)
    recommended = k_selection.get("recommended_k")
    with _figure(10.0, 5.6) as fig:
        axes = fig.subplots(2, 2, squeeze=False)
        for ax, (key, title) in zip(axes.flat, _INDEX_PANELS, strict=True):
            values = series.get(key, np.array([]))
            if ks.size == 0 or not np.isfinite(values).any():
                _note(ax, "not computed")
                ax.set_title(title)
                continue
            _mark_recommended(ax, recommended)
            finite = np.isfinite(values)
            ax.plot(ks[finite], values[finite], marker="o", color="#2166ac", lw=1.8)
            if recommended is not None and int(recommended) in ks.tolist():
                at = ks.tolist().index(int(recommended))
                if finite[at]:
                    ax.plot([recommended], [values[at]], marker="o", ms=10, color=_ACCENT)
            ax.set_xticks(ks)
            ax.set_title(title)
            _compact_axis(ax.yaxis)
        for ax in axes[1]:
            ax.set_xlabel("number of segments k")
        return _png(fig)


def projection_figure(projection: dict[str, Any], segments: list[dict[str, Any]]) -> bytes:
    """Customers on the first two principal components, coloured by segment, with centroids."""
    colors = segment_colors(len(segments))
    x = _as_float(projection["x"])
    y = _as_float(projection["y"])
    labels = np.asarray(projection["labels"], dtype=np.int64)
    ratio = list(projection.get("explained_variance_ratio") or [None, None])
    with _figure(8.5, 6.0) as fig:
        ax = fig.add_subplot()
        for seg in segments:
            mask = labels == int(seg["id"])
            ax.scatter(
                x[mask],
                y[mask],
                s=6,
                alpha=0.45,
                color=colors[int(seg["id"])],
                linewidths=0,
                rasterized=True,
            )
        for seg, (cx, cy) in zip(segments, projection["centroids"], strict=True):
            ax.scatter(
                [cx], [cy], s=220, color=colors[int(seg["id"])], edgecolors="black", zorder=3
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
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color=colors[int(seg["id"])],
                label=f"{seg['id']} · {seg['name']}",
            )
            for seg in segments
        ]
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
        ax.set_xlabel(f"first principal component ({_pct(ratio[0])} of the variance)")
        ax.set_ylabel(f"second principal component ({_pct(ratio[1])} of the variance)")
        ax.set_title(
            f"{int(projection.get('n_drawn', x.size)):,} of "
            f"{int(projection.get('n_total', x.size)):,} customers; large dots are segment centres"
        )
        return _png(fig)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def lift_figure(lift: dict[str, Any]) -> bytes:
    """Heatmap of lift (segment mean / population mean): features × segments, log colours."""
    features = list(lift["features"])
    names = list(lift["segments"])
    matrix = np.array([_as_float(row) for row in lift["matrix"]], dtype=np.float64).reshape(
        len(features), len(names)
    )
    height = max(3.0, 0.3 * len(features) + 1.6)
    width = max(6.0, 1.05 * len(names) + 4.2)
    with _figure(width, height) as fig:
        ax = fig.add_subplot()
        if not features or not names:
            _note(ax, "No profile to show")
            return _png(fig)
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
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_yticks(range(len(features)), features, fontsize=7.5)
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
        return _png(fig)


def feature_boxes_figure(
    feature_boxes: list[dict[str, Any]], segments: list[dict[str, Any]]
) -> bytes:
    """Box plots per segment for the most distinguishing features (whiskers at 5–95%)."""
    colors = segment_colors(len(segments))
    n = len(feature_boxes)
    cols = max(1, min(3, n))
    rows = max(1, -(-n // cols))
    with _figure(3.65 * cols + 0.2, 2.6 * rows + 0.8) as fig:
        if n == 0:
            _note(fig.add_subplot(), "No distinguishing feature to show")
            return _png(fig)
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, item in zip(axes.flat, feature_boxes, strict=False):
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
                box.set_facecolor(colors[int(b["segment_id"])])
                box.set_alpha(0.85)
            if item.get("log_scale"):
                _log_axis(ax, "y")
            else:
                _compact_axis(ax.yaxis)
            ax.set_title(str(item["feature"]), fontsize=9)
            ax.set_xlabel("segment")
        for ax in list(axes.flat)[n:]:
            ax.set_axis_off()
        handles = [
            Patch(color=colors[int(s["id"])], label=f"{s['id']} · {s['name']}") for s in segments
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(segments)))
        return _png(fig)


def silhouette_figure(silhouette: dict[str, Any], segments: list[dict[str, Any]]) -> bytes:
    """Per-customer silhouette values, sorted within each segment, with the mean as a line."""
    colors = segment_colors(len(segments))
    groups = [_as_float(values) for values in silhouette["values_by_segment"]]
    total = sum(g.size for g in groups)
    with _figure(8.0, 5.2) as fig:
        ax = fig.add_subplot()
        if total == 0:
            _note(ax, "Silhouette values were not computed")
            return _png(fig)
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
            ax.axvline(float(mean), color=_ACCENT, ls="--", lw=1.5)
            ax.text(
                float(mean),
                lower,
                f" mean {float(mean):.2f}",
                color=_ACCENT,
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
                f"{s['id']} · {s['name']}\nmean {'–' if m is None else f'{m:.2f}'}"
                for s, m in reversed(list(zip(segments, means, strict=False)))
            ],
        )
        ax.set_xlabel("silhouette value (−1 wrong segment · 0 on a border · 1 well inside)")
        ax.set_xlim(min(-0.2, float(np.nanmin(np.concatenate(groups))) - 0.05), 1.0)
        sample = int(silhouette.get("n_plotted") or total)
        ax.set_title(f"Silhouette of {sample:,} customers, sorted within each segment")
        return _png(fig)


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


def render_figures(data: dict[str, Any]) -> dict[str, bytes]:
    """Draw every figure of the report; returns ``{name: PNG bytes}`` in report order."""
    return {name: _BUILDERS[name](data) for name in FIGURE_NAMES}
