"""The written report in a real headless Chromium (Debian's /usr/bin/chromium).

The page must read well offline: every section heading visible, every figure decoded,
no console error and no request other than the file itself and data: URIs. A full-page
screenshot is saved in the test's temporary folder for people to look at.

The layout must also hold on a hard table: ten segments described by columns with
130-character names, with a warning and an outcome column set on the model: at 1280
pixels the document is no wider than the window, every rule stays inside its card, and
the console stays free of warnings and errors.
"""

from __future__ import annotations

import re
import struct
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from _chromium import opened
from _tables import long_names_table
from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.report import write_report
from custseg.report.render import SECTIONS


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = resources.files("custseg") / "data" / "CC_GENERAL.csv"
    with resources.as_file(path) as csv:
        frame = pd.read_csv(csv).sample(n=1_500, random_state=1).reset_index(drop=True)
    config = FitConfig(k=4, k_range=(2, 6), n_init=2, n_resamples=2, random_state=0)
    model = fit_segments(frame, config=config)
    written = write_report(model, frame, tmp_path_factory.mktemp("browser") / "report")
    return written["report.html"]


@pytest.fixture(scope="module")
def visit(report_html: Path) -> dict[str, Any]:
    """Open the report once in Chromium and record everything the tests look at."""
    return _visit(report_html)


# Per card of the executive summary: its box and the boxes of its rule, title, traits,
# description and strategies, which must all lie inside it.
_CARD_BOXES = """() => Array.from(document.querySelectorAll('#summary .card')).map(card => {
    const box = card.getBoundingClientRect();
    const inner = Array.from(card.querySelectorAll('.rule, h3, li, p, .suggest')).map(e => {
        const r = e.getBoundingClientRect();
        return {cls: e.className || e.tagName, left: r.left, right: r.right};
    });
    return {left: box.left, right: box.right, inner: inner,
            rules: card.querySelectorAll('.rule').length};
})"""


def _visit(report_html: Path) -> dict[str, Any]:
    screenshot = report_html.parent / "report-screenshot.png"
    with opened(report_html) as (page, log):
        headings = [
            {
                "text": " ".join(heading.inner_text().split()),
                "visible": heading.is_visible(),
            }
            for heading in page.locator("section > h2").all()
        ]
        images = page.evaluate(
            """() => Array.from(document.images).map(img => ({
                alt: img.alt, complete: img.complete,
                naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                shownWidth: img.getBoundingClientRect().width,
                scheme: img.src.split(':')[0]}))"""
        )
        cards = page.locator("#summary .card").count()
        overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
        widths = page.evaluate(
            "() => ({document: document.documentElement.scrollWidth,"
            " body: document.body.scrollWidth, viewport: window.innerWidth})"
        )
        card_boxes = page.evaluate(_CARD_BOXES)
        texts = {
            "summary": page.locator("#summary").inner_text(),
            "conclusions": page.locator("#conclusions").inner_text(),
            "playbook": page.locator("#playbook-choice").inner_text()
            if page.locator("#playbook-choice").count()
            else "",
        }
        page.screenshot(path=str(screenshot), full_page=True)
    return {
        "url": log.url,
        "requests": log.requests,
        "console": log.console,
        "page_errors": log.errors,
        "headings": headings,
        "images": images,
        "cards": cards,
        "overflow": overflow,
        "widths": widths,
        "card_boxes": card_boxes,
        "texts": texts,
        "screenshot": screenshot,
    }


def test_every_section_heading_is_present_and_visible(visit: dict[str, Any]) -> None:
    expected = [f"{i}. {title}" for i, (_, title) in enumerate(SECTIONS, start=1)]
    assert [h["text"] for h in visit["headings"]] == expected
    assert all(h["visible"] for h in visit["headings"])
    assert visit["cards"] == 4


def test_every_figure_is_embedded_and_decoded(visit: dict[str, Any]) -> None:
    images = visit["images"]
    assert len(images) == 9
    for image in images:
        assert image["scheme"] == "data", image["alt"]
        assert image["complete"], image["alt"]
        assert image["naturalWidth"] > 0 and image["naturalHeight"] > 0, image["alt"]
        assert image["shownWidth"] > 200, image["alt"]


