"""The written report in a real headless Chromium (Debian's /usr/bin/chromium).

The page must read well offline: every section heading visible, every figure decoded,
no console error and no request other than the file itself and data: URIs. A full-page
screenshot is saved in the test's temporary folder for people to look at.
"""

from __future__ import annotations

import struct
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import ConsoleMessage, Request, sync_playwright

from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.report import write_report
from custseg.report.render import SECTIONS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


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
    requests: list[str] = []
    console: list[str] = []
    page_errors: list[str] = []
    screenshot = report_html.parent / "report-screenshot.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def on_console(message: ConsoleMessage) -> None:
                if message.type in {"error", "warning"}:
                    console.append(f"{message.type}: {message.text}")

            def on_request(request: Request) -> None:
                requests.append(request.url)

            page.on("console", on_console)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("request", on_request)
            url = report_html.resolve().as_uri()
            page.goto(url, wait_until="load")
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
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth > window.innerWidth"
            )
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {
        "url": url,
        "requests": requests,
        "console": console,
        "page_errors": page_errors,
        "headings": headings,
        "images": images,
        "cards": cards,
        "overflow": overflow,
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
