"""Figures a business reader can read: no empty chart, shares for 0/1 columns, log ticks.

- the missing-values chart is drawn only when a feature column has gaps, and then
  shows only those columns; without gaps the page says "No missing values";
- a 0/1 feature among the most distinguishing ones is drawn as the share of each
  segment with a 1 ("42%"), not as box plots of zeros and ones;
- every log axis carries at least three labelled ticks inside its view, also when the
  values span less than a power of ten (150 to 800).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from _report_data import hand_made_report_data
from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.report import build_report_data, render_report
from custseg.report._pages import wrap_name
from custseg.report.figures import _canvas, overview
from custseg.report.figures import profiles as profile_figures
from custseg.report.figures._canvas import LogTicks


def _capture(module: Any, draw: Any, *args: Any) -> list[dict[str, Any]]:
    """Draw with ``draw(*args)`` and describe every axes of the figure before saving."""
    records: list[dict[str, Any]] = []
    original = module.png

    def capture(fig: Figure) -> bytes:
        fig.draw_without_rendering()
        for ax in fig.axes:
            records.append(
                {
                    "title": ax.get_title(),
                    "bars": len(ax.patches),
                    "lines": len(ax.lines),
                    "texts": [t.get_text() for t in ax.texts],
                    "yscale": ax.get_yscale(),
                    "xscale": ax.get_xscale(),
                    "xticks": _visible_ticks(ax.xaxis),
                    "yticks": _visible_ticks(ax.yaxis),
                    "visible": ax.axison,
                }
            )
        return original(fig)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "png", capture)
        draw(*args)
    return records


def _visible_ticks(axis: Any) -> list[str]:
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-6
    return [
        tick.label1.get_text()
        for tick in axis.get_major_ticks()
        if low - span <= tick.get_loc() <= high + span and tick.label1.get_text()
    ]


# ------------------------------------------------------------------ missing values


def test_no_missing_values_chart_without_gaps_but_a_sentence() -> None:
    data = hand_made_report_data()
    for item in data["missing"]:
        item.update(n_missing=0, share=0.0)
    rendered = render_report(data)
    assert "missing_values" not in rendered.figures
    assert "Bar chart of missing values" not in rendered.html
    assert "No missing values: every one of the 5 feature columns" in rendered.html


def test_the_missing_values_chart_shows_only_the_columns_with_gaps() -> None:
    data = hand_made_report_data()  # gaps in 4 of its 5 feature columns (3 * i)
    drawn = _capture(overview, overview.missing_values_figure, data["missing"])
    assert len(drawn) == 1 and drawn[0]["bars"] == 4
    assert all(text != "none" for text in drawn[0]["texts"])
    rendered = render_report(data)
    assert "missing_values" in rendered.figures
    assert "The other 1\n  feature columns have no missing value." in rendered.html


# ------------------------------------------------------------------ 0/1 columns


@pytest.fixture(scope="module")
def flagged_data() -> dict[str, Any]:
    """A table whose most distinguishing column is a 0/1 flag held by one segment."""
    rng = np.random.default_rng(0)
    n = 600
    group = np.arange(n) % 3
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "spend": rng.gamma(2.0, 100.0, n) * (1 + 3 * (group == 1)),
            "visits": rng.poisson(4 + 6 * (group == 2), n).astype(float),
            "online_only": ((group == 0) & (rng.random(n) < 0.95)).astype(int),
        }
    )
    config = FitConfig(k=3, k_range=(3, 3), n_init=2, n_resamples=2, random_state=0)
    model = fit_segments(frame, config=config)
    return build_report_data(model, frame)


def test_a_0_1_feature_is_flagged_binary_in_the_report_data(flagged_data: dict[str, Any]) -> None:
    flags = {b["feature"]: b["binary"] for b in flagged_data["feature_boxes"]}
    assert flags["online_only"] is True
    assert flags["spend"] is False and flags["visits"] is False


def test_a_0_1_feature_is_drawn_as_shares_per_segment(flagged_data: dict[str, Any]) -> None:
    drawn = _capture(
        profile_figures,
        profile_figures.feature_boxes_figure,
        flagged_data["feature_boxes"],
        flagged_data["segments"],
    )
    (panel,) = [d for d in drawn if d["title"].startswith("online_only")]
    assert panel["title"] == "online_only: share with 1"
    assert panel["bars"] == 3 and panel["lines"] == 0  # bars, no box or whisker
    assert panel["yticks"] == ["0%", "25%", "50%", "75%", "100%"]
    shares = {
        b["segment_id"]: f"{100 * b['mean']:.0f}%"
        for item in flagged_data["feature_boxes"]
        if item["feature"] == "online_only"
        for b in item["boxes"]
    }
    assert panel["texts"] == list(shares.values())
    # One segment holds most of the flagged customers: its bar stands out.
    assert max(int(v.rstrip("%")) for v in shares.values()) >= 75
    # The other features keep their box plots.
    (spend,) = [d for d in drawn if d["title"] == "spend"]
    assert spend["lines"] > 0


# ------------------------------------------------------------------ log axes


@pytest.mark.parametrize(
    ("low", "high"), [(150.0, 800.0), (20.0, 400.0), (0.0, 5_000.0), (1_000.0, 1_500.0)]
)
def test_log_ticks_put_three_ticks_in_any_view(low: float, high: float) -> None:
    ticks = LogTicks().tick_values(low, high)
    assert len([t for t in ticks if low <= t <= high]) >= 3, ticks


def test_every_log_axis_of_the_report_shows_three_labelled_ticks() -> None:
    data = hand_made_report_data()
    # A money column between 150 and 800: no power of ten inside it.
    edges = np.expm1(np.linspace(np.log1p(150.0), np.log1p(800.0), 31))
    data["distributions"][0].update(edges=edges.tolist(), counts=[5] * 30, log_scale=True)
    boxes = copy.deepcopy(data["feature_boxes"][0])
    for box in boxes["boxes"]:
        box.update(low=150.0, q1=200.0, median=300.0, q3=500.0, high=800.0, mean=350.0)
    boxes["log_scale"] = True
    data["feature_boxes"] = [boxes]
    drawn = _capture(overview, overview.distributions_figure, data["distributions"])
    drawn += _capture(
        profile_figures,
        profile_figures.feature_boxes_figure,
        data["feature_boxes"],
        data["segments"],
    )
    logs = [
        ticks
        for d in drawn
        if d["visible"]
        for scale, ticks in ((d["xscale"], d["xticks"]), (d["yscale"], d["yticks"]))
        if scale == "symlog"
    ]
    assert len(logs) == 2
    for ticks in logs:
        assert len(ticks) >= 3, ticks
        assert len(set(ticks)) == len(ticks), ticks  # distinct labels such as 200, 300, 500


def test_the_canvas_module_exports_the_log_locator() -> None:
    assert "LogTicks" in _canvas.__all__


# ------------------------------------------------------------------ long names in tables


def test_long_names_wrap_at_their_own_word_boundaries() -> None:
    assert str(wrap_name("Naive_Bayes_Classifier")) == "Naive_<wbr>Bayes_<wbr>Classifier"
    assert str(wrap_name("MonthlyCharges")) == "Monthly<wbr>Charges"
    assert str(wrap_name("Spending Score (1-100)")) == "Spending Score (1-<wbr>100)"
    # Text is escaped before: only <wbr> is markup.
    assert str(wrap_name("<b>x_y</b>")) == "&lt;b&gt;x_<wbr>y&lt;/b&gt;"
    page = render_report(hand_made_report_data()).html
    assert "<td>PRC_<wbr>FULL_<wbr>PAYMENT</td>" in page
