"""A wide table in a real headless Chromium at 1280 px: every table holds, every chart shows.

The table: 40 categorical columns (add-ons, plans, channels, some with 60-character
names), a few numeric behaviour columns, and three outcome columns with 100-character
names (a churn flag, a response flag, a churn probability), no gap anywhere. At 1280
pixels:

- nothing is wider than the window: the document, the body and every table wrapper
  (``scrollWidth <= clientWidth``: long names wrap rather than scroll);
- no cell of one short word ("categorical", "missing") is broken across lines;
- the first column of every text table (the segment, the column, the feature) is at
  least 150 px wide, so "3 · Month-to-month customers" reads on one or two lines, not
  three letters a line;
- every image is decoded with a non-zero natural size, and none is an empty chart
  (each holds coloured marks, not only a grey note): with no gap, no missing-values
  chart is drawn and the page says so.

A full-page screenshot is saved next to the page (``report-screenshot.png``) for
people to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from _chromium import opened
from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.report import write_report

MIN_FIRST_COLUMN_PX = 150
OUTCOMES = (
    "churned_within_the_next_quarter_flag_as_recorded_by_the_retention_team_after_the_contract_review_xyz",
    "responded_to_the_last_cross_sell_campaign_flag_as_recorded_by_the_marketing_team_in_the_crm_export_2",
    "predicted_probability_of_churn_from_the_previous_vendor_model_version_three_calibrated_on_last_year1",
)


def wide_categorical_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Three groups of customers over 40 categorical columns and 3 long-named outcomes."""
    rng = np.random.default_rng(seed)
    group = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    columns: dict[str, Any] = {"customer_id": [f"CU-{i:06d}" for i in range(n)]}
    columns["monthly_spend"] = np.round(rng.gamma(2.0, 30.0, n) * (1 + 2 * (group == 1)), 2)
    columns["visits_last_90_days"] = rng.poisson(3 + 8 * (group == 2), n)
    columns["tenure_months"] = rng.integers(1, 72, n)
    for j in range(40):
        name = (
            f"addon_{j:02d}"
            if j % 4
            else f"service_option_{j:02d}_subscribed_through_the_partner_shop"
        )
        no_service = group == 0
        yes = rng.random(n) < (0.2 + 0.6 * (group == 1))
        columns[name] = np.where(
            no_service & (j % 2 == 0), "No service", np.where(yes, "Yes", "No")
        )
    churn = rng.random(n) < np.where(group == 2, 0.45, 0.08)
    columns[OUTCOMES[0]] = churn.astype(int)
    columns[OUTCOMES[1]] = (rng.random(n) < np.where(group == 1, 0.3, 0.05)).astype(int)
    columns[OUTCOMES[2]] = np.clip(0.1 + 0.5 * churn + rng.normal(0, 0.1, n), 0, 1).round(3)
    return pd.DataFrame(columns)


_TABLES = r"""() => Array.from(document.querySelectorAll('table')).map(table => {
    const wrapper = table.closest('.scroll');
    const first = table.querySelector('tr > *:first-child');
    const head = table.querySelector('thead th');
    return {
        head: head ? head.innerText.trim() : '',
        numeric: first ? first.classList.contains('num') : true,
        firstWidth: first ? first.getBoundingClientRect().width : 0,
        tableWidth: table.getBoundingClientRect().width,
        wrapper: wrapper ? {scroll: wrapper.scrollWidth, client: wrapper.clientWidth} : null,
        // Cells of one short word ("categorical", "missing") drawn on more than one line.
        broken: Array.from(table.querySelectorAll('th, td')).filter(cell => {
            const text = cell.innerText.trim();
            if (!/^[^\s\-–_]{1,14}$/.test(text)) return false;
            const range = document.createRange();
            range.selectNodeContents(cell);
            const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
            return lines.size > 1;
        }).map(cell => cell.innerText.trim()),
    };
})"""

# Share of pixels with colour (not white, not grey) in each image: a chart draws
# coloured marks, an empty one only a grey note.
_COLOURED = """() => Array.from(document.images).map(img => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let coloured = 0;
    for (let i = 0; i < pixels.length; i += 4) {
        const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
        if (Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
    }
    return {alt: img.alt, complete: img.complete, width: img.naturalWidth,
            height: img.naturalHeight, coloured: coloured / (pixels.length / 4)};
})"""


@pytest.fixture(scope="module")
def wide_visit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    frame = wide_categorical_table()
    config = FitConfig(k=3, k_range=(2, 4), n_init=2, n_resamples=2, random_state=0)
    model = fit_segments(frame, config=config)
    written = write_report(model, frame, tmp_path_factory.mktemp("wide") / "report")
    page_path: Path = written["report.html"]
    screenshot = page_path.parent / "report-screenshot.png"
    with opened(page_path, width=1280) as (page, log):
        # Open the folded parts (full names, decisions) so their tables are measured too.
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        visit = {
            "widths": page.evaluate(
                "() => ({document: document.documentElement.scrollWidth,"
                " body: document.body.scrollWidth, client: document.documentElement.clientWidth,"
                " viewport: window.innerWidth})"
            ),
            "tables": page.evaluate(_TABLES),
            "images": page.evaluate(_COLOURED),
            "data_text": page.locator("#data").inner_text(),
            "summary_text": page.locator("#summary").inner_text(),
            "console": log.console,
            "errors": log.errors,
        }
        page.screenshot(path=str(screenshot), full_page=True)
    visit["screenshot"] = screenshot
    visit["model"] = model
    return visit


def test_the_table_is_the_hard_case(wide_visit: dict[str, Any]) -> None:
    model = wide_visit["model"]
    categorical = [c for c in model.schema.columns if c.role == "categorical"]
    assert len(categorical) >= 30  # others may become descriptors or be grouped
    assert all(len(name) == 100 for name in OUTCOMES)
    assert "Outcomes by segment" in wide_visit["summary_text"]


def test_nothing_is_wider_than_the_window(wide_visit: dict[str, Any]) -> None:
    widths = wide_visit["widths"]
    assert widths["viewport"] == 1280
    assert widths["document"] <= widths["client"], widths
    assert widths["body"] <= widths["client"], widths
    for table in wide_visit["tables"]:
        assert table["wrapper"] is not None, table["head"]  # every table has its wrapper
        assert table["wrapper"]["scroll"] <= table["wrapper"]["client"], table


def test_the_first_column_of_every_table_stays_readable(wide_visit: dict[str, Any]) -> None:
    texts = [t for t in wide_visit["tables"] if not t["numeric"]]
    assert any(t["head"] == "segment" for t in texts)  # the outcome table is among them
    for table in texts:
        assert table["firstWidth"] >= MIN_FIRST_COLUMN_PX, table


def test_no_short_word_is_broken_inside_a_cell(wide_visit: dict[str, Any]) -> None:
    assert [t["broken"] for t in wide_visit["tables"]] == [[] for _ in wide_visit["tables"]]


def test_every_image_is_a_drawn_chart(wide_visit: dict[str, Any]) -> None:
    images = wide_visit["images"]
    assert len(images) >= 8
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
        assert image["coloured"] > 0.005, image  # not a blank figure with a note
    assert not any("missing values" in image["alt"] for image in images)
    assert "No missing values: every one of the" in wide_visit["data_text"]


def test_the_page_loads_cleanly_and_the_screenshot_is_saved(wide_visit: dict[str, Any]) -> None:
    assert wide_visit["console"] == []
    assert wide_visit["errors"] == []
    png = wide_visit["screenshot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
