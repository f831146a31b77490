"""Figures of the "Choosing the number of segments" section: the elbow and the index panels.

The index panels follow the report data, not a list written here: one panel per index
in ``k_selection["indices"]`` (the registry, :func:`custseg.cluster.indices.registered_indices`, as
the data step found it), then the stability panel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ._canvas import ACCENT, LINE, as_float, compact_axis, figure, note, png

__all__ = ["STABILITY_PANEL", "elbow_figure", "k_index_panels", "k_indices_figure"]

STABILITY_PANEL = ("stability_ari", "Stability, ARI (higher is better)")
"""``(candidate key, title)`` of the last panel; stability is not a registered index."""

_RECOMMENDED_BAND = "#fee08b"
_PANEL_SIZE = (5.0, 2.8)  # inches per panel


def _candidates(k_selection: dict[str, Any], keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The candidate ks and, per key, their values (NaN where missing), one row per key."""
    rows = k_selection.get("candidates") or []
    ks = np.array([int(r["k"]) for r in rows], dtype=np.int64)
    values = np.array([as_float([r.get(key) for r in rows]) for key in keys], dtype=np.float64)
    return ks, values.reshape(len(keys), ks.size)


def _mark_recommended(ax: Any, k: int | None) -> None:
    if k is not None:
        ax.axvspan(k - 0.35, k + 0.35, color=_RECOMMENDED_BAND, alpha=0.6, zorder=0, lw=0)


def elbow_figure(k_selection: dict[str, Any]) -> bytes:
    """Inertia against k with the knee marked and the recommended k highlighted.

    Parameters
    ----------
    k_selection : dict
        ``k_selection`` of the report data; reads ``candidates`` (``k``, ``inertia``),
        ``knee`` and ``recommended_k``.

    Returns
    -------
    bytes
        The PNG image.
    """
    ks, (inertia,) = _candidates(k_selection, ["inertia"])
    knee = k_selection.get("knee")
    recommended = k_selection.get("recommended_k")
    with figure(7.0, 3.6) as fig:
        ax = fig.add_subplot()
        if ks.size == 0:
            note(ax, "The model has no record of the k that were tried")
            return png(fig)
        _mark_recommended(ax, recommended)
        ax.plot(ks, inertia, marker="o", color=LINE, lw=2)
        if knee is not None and int(knee) in ks.tolist():
            y = inertia[ks.tolist().index(int(knee))]
            ax.plot([knee], [y], marker="o", ms=14, mfc="none", mec=ACCENT, mew=2)
            ax.annotate(
                f"knee: k = {knee}",
                (knee, y),
                xytext=(18, 18),
                textcoords="offset points",
                color=ACCENT,
                arrowprops={"arrowstyle": "->", "color": ACCENT},
            )
        else:
            ax.text(
                0.97,
                0.92,
                "no clear knee on this curve",
                transform=ax.transAxes,
                ha="right",
                color=ACCENT,
            )
        ax.set_xticks(ks)
        ax.set_xlabel("number of segments k")
        ax.set_ylabel("inertia (within-segment spread)")
        compact_axis(ax.yaxis)
        handles: list[Artist] = [Line2D([], [], marker="o", color=LINE, label="inertia")]
        if recommended is not None:
            handles.append(Patch(color=_RECOMMENDED_BAND, label=f"recommended k = {recommended}"))
        ax.legend(handles=handles, loc="upper right", bbox_to_anchor=(1.0, 0.85))
        ax.set_title("Elbow curve: how much spread each extra segment removes")
        return png(fig)


def k_index_panels(k_selection: dict[str, Any]) -> list[tuple[str, str]]:
    """The panels of :func:`k_indices_figure`, in drawing order.

    Parameters
    ----------
    k_selection : dict
        ``k_selection`` of the report data; reads ``indices`` (``name``, ``title``).

    Returns
    -------
    list of (str, str)
        ``(candidate key, title)``: one per index in ``k_selection["indices"]``, then
        :data:`STABILITY_PANEL`.
    """
    indices = k_selection.get("indices") or []
    return [(str(entry["name"]), str(entry["title"])) for entry in indices] + [STABILITY_PANEL]


def _grid(n_panels: int) -> tuple[int, int]:
    # Two columns up to four panels (the registry's three indices and stability make
    # a 2 × 2 grid), three beyond so that the figure stays within a page's width.
    cols = min(n_panels, 2 if n_panels <= 4 else 3)
    return -(-n_panels // cols), cols


def k_indices_figure(k_selection: dict[str, Any]) -> bytes:
    """One panel per index against k (see :func:`k_index_panels`), recommended k marked.

    Parameters
    ----------
    k_selection : dict
        ``k_selection`` of the report data; reads ``indices``, ``candidates`` (``k``
        and the value of every panel's key) and ``recommended_k``.

    Returns
    -------
    bytes
        The PNG image; a panel whose values are all missing says "not computed".
    """
    panels = k_index_panels(k_selection)
    ks, series = _candidates(k_selection, [key for key, _ in panels])
    recommended = k_selection.get("recommended_k")
    rows, cols = _grid(len(panels))
    width, height = _PANEL_SIZE
    with figure(width * cols, height * rows) as fig:
        axes = list(fig.subplots(rows, cols, squeeze=False).flat)
        for at, (ax, (_, title), values) in enumerate(zip(axes, panels, series, strict=False)):
            # Only the lowest panel of each column names the shared x axis.
            if at + cols >= len(panels):
                ax.set_xlabel("number of segments k")
            if ks.size == 0 or not np.isfinite(values).any():
                note(ax, "not computed")
                ax.set_title(title)
                continue
            _mark_recommended(ax, recommended)
            finite = np.isfinite(values)
            ax.plot(ks[finite], values[finite], marker="o", color=LINE, lw=1.8)
            if recommended is not None and int(recommended) in ks.tolist():
                at_k = ks.tolist().index(int(recommended))
                if finite[at_k]:
                    ax.plot([recommended], [values[at_k]], marker="o", ms=10, color=ACCENT)
            ax.set_xticks(ks)
            ax.set_title(title)
            compact_axis(ax.yaxis)
        for ax in axes[len(panels) :]:
            ax.set_axis_off()
        return png(fig)
