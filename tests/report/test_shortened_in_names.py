"""Long column names shortened in segment names and traits: readable words, and the full
names listed beside them on the page and in the summary."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from custseg.pipeline import fit_segments
from custseg.report import build_report_data, render_report

SPEND = (
    "Total amount spent on online purchases during the last twelve months including returns"
    " and exchanges processed through the website portal"
)
VISITS = (
    "Number of visits to physical branch locations during the last twelve months excluding"
    " visits made only to use the automated teller"
)
BALANCE = (
    "Average balance kept on the current account at month end during the last twelve months"
    " before the reporting date of this extract"
)


@pytest.fixture(scope="module")
def report() -> tuple[dict, object]:
    rng = np.random.default_rng(0)
    n = 1500
    group = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            SPEND: rng.gamma(2, 100, n) * (1 + 3 * (group == 0)),
            VISITS: rng.poisson(3, n) * (1 + 4 * (group == 1)) * 1.0,
            BALANCE: rng.gamma(2, 500, n) * (1 + 3 * (group == 2)),
        }
    )
    model = fit_segments(frame, k=3, k_range=(3, 3), random_state=0)
    data = build_report_data(model, frame)
    return data, render_report(data)


def test_names_and_traits_read_as_words_not_initials(report) -> None:
    data, _ = report
    for card in data["segments"]:
        for text in (card["name"], card["description"] or "", *card["traits"]):
            # "ABKOTCAAMEDTLTMBTRDOTE" was the first release's name for BALANCE.
            assert not re.search(r"\b[A-Z]{6,}\b", text), text
    written = " ".join(card["name"] + " " + " ".join(card["traits"]) for card in data["segments"])
    assert "average balance kept current" in written.casefold()


def test_every_shortened_form_is_listed_with_its_column(report) -> None:
    data, rendered = report
    listed = {item["shown"]: item["full"] for item in data["shortened_in_segments"]}
    assert listed, data["segments"]
    assert set(listed.values()) <= {SPEND, VISITS, BALANCE}
    texts = " ".join(
        " ".join([c["name"], c["description"] or "", *c["traits"]]) for c in data["segments"]
    ).casefold()
    for shown, full in listed.items():
        assert shown.casefold() in texts and shown != full
        assert full.casefold().startswith(shown.split()[0].casefold())
    # A form is listed only where it is written alone, not just inside a longer form.
    for shown in listed:
        alone = texts
        for longer in listed:
            if longer != shown and shown in longer:
                alone = alone.replace(longer.casefold(), " ")
        assert shown.casefold() in alone, shown
    assert "labels shortened in the names and traits" in rendered.html
    line = next(
        x for x in rendered.summary_markdown.splitlines() if x.startswith("Shortened in names")
    )
    assert all(f"{shown} = {full}" in line for shown, full in listed.items())


def test_short_names_list_nothing(model, sample) -> None:
    data = build_report_data(model, sample)
    assert data["shortened_in_segments"] == []
    assert "Shortened in names" not in render_report(data).summary_markdown
