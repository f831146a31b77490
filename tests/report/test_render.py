"""Rendering of report data: figures, HTML page, Markdown summary and profile table.

These tests start from hand-made report data shaped exactly like the output of
``build_report_data`` so that rendering is tested on its own, including edge cases
(no missing values, no record of k, one-segment silhouettes) that a real fit rarely
produces.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import struct
import subprocess
import sys
from html.parser import HTMLParser
from typing import Any

import pytest

from _report_data import INDICES, hand_made_report_data
from custseg.exceptions import CustsegError, DataError
from custseg.report import RenderedReport, render_report
from custseg.report._format import fmt_int, fmt_lift, fmt_number, fmt_share, fmt_timestamp
from custseg.report.figures import FIGURE_NAMES, elbow_figure
from custseg.report.figures._canvas import LinearTicks
from custseg.report.render import PROFILE_COLUMNS, SECTIONS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rendered() -> RenderedReport:
    return render_report(hand_made_report_data())


class _Page(HTMLParser):
    """Collects headings, image sources and every URL-bearing attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.images: list[str] = []
        self.urls: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href", "srcset", "action", "poster", "data"} and value:
                self.urls.append(value)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        if tag in {"script", "link", "iframe", "object", "embed"}:
            self.urls.append(f"<{tag}>")
        self._in_h2 = tag == "h2"
        if self._in_h2:
            self.h2.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2[-1] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_every_figure_is_a_real_png_of_sensible_size(rendered: RenderedReport) -> None:
    assert list(rendered.figures) == list(FIGURE_NAMES)
    for name, png in rendered.figures.items():
        width, height = _png_size(png)
        assert 300 <= width <= 2000, (name, width)
        assert 150 <= height <= 3000, (name, height)


def test_page_has_the_seven_sections_in_order(rendered: RenderedReport) -> None:
    page = _parse(rendered.html)
    headings = [re.sub(r"\s+", " ", h).strip() for h in page.h2]
    assert headings == [f"{i}. {title}" for i, (_, title) in enumerate(SECTIONS, start=1)]
    for anchor, _ in SECTIONS:
        assert f'<section id="{anchor}">' in rendered.html
        assert f'href="#{anchor}"' in rendered.html


def test_page_embeds_the_figures_and_requests_nothing(rendered: RenderedReport) -> None:
    page = _parse(rendered.html)
    embedded = {base64.b64decode(src.removeprefix("data:image/png;base64,")) for src in page.images}
    assert embedded == set(rendered.figures.values())
    for url in page.urls:
        assert url.startswith(("data:image/png;base64,", "#")), url[:80]
    assert "@import" not in rendered.html
    assert "url(" not in rendered.html


def test_page_shows_segment_cards_with_formatted_numbers(rendered: RenderedReport) -> None:
    html = rendered.html
    data = hand_made_report_data()
    for seg in data["segments"]:
        assert seg["name"] in html
        assert f"{seg['size']:,} customers · {100 * seg['share']:.1f}% of the total" in html
        for strategy in seg["strategies"]:
            assert strategy in html
    assert "precision 91.0%" in html and "coverage 78.0%" in html
    assert html.count("Suggestions for review") == len(data["segments"])
    assert "suggestions for people to review" in html
    assert "<b>1,002</b>rows in the table" in html  # thousands separator
    assert "2024-05-01 10:00 UTC" in html


def test_k_table_marks_the_recommendation_and_the_set_aside(rendered: RenderedReport) -> None:
    text = " ".join(rendered.html.split())
    assert '<tr class="highlight">' in text
    assert "4 ★" in text
    assert "set aside: smallest segment 3.3% &lt; 5.0%" in text
    assert "best silhouette, knee" in text
    assert "compared on a random sample of 20,000 customers" in text


def test_page_escapes_text_from_the_model(rendered: RenderedReport) -> None:
    assert "<b>behave</b>" not in rendered.html
    assert "&lt;b&gt;behave&lt;/b&gt;" in rendered.html


def test_rendering_is_deterministic(rendered: RenderedReport) -> None:
    again = render_report(hand_made_report_data())
    assert again.html == rendered.html
    assert again.figures == rendered.figures
    assert again.summary_markdown == rendered.summary_markdown


