"""The data overview flags implausible values, with the customer, the count and the value.

The retail "Customer Personality Analysis" table has a birth year of 1893 (and 1899)
and one income of 666,666 where every other stays below 200,000: the report names
them; heavy-tailed money columns (CC_GENERAL) and the realistic tables raise nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from _realistic import attrition_table, telco_table
from _report_data import hand_made_report_data
from _tables import retail_table
from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.prepare import infer_schema
from custseg.report import build_report_data, render_report
from custseg.report.data.overview import implausible_values


def _flags(frame: pd.DataFrame, year: int = 2026) -> dict[str, dict[str, Any]]:
    found = implausible_values(frame, frame, infer_schema(frame), year=year)
    return {item["column"]: item for item in found}


@pytest.fixture(scope="module")
def retail_with_traps() -> pd.DataFrame:
    frame, _ = retail_table(n=900)
    frame.loc[10, "Year_Birth"] = 1893
    frame.loc[20, "Year_Birth"] = 1899
    frame.loc[30, "Income"] = 666_666
    return frame


def test_the_retail_traps_are_flagged_with_their_customers(retail_with_traps: pd.DataFrame) -> None:
    frame = retail_with_traps
    assert frame["Income"].drop(index=30).max() < 200_000
    flags = _flags(frame)
    assert set(flags) == {"Year_Birth", "Income"}
    births = flags["Year_Birth"]
    assert births["rule"] == "birth year before 1900 or after 2026"
    assert births["count"] == 2
    assert births["examples"] == [
        {"id": str(frame.loc[10, "ID"]), "value": "1893"},
        {"id": str(frame.loc[20, "ID"]), "value": "1899"},
    ]
    income = flags["Income"]
    assert income["count"] == 1
    assert income["examples"] == [{"id": str(frame.loc[30, "ID"]), "value": "666,666"}]
    assert income["rule"].startswith("isolated extreme: more than 3x the next largest value (")


def test_ages_and_future_birth_years_are_flagged_and_rows_named_without_an_id() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "Customer_Age": rng.integers(20, 80, 300).astype(float),
            "birth_year": rng.integers(1950, 2000, 300),
            "spend": rng.lognormal(5, 1.5, 300),  # a long tail, not an isolated value
        }
    )
    frame.loc[4, "Customer_Age"] = 131
    frame.loc[7, "birth_year"] = 2031
    flags = _flags(frame)
    assert set(flags) == {"Customer_Age", "birth_year"}
    assert flags["Customer_Age"]["examples"] == [{"id": "row 5", "value": "131"}]
    assert flags["birth_year"]["examples"] == [{"id": "row 8", "value": "2031"}]


def test_long_tails_and_realistic_tables_raise_nothing(sample: pd.DataFrame) -> None:
    assert _flags(sample) == {}
    for frame in (attrition_table(n=2000)[0], telco_table(n=2000)[0], retail_table(n=900)[0]):
        assert _flags(frame) == {}


def test_the_page_and_summary_show_the_implausible_values(
    retail_with_traps: pd.DataFrame,
) -> None:
    frame = retail_with_traps
    config = FitConfig(k=3, k_range=(3, 3), n_init=1, n_resamples=2, random_state=0)
    model = fit_segments(frame, config=config)
    data = build_report_data(model, frame)
    assert [item["column"] for item in data["implausible"]] == ["Year_Birth", "Income"]
    rendered = render_report(data)
    assert '<h3 id="implausible">Implausible values</h3>' in rendered.html
    birth_id = frame.loc[10, "ID"]
    assert f"{birth_id}: <b>1893</b>" in rendered.html
    assert f"{frame.loc[30, 'ID']}: <b>666,666</b>" in rendered.html
    summary = rendered.summary_markdown
    assert "## Implausible values" in summary
    assert "- Year\\_Birth: 2 row(s) with birth year before 1900" in summary
    assert f"{birth_id}: 1893" in summary


def test_report_data_without_the_key_renders_without_the_section() -> None:
    data = hand_made_report_data()
    data.pop("implausible", None)
    rendered = render_report(data)
    assert "Implausible values" not in rendered.html
    assert "Implausible values" not in rendered.summary_markdown
