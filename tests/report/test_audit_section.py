"""The sensitive-attribute audit in the report page and in summary.md."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from _audit_data import LONG, audit_report_data
from _report_data import hand_made_report_data
from custseg.explain.audit import audit_segments
from custseg.report._audit import audit_markdown
from custseg.report._format import displayed
from custseg.report._pages import environment


def _page(data: dict[str, Any]) -> str:
    return environment().get_template("_audit.html").render(data=displayed(data))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_compositions_flags_and_the_review_words() -> None:
    data = audit_report_data()
    text = _text(_page(data))
    assert "before using the segments in credit or pricing decisions" in text
    assert "equal-credit and anti-discrimination rules" in text
    assert "Cramér's V 0.80 (strong)" in text
    assert "profiled only, not clustered on" in text
    # The flagged cell carries its ratio; the flag sentence names the segment.
    assert "10% (0.20×)" in text
    assert "segment 1 (Revolvers | heavy): Sex = Male is 10% of the segment" in text
    # Age: mean and median beside the bands; the long column and its levels are shown.
    assert "mean age" in text and "60 and over" in text
    assert LONG in text and "Pakistani heritage" in text
    assert "np." not in text


def test_balanced_segments_show_no_flag_and_say_so() -> None:
    data = audit_report_data()
    audit = data["audit"]
    data["audit"] = {**audit, "flags": [], "flag_texts": []}
    text = _text(_page(data))
    assert "No segment departs strongly from the population on sex/gender, age" in text
    assert "strong departure" not in text


def test_a_table_without_protected_characteristics_says_so() -> None:
    data = hand_made_report_data(k=2)
    empty = audit_segments(pd.DataFrame({"x": [1, 2]}), np.array([0, 1]), {}).to_dict()
    data["audit"] = {**empty, "source": "table", "flag_texts": []}
    text = _text(_page(data))
    assert "No column of this table was recognised as a protected characteristic" in text
    lines = audit_markdown(data["audit"], data["segments"])
    assert "No column of this table was recognised as a protected characteristic" in lines[4]


def test_a_model_without_an_audit_asks_for_a_refit() -> None:
    data = hand_made_report_data(k=2)
    data["audit"] = None
    assert "refit it" in _text(_page(data))


def test_summary_markdown_has_a_table_per_characteristic() -> None:
    data = audit_report_data()
    markdown = "\n".join(audit_markdown(data["audit"], data["segments"]))
    assert "## Protected characteristics" in markdown
    assert "### Sex (sex/gender; not clustered on; Cramér's V 0.80, strong)" in markdown
    assert "| 1. Revolvers \\| heavy | **90% (1.80×)** |" not in markdown  # 1.8 is inside 0.5-2
    assert "| 1. Revolvers \\| heavy | 90% | **10% (0.20×)** |" in markdown
    assert "| all customers | 50% | 50% |" in markdown
    assert (
        "| segment | mean age | median age | under 30 | 30-44 | 45-59 | 60 and over |" in markdown
    )
    assert "below 0.5 or above 2 times its share among all customers" in markdown
