"""The report's outcome section: intervals, lifts, marks and how strongly segments separate."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from _realistic import telco_table
from custseg.config import FitConfig
from custseg.model import SegmentationModel
from custseg.pipeline import fit_segments
from custseg.report import build_report_data, render_report


@pytest.fixture(scope="module")
def telco() -> tuple[SegmentationModel, pd.DataFrame]:
    frame, _ = telco_table(n=1500)
    model = fit_segments(frame, config=FitConfig(k=3, n_init=2, random_state=0))
    return model, frame


def test_outcome_table_quotes_intervals_lifts_and_separation(telco) -> None:
    model, frame = telco
    data = build_report_data(model, frame)
    outcomes = data["outcomes"]
    at = [c["name"] for c in outcomes["columns"]].index("Churn")
    trained = model.profiles["outcomes"]["stats"]["Churn"]
    for row in outcomes["segments"]:
        cell = row["cells"][at]
        expected = next(r for r in trained["segments"] if r["id"] == row["id"])
        # The same rows, read the same way: the table's figures are the training ones.
        assert cell["low"] == pytest.approx(expected["low"])
        assert cell["high"] == pytest.approx(expected["high"])
        assert cell["lift"] == pytest.approx(expected["lift"])
        assert cell["direction"] == expected["direction"]
        assert cell["low"] <= row["values"][at] <= cell["high"]
    assert {row["cells"][at]["direction"] for row in outcomes["segments"]} >= {"above"}
    separation = outcomes["separation"][at]
    v = trained["separation"]["value"]
    assert separation["sentence"] == (
        f"The segments separate Churn {separation['strength']} (Cramér's V = {v:.2f})."
    )

    rendered = render_report(data)
    assert separation["sentence"] in html.unescape(rendered.html)
    assert "▲" in rendered.html and "Holm-corrected" in rendered.html
    markdown = rendered.summary_markdown
    assert f"- {separation['sentence']}" in markdown
    above = next(r for r in outcomes["segments"] if r["cells"][at]["direction"] == "above")
    cell = above["cells"][at]
    assert (
        f"{100 * above['values'][at]:.1f}% ▲ ({100 * cell['low']:.1f}%–{100 * cell['high']:.1f}%,"
        f" {cell['lift']:.1f}×)" in markdown
    )
    assert "np.float64" not in rendered.html + markdown


def test_outcome_figures_from_training_when_the_table_lacks_the_column(telco) -> None:
    model, frame = telco
    data = build_report_data(model, frame.drop(columns="Churn"))
    outcomes = data["outcomes"]
    at = [c["name"] for c in outcomes["columns"]].index("Churn")
    assert outcomes["columns"][at]["source"] == "training"
    assert all(row["cells"][at]["low"] is not None for row in outcomes["segments"])
    assert outcomes["separation"][at]["sentence"].startswith("The segments separate Churn ")
