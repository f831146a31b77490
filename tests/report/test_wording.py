"""The report speaks of the table's customers and business, and shows what the fit found.

- wording: card and bank words only when the credit-card playbook named the segments;
  retail words for a retail table; neutral words otherwise (also for report data and
  models written before playbooks were recorded);
- warnings of the fit at the top of the page and of summary.md;
- outcome columns per segment: rates for 0/1 columns, means otherwise, measured on the
  table when it has them, else the training figures;
- summary.md shows the stability measured at training.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest

from _report_data import hand_made_report_data
from _tables import retail_table
from custseg.config import FitConfig
from custseg.model import SegmentationModel
from custseg.pipeline import fit_segments
from custseg.prepare.schema import ColumnInfo
from custseg.report import build_report_data, render_report

CARD_WORDS = re.compile(r"\b(card|cards|bank|banking|banker)\b", re.IGNORECASE)


def _visible_text(page: str) -> str:
    """The page's text without styles and tags (class names such as "card" are not words)."""
    body = re.sub(r"<style.*?</style>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module")
def retail() -> tuple[SegmentationModel, pd.DataFrame]:
    frame, _ = retail_table(n=600)
    frame["Response"] = (np.arange(len(frame)) % 5 == 0).astype(int)
    frame["churn_score"] = np.linspace(0.0, 1.0, len(frame))
    features = [c for c in frame.columns if c not in ("ID", "Response", "churn_score")]
    model = fit_segments(
        frame,
        config=FitConfig(k=3, k_range=(2, 3), n_init=2, n_resamples=2, features=tuple(features)),
    )
    return model, frame


def _with_outcomes(model: SegmentationModel) -> SegmentationModel:
    """The model with the outcome profile the role inference records, set by hand."""
    model = copy.deepcopy(model)
    model.profiles["outcomes"] = {
        "columns": ["Response", "churn_score", "complained"],
        "population": {"Response": 0.2, "churn_score": 0.5, "complained": 0.05},
        "segments": [
            {"id": i, "values": {"Response": 0.2, "churn_score": 0.5, "complained": 0.01 * i}}
            for i in range(model.k)
        ],
        "details": {},
    }
    complained = ColumnInfo("complained", "ignored", "int64", "a flag", n_missing=0, n_unique=2)
    columns = (*model.schema.columns, complained)
    model.schema = dataclasses.replace(model.schema, columns=columns)
    return model


def test_a_retail_report_speaks_retail_and_never_of_cards(retail) -> None:
    model, frame = retail
    assert model.playbook.key == "retail"
    rendered = render_report(build_report_data(model, frame))
    for text in (_visible_text(rendered.html), rendered.summary_markdown):
        assert not CARD_WORDS.search(text), CARD_WORDS.search(text)
        assert "customers who shop in a similar way" in text
        assert "retail marketing practice" in text
    assert "Retail purchases playbook, chosen from the columns: 4 of 4 signals" in rendered.html
    names = {s.name for s in model.segments}
    assert names == {"Premium shoppers", "Deal seekers", "Lapsed customers"}


def test_the_card_playbook_brings_card_words() -> None:
    data = hand_made_report_data()
    data["playbook"] = {
        "name": "Credit cards",
        "key": "credit_card",
        "domain": "credit cards",
        "chosen_by": "columns",
        "summary": "Credit cards playbook, chosen from the columns: 5 of 5 signals.",
        "customers": "card holders who use their card in a similar way",
        "practice": "common card-issuing practice",
        "review": "the bank's policies, risk appetite and regulations",
    }
    rendered = render_report(data)
    assert "card holders who use their card in a similar way" in rendered.html
    assert "check them against the bank's policies" in " ".join(
        html.unescape(rendered.html).split()
    )
    assert "> against the bank's policies, risk appetite and regulations" in (
        rendered.summary_markdown
    )


def test_report_data_without_a_playbook_uses_neutral_words() -> None:
    data = hand_made_report_data()
    assert "playbook" not in data
    rendered = render_report(data)
    text = _visible_text(rendered.html) + rendered.summary_markdown
    assert not CARD_WORDS.search(text)
    assert "customers who behave alike in this table's columns" in text


def test_warnings_lead_the_page_and_the_summary(retail) -> None:
    model, frame = retail
    warned = copy.deepcopy(model)
    warned.warnings = [
        {"kind": "no_identifier", "message": "no column identifies the customers; pass id_column"},
        {
            "kind": "leakage",
            "message": "column 'Recency' alone reproduces segment 0; leave it out",
            "column": "Recency",
            "segment_id": 0,
            "precision": 0.99,
            "coverage": 0.98,
        },
    ]
    data = build_report_data(warned, frame)
    assert [w["kind"] for w in data["warnings"]] == ["no_identifier", "leakage"]
    rendered = render_report(data)
    html = rendered.html
    summary_start = html.index('<section id="summary">')
    warning_at = html.index("2 warnings about this segmentation")
    assert summary_start < warning_at < html.index('class="cards"')
    assert "alone reproduces segment 0" in html
    markdown = rendered.summary_markdown
    assert markdown.index("## Warnings") < markdown.index("| segment | name |")
    assert "- **column 'Recency' alone reproduces segment 0; leave it out**" in markdown
    quiet = copy.deepcopy(model)
    quiet.warnings = []
    assert "## Warnings" not in render_report(build_report_data(quiet, frame)).summary_markdown