def test_the_page_requests_nothing_but_itself(visit: dict[str, Any]) -> None:
    others = [u for u in visit["requests"] if u != visit["url"] and not u.startswith("data:")]
    assert others == []
    assert visit["url"] in visit["requests"]


def test_no_console_error_and_no_horizontal_scroll(visit: dict[str, Any]) -> None:
    assert visit["console"] == []
    assert visit["page_errors"] == []
    assert visit["overflow"] is False


def test_full_page_screenshot_is_saved(visit: dict[str, Any]) -> None:
    png = visit["screenshot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1280
    assert height > 5_000  # seven sections of figures and tables, not a blank page


# ------------------------------------------------------------------ a hard table


@pytest.fixture(scope="module")
def hard_visit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Ten segments over 130-character column names, with a warning and an outcome."""
    frame, _ = long_names_table()
    long_outcome = "predicted_probability_of_attrition_" + "y" * 95
    frame[long_outcome] = (frame.index % 7 == 0).astype(int)
    features = [c for c in frame.columns if c.startswith("quarterly")]
    config = FitConfig(k=10, k_range=(2, 3), n_init=2, n_resamples=2, features=tuple(features))
    model = fit_segments(frame, config=config)
    # What the role and leakage checks record, set by hand on the model.
    model.warnings = [
        {
            "kind": "leakage",
            "message": f"column {features[0]!r} alone reproduces segment 3; leave it out",
            "column": features[0],
            "segment_id": 3,
            "precision": 0.99,
            "coverage": 0.99,
        }
    ]
    model.profiles["outcomes"] = {
        "columns": [long_outcome],
        "population": {long_outcome: 0.14},
        "segments": [{"id": i, "values": {long_outcome: 0.1}} for i in range(10)],
        "details": {},
    }
    written = write_report(model, frame, tmp_path_factory.mktemp("hard") / "report")
    visit = _visit(written["report.html"])
    visit["rules"] = [s.rule.get("text", "") for s in model.segments]
    visit["outcome_rate"] = float(frame[long_outcome].mean())
    return visit


def test_long_names_and_ten_segments_do_not_widen_the_page(hard_visit: dict[str, Any]) -> None:
    widths = hard_visit["widths"]
    assert widths["viewport"] == 1280
    assert widths["document"] <= widths["viewport"], widths
    assert widths["body"] <= widths["viewport"], widths
    assert hard_visit["overflow"] is False
    assert hard_visit["cards"] == 10


def test_rules_and_texts_wrap_inside_their_cards(hard_visit: dict[str, Any]) -> None:
    # The rules quote 130-character column names: the test is only meaningful if so.
    assert all(len(rule) > 130 for rule in hard_visit["rules"])
    for card in hard_visit["card_boxes"]:
        assert card["rules"] == 1
        for inner in card["inner"]:
            assert inner["left"] >= card["left"] - 0.5, inner
            assert inner["right"] <= card["right"] + 0.5, inner


def test_the_hard_page_loads_cleanly_and_shows_warnings_and_outcomes(
    hard_visit: dict[str, Any],
) -> None:
    assert hard_visit["console"] == []
    assert hard_visit["page_errors"] == []
    assert all(image["complete"] and image["naturalWidth"] > 0 for image in hard_visit["images"])
    summary = hard_visit["texts"]["summary"]
    assert "1 warning about this segmentation" in summary.casefold()
    assert "alone reproduces segment 3" in summary
    # The outcome column is in the table: its rate is measured on it.
    assert "Outcomes by segment" in summary
    assert f"all customers\t{100 * hard_visit['outcome_rate']:.1f}%" in summary
    # No domain fits these columns: neutral words, never the card business's (the line
    # on the playbook's choice names the candidates it measured, "Credit cards" among them).
    choice = hard_visit["texts"]["playbook"]
    assert choice.startswith("Playbook: Neutral playbook: no domain playbook fits")
    text = summary.replace(choice, "") + hard_visit["texts"]["conclusions"]
    assert not re.search(r"\b(card|cards|bank|banking)\b", text, re.IGNORECASE)