def test_summary_markdown_lists_segments_rules_and_the_caveat(rendered: RenderedReport) -> None:
    text = rendered.summary_markdown
    assert text.startswith("# Customer segments report\n")
    assert "| 1 | Revolvers \\| heavy | 310 | 31.0% |" in text
    assert "(precision 91.0%, coverage 78.0%)" in text
    assert text.count("Suggestions for review:") == 3
    assert "suggestions for people to review" in text
    assert "- Smallest segment share: 17.0%" in text
    assert "- Customers segmented: 1,000" in text


def test_profiles_table_has_one_row_per_segment_and_feature(rendered: RenderedReport) -> None:
    table = rendered.profiles
    assert list(table.columns) == PROFILE_COLUMNS
    assert len(table) == 3 * 5
    assert not table.duplicated(["segment_id", "feature"]).any()
    assert str(table["segment_id"].dtype) == "int64"
    assert str(table["lift"].dtype) == "float64"


def test_figures_render_when_the_data_has_nothing_to_show() -> None:
    data = hand_made_report_data()
    data["missing"] = [{"column": "A", "n_missing": 0, "share": 0.0}]
    data["distributions"] = []
    data["correlation"] = {"method": "spearman", "columns": [], "matrix": []}
    data["k_selection"] = {
        "indices": copy.deepcopy(INDICES),
        "candidates": [],
        "knee": None,
        "recommended_k": None,
        "chosen_k": 3,
        "explanation": "Chosen by the analyst.",
        "rule": None,
        "rows_used": None,
        "sampled": False,
    }
    data["feature_boxes"] = []
    data["silhouette"] = {
        **data["silhouette"],
        "value": None,
        "values_by_segment": [[], [], []],
        "n_plotted": 0,
    }
    result = render_report(data)
    assert all(png.startswith(PNG_SIGNATURE) for png in result.figures.values())
    assert "Chosen by the analyst." in result.html
    # Without candidates there is no table of k values.
    assert "Calinski–Harabasz</th>" not in result.html


def test_knee_missing_is_said_not_failed(rendered: RenderedReport) -> None:
    selection = hand_made_report_data()["k_selection"]
    without = elbow_figure({**selection, "knee": None})
    assert without.startswith(PNG_SIGNATURE)
    assert without != rendered.figures["elbow"]


def test_recommended_and_chosen_k_differ_is_explained(rendered: RenderedReport) -> None:
    text = " ".join(rendered.html.split())
    assert "recommended k = 4, and the model was fitted with k = 3 as requested" in text


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([1, 2], "report data should be a dict, got list"),
        ({"version": 1}, "report data lacks the keys"),
        ({**hand_made_report_data(), "version": 99}, "report data version 99 is not 1"),
        ({**hand_made_report_data(), "segments": []}, "report data has no segment"),
        (
            {**hand_made_report_data(), "k_selection": {"candidates": []}},
            "k_selection lacks the list of indices",
        ),
    ],
)
def test_invalid_report_data_is_refused_with_one_line(data: Any, match: str) -> None:
    with pytest.raises(DataError, match=match) as info:
        render_report(copy.deepcopy(data))
    assert isinstance(info.value, CustsegError)
    assert "\n" not in str(info.value)
    assert "build_report_data" in str(info.value)


def test_drawing_leaves_pyplot_and_global_style_alone() -> None:
    # A fresh interpreter: importing and rendering must not import pyplot (which would
    # pick a GUI backend) nor leave style changes behind.
    script = (
        "import sys, json, matplotlib\n"
        "before = (matplotlib.rcParams['font.size'], matplotlib.rcParams['axes.spines.top'])\n"
        "from custseg.report.figures import elbow_figure\n"
        "png = elbow_figure({'candidates': [{'k': 2, 'inertia': 5.0}, {'k': 3, 'inertia': 3.0},"
        " {'k': 4, 'inertia': 2.5}], 'knee': 3, 'recommended_k': 3})\n"
        "after = (matplotlib.rcParams['font.size'], matplotlib.rcParams['axes.spines.top'])\n"
        "print(json.dumps({'pyplot': 'matplotlib.pyplot' in sys.modules,"
        " 'seaborn': 'seaborn' in sys.modules, 'same': before == after,"
        " 'png': png[:8] == b'\\x89PNG\\r\\n\\x1a\\n'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == {
        "pyplot": False,
        "seaborn": False,
        "same": True,
        "png": True,
    }


