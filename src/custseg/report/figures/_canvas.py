"""The drawing kit every figure shares: a private canvas, the house style, axis formatters.

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
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, FuncFormatter, Locator, MaxNLocator, NullLocator
from PIL import Image

from .._format import fmt_compact, fmt_segment
from .._shared import segment_colors

__all__ = [
    "ACCENT",
    "LINE",
    "MUTED",
    "LinearTicks",
    "LogTicks",
    "SegmentLegend",
    "as_float",
    "compact_axis",
    "empty_figure",
    "figure",
    "legend_columns",
    "log_axis",
    "note",
    "panel_grid",
    "png",
]

ACCENT = "#b2182b"
"""Marks what the reader should look at: the knee, the recommended k, the mean."""
LINE = "#2166ac"
"""Colour of the curves against k."""
MUTED = "#555555"
"""Secondary text: notes, value labels."""
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
    # Labels are column and segment names from the data: "$...$" is text, not TeX
    # (an unknown macro in a column name would stop the report with a ValueError).
    "text.parse_math": False,
}


@contextmanager
def figure(width: float, height: float) -> Iterator[Figure]:
    """A styled figure of ``width`` × ``height`` inches on its own Agg canvas.

    The house style applies only inside the ``with`` block, and the figure is cleared
    on leaving it.
    """
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        try:
            yield fig
        finally:
            fig.clear()


def legend_columns(labels: Sequence[str], width: float, fontsize: float = 8.0) -> int:
    """How many legend columns of ``labels`` fit across ``width`` inches.

    A legend wider than its figure is clipped (entries silently missing); this sizes
    the columns from the longest label so that every entry is drawn.
    """
    longest = max((max(len(line) for line in str(t).split("\n")) for t in labels), default=1)
    # An average glyph of DejaVu Sans is about 0.6 em; the handle and the gaps add ~3 em.
    entry = (0.6 * longest + 3.0) * fontsize / 72.0
    return max(1, min(len(labels), int((width - 0.3) // entry)))


@dataclass(frozen=True)
class SegmentLegend:
    """The legend of the segments below a figure: every segment listed, in its colour.

    Build it with :meth:`for_segments` before the figure, to size the figure with
    :attr:`height`; draw it with :meth:`draw`.
    """

    labels: list[str]
    colors: list[str]
    ids: list[int]
    ncols: int

    @classmethod
    def for_segments(cls, segments: Sequence[dict[str, Any]], width: float) -> SegmentLegend:
        """The legend of ``segments`` (``id`` and ``name``) across ``width`` inches."""
        labels = [fmt_segment(s["id"], s["name"], width=48, lines=1) for s in segments]
        ids = [int(s["id"]) for s in segments]
        return cls(labels, segment_colors(len(segments)), ids, legend_columns(labels, width))

    @property
    def height(self) -> float:
        """Inches the legend's rows add below the plot."""
        return 0.2 * -(-len(self.labels) // self.ncols)

    def color(self, segment_id: Any) -> str:
        """The colour of segment ``segment_id``, the same in every figure."""
        return self.colors[int(segment_id)]

    def draw(self, fig: Figure, handle: Callable[[str, str], Any]) -> None:
        """Below the plot, in as many columns as fit: ``handle(colour, label)`` each."""
        handles = [
            handle(self.color(i), label) for i, label in zip(self.ids, self.labels, strict=True)
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=self.ncols)


def panel_grid(n_panels: int, most_cols: int) -> tuple[int, int]:
    """Rows and columns of a grid of small multiples: up to ``most_cols`` a row, never 0."""
    cols = max(1, min(most_cols, n_panels))
    return max(1, -(-n_panels // cols)), cols


def empty_figure(width: float, height: float, text: str) -> bytes:
    """A figure holding only a centred note, for data with nothing to draw."""
    with figure(width, height) as fig:
        note(fig.add_subplot(), text)
        return png(fig)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes on a white background, without version metadata.

    One draw (the layout runs inside it) and an RGB image: ``savefig`` would draw the
    figure twice (once to lay it out) and encode an alpha channel that a white
    background makes constant, for the same pixels in a quarter more time and a tenth
    more bytes. Pillow writes no software name, so the same data gives the same bytes.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="png", compress_level=6, dpi=(_DPI, _DPI))
    return buffer.getvalue()


def as_float(values: Sequence[Any]) -> np.ndarray:
    """Report values (numbers or ``None``) as float64, ``None`` becoming NaN."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


class LinearTicks(Formatter):
    """Tick labels with thousands separators and just enough decimals for the tick step.

    A per-value formatter cannot tell 0.205 from 0.21 apart when ticks are 0.005 apart;
    this one looks at all the ticks first (``set_locs``) and picks one precision.
    """

    def __init__(self) -> None:
        self._unit = 1.0
        self._suffix = ""
        self._decimals = 0

    def set_locs(self, locs: Any) -> None:
        """Choose the unit (none, k, M) and the decimals from all the tick positions."""
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


def compact_axis(axis: Any) -> None:
    """Label a linear axis with :class:`LinearTicks`."""
    axis.set_major_formatter(LinearTicks())


class LogTicks(Locator):
    """Ticks of a symmetric log axis: at least three labelled ticks inside the view.

    Powers of ten alone leave a box plot spanning 150 to 800 with no tick at all, and
    one spanning 20 to 400 with a single "100": the reader cannot read a value. The
    ticks are the first of these sets that puts three ticks inside the view: powers of
    ten (1, 10, 100...), then 1-2-5 steps (1, 2, 5, 10, 20...), then 1-2-3-5-7 steps;
    a narrow view (less than a factor 3) gets linear "nice" ticks instead. Zero is a
    tick when the view includes it (symlog is linear around 0).
    """

    MIN_TICKS = 3
    _SUBS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0, 7.0))

    def __call__(self) -> list[float]:
        """The ticks of the axis' current view."""
        if self.axis is None:
            return []
        low, high = self.axis.get_view_interval()
        return self.tick_values(low, high)

    def tick_values(self, vmin: float, vmax: float) -> list[float]:
        """Ticks between ``vmin`` and ``vmax`` (see the class description)."""
        low, high = sorted((float(vmin), float(vmax)))
        span = (high - low) * 1e-9
        inside: list[float] = []
        if high > 0:
            first = int(np.floor(np.log10(max(low, 1e-12, high * 1e-12))))
            last = int(np.ceil(np.log10(high)))
            for subs in self._SUBS:
                ticks = [s * 10.0**e for e in range(first, last + 1) for s in subs]
                inside = [t for t in ticks if low - span <= t <= high + span and t >= 1]
                if low - span <= 0 <= high + span:
                    inside = [0.0, *inside]
                if len(inside) >= self.MIN_TICKS:
                    return inside
        # A narrow view: nice linear steps (symlog draws them unevenly spaced, which
        # reads correctly since every tick carries its value).
        nice = MaxNLocator(nbins=4, steps=[1, 2, 5, 10], min_n_ticks=self.MIN_TICKS)
        linear = [float(t) for t in nice.tick_values(low, high)]
        return [t for t in linear if low - span <= t <= high + span] or inside


def log_axis(ax: Any, which: str) -> None:
    """Put the ``"x"`` or ``"y"`` axis of ``ax`` on a symmetric log scale labelled 1k, 10k.

    The ticks come from :class:`LogTicks` (at least three inside the view); minor
    ticks are left out so the labelled ones stand alone.
    """
    # symlog is linear below 1 and logarithmic above, so zeros (common in money
    # columns) stay visible while the long right tail is compressed.
    formatter = FuncFormatter(lambda value, _pos: fmt_compact(value))
    if which == "x":
        ax.set_xscale("symlog", linthresh=1.0)
        axis = ax.xaxis
    else:
        ax.set_yscale("symlog", linthresh=1.0)
        axis = ax.yaxis
    axis.set_major_locator(LogTicks())
    axis.set_major_formatter(formatter)
    axis.set_minor_locator(NullLocator())


def note(ax: Any, text: str) -> None:
    """Replace the axes' content with a centred note ("not computed", "no data")."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=MUTED)