def test_outcomes_by_segment_show_rates_and_means(retail) -> None:
    model, frame = retail
    data = build_report_data(_with_outcomes(model), frame)
    outcomes = data["outcomes"]
    columns = {c["name"]: c for c in outcomes["columns"]}
    assert columns["Response"] == {"name": "Response", "kind": "rate", "source": "table"}
    assert columns["churn_score"]["kind"] == "mean"
    # Not in this table: the training figures, a 0/1 column of the schema as a rate.
    assert columns["complained"] == {"name": "complained", "kind": "rate", "source": "training"}
    response = [row["values"][0] for row in outcomes["segments"]]
    sizes = [s["size"] for s in data["segments"]]
    overall = sum(r * n for r, n in zip(response, sizes, strict=True)) / sum(sizes)
    assert overall == pytest.approx(frame["Response"].mean())
    assert outcomes["population"][0] == pytest.approx(frame["Response"].mean())
    assert [row["values"][2] for row in outcomes["segments"]] == [0.0, 0.01, 0.02]

    rendered = render_report(data)
    assert "Outcomes by segment" in rendered.html
    assert f"{100 * frame['Response'].mean():.1f}%" in rendered.html
    assert "Columns marked † are not in this table" in rendered.html
    markdown = rendered.summary_markdown
    assert "## Outcomes by segment" in markdown
    # Column names are escaped for Markdown (an underscore could open emphasis).
    assert "| segment | Response (rate) | churn\\_score (mean) | complained (rate) |" in markdown
    assert "| all customers | 20.0% | 0.500 | 5.0% |" in markdown
    assert "complained" in _visible_text(rendered.html)


def test_no_outcome_table_without_outcome_columns(retail) -> None:
    model, frame = retail
    assert model.profiles["outcomes"]["columns"] == ["Response", "churn_score"]
    # The same model had its table no outcome column.
    without = copy.deepcopy(model)
    without.profiles["outcomes"] = {"columns": [], "population": {}, "segments": []}
    data = build_report_data(without, frame)
    assert data["outcomes"] is None
    rendered = render_report(data)
    assert "Outcomes by segment" not in rendered.html
    assert "Outcomes by segment" not in rendered.summary_markdown


def test_the_roles_table_takes_outcome_and_unknown_roles() -> None:
    data = hand_made_report_data()
    data["columns"] += [
        {
            "name": "churned",
            "role": "outcome",
            "dtype": "int64",
            "reason": "a churn flag",
            "n_missing": 0,
            "share_missing": 0.0,
        },
        {
            "name": "vendor_score",
            "role": "model_output",
            "dtype": "float64",
            "reason": "a score",
            "n_missing": 1,
            "share_missing": 0.001,
        },
    ]
    html = render_report(data).html
    assert '<td>churned</td><td class="word">outcome</td>' in html
    assert '<td>vendor_<wbr>score</td><td class="word">model_output</td>' in html
    assert "an <b>outcome</b>" in html


def test_summary_shows_the_stability_measured_at_training() -> None:
    data = hand_made_report_data()
    data["metrics"].append(
        {
            "name": "Stability (ARI)",
            "unit": "number",
            "value": None,
            "training": 0.934,
            "detail": "",
            "explanation": "agreement of refits on resamples (measured at training)",
        }
    )
    markdown = render_report(data).summary_markdown
    assert "- Stability (ARI): 0.934 (at training)" in markdown
    assert "Stability (ARI): –" not in markdown


def test_text_outcome_labels_are_rated_on_the_table_as_the_fit_read_them() -> None:
    from _trap_tables import bank_churners

    frame = bank_churners(1500)
    model = fit_segments(frame, k=3, k_range=(3, 3), config=FitConfig(n_resamples=2))
    assert model.profiles["outcomes"]["details"]["Attrition_Flag"]["positive"] == (
        "Attrited Customer"
    )
    data = build_report_data(model, frame)
    columns = [c["name"] for c in data["outcomes"]["columns"]]
    at = columns.index("Attrition_Flag")
    assert data["outcomes"]["columns"][at] == {
        "name": "Attrition_Flag",
        "kind": "rate",
        "source": "table",
    }
    attrited = (frame["Attrition_Flag"] == "Attrited Customer").to_numpy()
    assert data["outcomes"]["population"][at] == pytest.approx(attrited.mean())
    # A table where the other level is the more frequent one reads the same level as 1.
    flipped = frame.copy()
    flipped["Attrition_Flag"] = np.where(attrited, "Existing Customer", "Attrited Customer")
    again = build_report_data(model, flipped)
    assert again["outcomes"]["population"][at] == pytest.approx(1 - attrited.mean())
