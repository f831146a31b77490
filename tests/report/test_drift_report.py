"""The drift report and the lineage section of the segmentation report.

The drift page is opened in a real headless Chromium (Debian's /usr/bin/chromium), like
the main report: every section visible, every figure decoded, nothing requested but the
file itself, no console error, no horizontal scroll.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _chromium import opened
from _over_time import MONEY, bootstrap, sample, shifted, stable_model
from custseg import FitConfig, fit_segments
from custseg.exceptions import DataError
from custseg.report import build_report_data, write_report
from custseg.report.drift import DRIFT_SECTIONS, render_drift_report, write_drift_report
from custseg.report.figures.drift import bin_labels
from custseg.scoring import check_drift


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = check_drift(stable_model(), shifted(0))
    return write_drift_report(document, tmp_path_factory.mktemp("drift") / "drift.html")


@pytest.fixture(scope="module")
def visit(page: Path) -> dict[str, Any]:
    screenshot = page.with_name("drift-screenshot.png")
    with opened(page) as (tab, log):
        headings = [
            (" ".join(h.inner_text().split()), h.is_visible())
            for h in tab.locator("section > h2").all()
        ]
        images = tab.evaluate(
            """() => Array.from(document.images).map(img => ({
                alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
                shownWidth: img.getBoundingClientRect().width,
                scheme: img.src.split(':')[0]}))"""
        )
        verdict = tab.locator(".verdict").inner_text()
        overflow = tab.evaluate("() => document.documentElement.scrollWidth > innerWidth")
        tab.screenshot(path=str(screenshot), full_page=True)
    return {
        "url": log.url,
        "requests": log.requests,
        "console": log.console,
        "errors": log.errors,
        "headings": headings,
        "images": images,
        "verdict": verdict,
        "overflow": overflow,
        "screenshot": screenshot,
    }


def test_the_drift_page_reads_well_offline_in_chromium(visit):
    expected = [f"{i}. {title}" for i, (_, title) in enumerate(DRIFT_SECTIONS, start=1)]
    assert [text for text, _ in visit["headings"]] == expected
    assert all(shown for _, shown in visit["headings"])
    # One chart per drifting feature (the eight money columns) and the segment shares.
    assert len(visit["images"]) == len(MONEY) + 1
    for image in visit["images"]:
        assert image["scheme"] == "data" and image["complete"], image["alt"]
        assert image["naturalWidth"] > 0 and image["shownWidth"] > 200, image["alt"]
    assert sorted(i["alt"] for i in visit["images"][:-1]) == sorted(
        f"{name} at training and now" for name in MONEY
    )
    assert visit["verdict"].startswith("RED")
    assert "retrain recommended: 8 features red" in visit["verdict"]
    others = [u for u in visit["requests"] if u != visit["url"] and not u.startswith("data:")]
    assert others == [] and visit["url"] in visit["requests"]
    assert visit["console"] == [] and visit["errors"] == []
    assert visit["overflow"] is False
    png = visit["screenshot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24])[0] == 1280


def test_a_green_check_draws_only_the_shares_and_says_so():
    rendered = render_drift_report(check_drift(stable_model(), bootstrap(1)))
    assert list(rendered.figures) == ["segment_shares"]
    assert "No feature drifts" in rendered.html and "<b>green</b>" in rendered.html
    with pytest.raises(DataError, match="not a drift document"):
        render_drift_report({"verdict": "?"})


def test_bin_labels_read_like_ranges():
    edges = [0.0, float(np.nextafter(0.0, 1.0)), 100.0, 2_500.0]
    assert bin_labels({"edges": edges, "then": [0] * 6, "now": [0] * 6}) == [
        "< 0",
        "= 0",
        "> 0–100",
        "100–2.5k",
        "≥ 2.5k",
        "missing",
    ]
    twelve = float(np.nextafter(12.0, 13.0))
    assert bin_labels({"edges": [10.0, 12.0, twelve]})[-3:] == ["= 12", "> 12", "missing"]
    assert bin_labels({"levels": ["web", "app"]}) == ["web", "app", "other", "missing"]


def test_the_segmentation_report_shows_the_lineage(tmp_path):
    frame = sample().sample(n=1_500, random_state=0).reset_index(drop=True)
    config = FitConfig(k=4, k_range=(4, 4), n_init=2, n_resamples=1, random_state=0)
    previous = fit_segments(frame, config=config)
    later = frame.sample(frac=1.0, replace=True, random_state=1).reset_index(drop=True)
    later["CUST_ID"] = [f"L{i}" for i in range(len(later))]
    model = fit_segments(later, config=config, previous=previous)
    page = write_report(model, later, tmp_path)["report.html"].read_text(encoding="utf-8")
    assert "Compared with the previous model" in page
    assert model.lineage is not None
    short = model.lineage.previous_checksum.removeprefix("sha256:")[:12]
    assert short in page
    for old in model.lineage.retired:
        assert f"{old} · {previous.segments[old].name}" in page
    # A status may carry a note (the name the playbook would give the segment now).
    statuses = re.findall(r"<td>(kept|renumbered|new)(?:<br>|</td>)", page)
    assert len(statuses) - statuses.count("new") == len(model.lineage.matched)
    assert statuses.count("new") == len(model.lineage.new)
    assert build_report_data(previous, frame.head(200))["lineage"] is None
