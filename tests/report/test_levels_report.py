"""The categorical levels in the report's files: profiles.csv, summary.md, the page."""

from __future__ import annotations

import numpy as np
import pandas as pd

from _realistic import telco_table
from custseg import fit_segments
from custseg.report import write_report


def test_profiles_csv_summary_and_page_show_the_levels(tmp_path):
    frame, _ = telco_table(n=1500)
    model = fit_segments(frame, k=4, k_range=(4, 4), random_state=0)
    files = write_report(model, frame, tmp_path / "report")
    table = pd.read_csv(files["profiles.csv"])
    levels = table[table["level"].notna()]
    numeric = table[table["level"].isna()]
    assert {"level", "share", "population_share"} <= set(table.columns)
    assert set(levels["feature"]) >= {"Contract", "InternetService", "Churn"}
    assert "tenure" in set(numeric["feature"]) and numeric["share"].isna().all()
    # The shares of a column's levels sum to 1 in every segment, and in the population.
    sums = levels.groupby(["segment_id", "feature"])["share"].sum()
    assert np.allclose(sums, 1.0)
    population = levels[levels["segment_id"] == 0].groupby("feature")["population_share"].sum()
    assert np.allclose(population, 1.0)
    assert np.allclose(levels["lift"], levels["share"] / levels["population_share"])
    summary = files["summary.md"].read_text(encoding="utf-8")
    assert "## Categories that set segments apart" in summary
    assert "No internet service 100% vs" in summary
    assert "Contract: Month-to-month" in summary
    page = files["report.html"].read_text(encoding="utf-8")
    assert 'id="levels"' in page and "Month-to-month" in page
    # Decisive levels are marked in the table of every level's share.
    assert 'title="decisive"' in page
