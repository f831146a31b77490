"""Figures hold with ten segments and 130-character column names.

Every figure is drawn from the report data of such a table, and the drawn figure is
inspected before it becomes PNG bytes: every legend lists every segment, and every
piece of text (titles, tick labels, legend entries) lies inside the figure, so nothing
is clipped. pytest turns warnings into errors, so a figure whose layout matplotlib
cannot apply ("constrained_layout not applied") fails here too.
"""

from __future__ import annotations

from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from _tables import long_names_table
from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.report import build_report_data, render_report
from custseg.report.figures import FIGURE_NAMES, choice_of_k, evaluation, overview
from custseg.report.figures import profiles as profile_figures
from custseg.report.figures import projection as projection_figures
from custseg.report.render import shortened_names

MODULES = [choice_of_k, evaluation, overview, profile_figures, projection_figures]


@pytest.fixture(scope="module")
def hard_data() -> dict[str, Any]:
    frame, _ = long_names_table()
    config = FitConfig(k=10, k_range=(2, 3), n_init=2, n_resamples=2)
    model = fit_segments(frame, config=config)
    return build_report_data(model, frame)


@pytest.fixture(scope="module")
def drawn(hard_data: dict[str, Any]) -> list[dict[str, Any]]:
    """Render the report once, recording what each figure looks like before saving."""
    records: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch:
        for module in MODULES:
            original = module.png

            def capture(fig: Figure, _save: Any = original) -> bytes:
                records.append(_inspect(fig))
                return _save(fig)

            patch.setattr(module, "png", capture)
        render_report(hard_data)
    return records


def _inspect(fig: Figure) -> dict[str, Any]:
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.draw_without_rendering()
    box = fig.bbox
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    outside = []
    for text in _drawn_texts(fig, legends):
        if not text.get_visible() or not text.get_text().strip():
            continue
        extent = text.get_window_extent(renderer)
        inside = (
            extent.x0 >= box.x0 - 1
            and extent.x1 <= box.x1 + 1
            and extent.y0 >= box.y0 - 1
            and extent.y1 <= box.y1 + 1
        )
        if not inside:
            outside.append(text.get_text())
    points = sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections)
    return {
        "legends": [[t.get_text() for t in legend.get_texts()] for legend in legends],
        "outside": outside,
        "points": points,
    }


def _drawn_texts(fig: Figure, legends: list[Any]) -> list[Text]:
    """Titles, axis labels, annotations, legend entries and the tick labels drawn
    (ticks outside the view limits keep a Text object that is never drawn)."""
    texts: list[Text] = [*fig.texts]
    for legend in legends:
        texts += legend.get_texts()
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-6
            for tick in axis.get_major_ticks():
                if low - span <= tick.get_loc() <= high + span:
                    texts += [tick.label1, tick.label2]
    return texts


def _drawn_names(data: dict[str, Any]) -> list[str]:
    """The figures drawn for ``data``: no missing-values chart without a gap."""
    gaps = any(m["n_missing"] for m in data["missing"])
    return [name for name in FIGURE_NAMES if gaps or name != "missing_values"]


def test_every_figure_is_drawn(drawn: list[dict[str, Any]], hard_data: dict[str, Any]) -> None:
    assert not any(m["n_missing"] for m in hard_data["missing"])
    assert len(drawn) == len(FIGURE_NAMES) - 1 == len(_drawn_names(hard_data))


def test_every_legend_lists_every_segment(
    drawn: list[dict[str, Any]], hard_data: dict[str, Any]
) -> None:
    segment_legends = [
        entries for record in drawn for entries in record["legends"] if len(entries) > 2
    ]
    # The box plots and the projection each carry a legend of the segments.
    assert len(segment_legends) == 2
    for entries in segment_legends:
        assert [e.split(" · ")[0] for e in entries] == [str(s["id"]) for s in hard_data["segments"]]


def test_the_projection_draws_every_sampled_customer_and_centre(
    drawn: list[dict[str, Any]], hard_data: dict[str, Any]
) -> None:
    projection = drawn[_drawn_names(hard_data).index("projection")]
    assert projection["points"] == hard_data["projection"]["n_drawn"] + 10


def test_no_text_falls_outside_its_figure(drawn: list[dict[str, Any]]) -> None:
    assert [record["outside"] for record in drawn] == [[] for _ in drawn]


def test_long_column_names_are_shortened_in_figures_and_listed_in_full(
    hard_data: dict[str, Any],
) -> None:
    names = hard_data["correlation"]["columns"]
    assert names and all(len(n) == 130 for n in names)
    listed = shortened_names(hard_data)
    assert {full for _, full in listed["data"]} >= set(names)
    assert {full for _, full in listed["profiles"]} == set(hard_data["lift"]["features"]) | {
        b["feature"] for b in hard_data["feature_boxes"]
    }
    shown = [s for s, _ in listed["data"]]
    assert all(len(s) <= 32 for s in shown)
    assert len(set(shown)) == len(shown)  # names that differ at the end stay apart
    html = render_report(hard_data).html
    for name in names:
        assert f"<td>{name}</td>" in html.replace("<wbr>", "")