def test_tick_labels_stay_distinct_for_close_ticks() -> None:
    ticks = LinearTicks()
    locs = [0.2, 0.2025, 0.205, 0.2075, 0.21]
    ticks.set_locs(locs)
    labels = [ticks(v) for v in locs]
    assert labels == ["0.2000", "0.2025", "0.2050", "0.2075", "0.2100"]
    big = [1_000.0, 1_050.0, 1_100.0]
    ticks.set_locs(big)
    assert [ticks(v) for v in big] == ["1,000", "1,050", "1,100"]
    large = [0.0, 25_000.0, 50_000.0]
    ticks.set_locs(large)
    assert [ticks(v) for v in large] == ["0", "25k", "50k"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12_345.6, "12,346"),
        (42.13, "42.1"),
        (3.14159, "3.14"),
        (0.012345, "0.0123"),
        (-0.5, "-0.500"),
        (0, "0"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_numbers_are_formatted_for_a_business_reader(value: Any, expected: str) -> None:
    assert fmt_number(value) == expected


def test_counts_shares_and_lifts_are_formatted() -> None:
    assert fmt_int(8950) == "8,950"
    assert fmt_share(0.1234) == "12.3%"
    assert fmt_lift(2.345) == "2.35×"
    assert fmt_lift(12.34) == "12.3×"
    assert fmt_share(None) == "–"
    assert fmt_timestamp("2024-05-01T12:00:00+02:00") == "2024-05-01 10:00 UTC"
    assert fmt_timestamp("yesterday") == "yesterday"


HOSTILE_NAMES = {
    "BALANCE": '=HYPERLINK("http://x","click")\u202e',
    "PURCHASES": "<script>alert(1)</script>",
    "CASH_ADVANCE": "a|b\tc",
    "TENURE": "**bold** [x](http://y)",
    "Transactors": "<img src=x onerror=alert(1)>\u2066",
}


def _hostile_report_data() -> dict[str, Any]:
    text = json.dumps(hand_made_report_data())
    for plain, hostile in HOSTILE_NAMES.items():
        text = text.replace(plain, json.dumps(hostile)[1:-1])
    return json.loads(text)


def test_hostile_names_render_as_text_everywhere() -> None:
    from markdown_it import MarkdownIt

    # Warnings are errors here: a tab once made matplotlib warn of a missing glyph.
    rendered = render_report(_hostile_report_data())
    bidi = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
    for text in (rendered.html, rendered.summary_markdown):
        assert not bidi & set(text)
        assert "\t" not in text
    page = _parse(rendered.html)
    assert not [u for u in page.urls if not u.startswith(("data:image/png;base64,", "#"))]
    assert "<script" not in rendered.html and "<img src=x" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(rendered.summary_markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_inline", "html_block", "link_open", "image"}
    assert "<strong>bold</strong>" not in parser.render(rendered.summary_markdown)
    cells: list[int] = []
    for token in tokens:
        if token.type == "tr_open":
            cells.append(0)
        elif token.type in ("th_open", "td_open"):
            cells[-1] += 1
    assert cells and set(cells) == {6}  # segment, name, customers, share, stability, rule
    assert not rendered.profiles["feature"].str.contains("\u202e").any()


def test_dollar_signs_in_names_are_drawn_as_text_not_as_mathtext() -> None:
    # Matplotlib reads "$...$" as TeX: an unknown macro raised ValueError mid-report.
    data = json.loads(
        json.dumps(hand_made_report_data())
        .replace("BALANCE", "spend $\\\\undefinedmacro{x}$ usd")
        .replace("Transactors", "$_$ buyers $x^2$")
    )
    rendered = render_report(data)
    assert set(rendered.figures) == set(FIGURE_NAMES)
