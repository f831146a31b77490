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

import numpy as np
import pytest

from custseg.exceptions import CustsegError, DataError
from custseg.report import RenderedReport, render_report
from custseg.report._format import fmt_int, fmt_lift, fmt_number, fmt_share, fmt_timestamp
from custseg.report.figures import FIGURE_NAMES, elbow_figure
from custseg.report.figures._canvas import LinearTicks
from custseg.report.render import PROFILE_COLUMNS, SECTIONS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The registry's three indices as KIndex.describe() gives them.
INDICES = [
    {
        "name": "silhouette",
        "label": "Silhouette",
        "direction": "higher",
        "title": "Silhouette (higher is better)",
        "votes": True,
    },
    {
        "name": "calinski_harabasz",
        "label": "Calinski–Harabasz",
        "direction": "higher",
        "title": "Calinski–Harabasz (higher is better)",
        "votes": True,
    },
    {
        "name": "davies_bouldin",
        "label": "Davies–Bouldin",
        "direction": "lower",
        "title": "Davies–Bouldin (lower is better)",
        "votes": True,
    },
]


def hand_made_report_data(k: int = 3, seed: int = 7) -> dict[str, Any]:
    """Report data for a small made-up segmentation, in the layout of build_report_data."""
    rng = np.random.default_rng(seed)
    names = ["Transactors", "Revolvers | heavy", "Cash-advance reliant", "Dormant"][:k]
    colors = ["#0173b2", "#de8f05", "#029e73", "#d55e00"][:k]
    sizes = [520, 310, 170, 90][:k]
    n = sum(sizes)
    features = ["BALANCE", "PURCHASES", "CASH_ADVANCE", "PRC_FULL_PAYMENT", "TENURE"]
    profiles = []
    for s in range(k):
        for j, feature in enumerate(features):
            population = 100.0 * (j + 1)
            lift = float(np.exp(rng.normal(0, 0.8)))
            profiles.append(
                {
                    "segment_id": s,
                    "segment_name": names[s],
                    "feature": feature,
                    "mean": population * lift,
                    "median": population * lift * 0.8,
                    "population_mean": population,
                    "lift": lift,
                    "effect_size": float(np.log(lift)),
                    "used_for_clustering": True,
                }
            )
    segments = []
    for s in range(k):
        mine = [p for p in profiles if p["segment_id"] == s]
        top = sorted(mine, key=lambda p: -abs(p["effect_size"]))[:3]
        segments.append(
            {
                "id": s,
                "name": names[s],
                "size": sizes[s],
                "share": sizes[s] / n,
                "training_share": sizes[s] / n,
                "description": f"Segment {s} customers <b>behave</b> alike.",
                "traits": [f"high {top[0]['feature'].lower()}", "pays in full"],
                "rule": {
                    "text": "PURCHASES > 1,000 and CASH_ADVANCE <= 50",
                    "precision": 0.91,
                    "coverage": 0.78,
                },
                "strategies": [f"Offer cashback rewards to segment {s}", "Review credit limits"],
                "color": colors[s],
                "top_profile": top,
            }
        )
    labels = np.repeat(np.arange(k), sizes)
    centres = rng.normal(0, 3, size=(k, 2))
    points = centres[labels] + rng.normal(0, 1, size=(n, 2))
    money = rng.lognormal(6, 1.5, size=n)
    money_edges = np.expm1(np.linspace(0, np.log1p(money.max()), 31))
    share = rng.uniform(0, 1, size=n)
    share_edges = np.linspace(0, 1, 31)
    candidates = [
        {
            "k": kk,
            "inertia": 10_000 / kk + 100 * kk,
            "silhouette": 0.2 + 0.02 * (kk == 4),
            "calinski_harabasz": 1500 - 50 * kk,
            "davies_bouldin": 1.2 + 0.05 * kk,
            "stability_ari": None if kk == 9 else 0.9 - 0.03 * kk,
            "min_share": 0.3 / kk,
            "excluded_because": "smallest segment 3.3% < 5.0%" if kk == 9 else None,
            "votes": ["best silhouette", "knee"] if kk == 4 else [],
        }
        for kk in range(2, 10)
    ]
    return {
        "version": 1,
        "title": "Customer segments report",
        "meta": {
            "custseg_version": "0.1.0",
            "model_version": "0.1.0",
            "model_created_at": "2024-05-01T10:00:00+00:00",
            "k": k,
            "training_rows": n,
            "random_state": 0,
        },
        "overview": {
            "n_rows": n + 2,
            "n_columns": len(features) + 1,
            "n_usable": n,
            "n_rejected": 2,
            "rejection_examples": ["PURCHASES: 'abc' is not a number"],
            "n_features_prepared": len(features),
            "id_column": "CUST_ID",
        },
        "columns": [
            {
                "name": "CUST_ID",
                "role": "id",
                "dtype": "str",
                "reason": "unique text values",
                "n_missing": 0,
                "share_missing": 0.0,
            }
        ]
        + [
            {
                "name": f,
                "role": "numeric",
                "dtype": "float64",
                "reason": "numbers",
                "n_missing": 3 * i,
                "share_missing": 3 * i / n,
            }
            for i, f in enumerate(features)
        ],
        "decisions": ["BALANCE: log1p because its skewness 2.4 is above 1"],
        "missing": [
            {"column": f, "n_missing": 3 * i, "share": 3 * i / n} for i, f in enumerate(features)
        ],
        "distributions": [
            {
                "column": "BALANCE",
                "edges": money_edges.tolist(),
                "counts": np.histogram(money, bins=money_edges)[0].tolist(),
                "log_scale": True,
                "skewness": 5.0,
                "median": float(np.median(money)),
            },
            {
                "column": "PRC_FULL_PAYMENT",
                "edges": share_edges.tolist(),
                "counts": np.histogram(share, bins=share_edges)[0].tolist(),
                "log_scale": False,
                "skewness": 0.1,
                "median": 0.5,
            },
        ],
        "correlation": {
            "method": "spearman",
            "columns": features,
            "matrix": np.corrcoef(rng.normal(size=(len(features), 50))).tolist(),
        },
        "k_selection": {
            "indices": copy.deepcopy(INDICES),
            "candidates": candidates,
            "knee": 4,
            "recommended_k": 4,
            "chosen_k": k,
            "explanation": "k = 4 is where the elbow bends and the silhouette peaks.",
            "rule": "the k with most votes among the stable k",
            "rows_used": 20_000,
            "sampled": True,
        },
        "segments": segments,
        "projection": {
            "x": points[:, 0].tolist(),
            "y": points[:, 1].tolist(),
            "labels": labels.tolist(),
            "centroids": centres.tolist(),
            "explained_variance_ratio": [0.41, 0.22],
            "n_drawn": n,
            "n_total": n,
        },
        "profiles": profiles,
        "lift": {
            "features": features,
            "segments": names,
            "matrix": [
                [
                    next(
                        p["lift"]
                        for p in profiles
                        if p["segment_id"] == s and p["feature"] == feature
                    )
                    for s in range(k)
                ]
                for feature in features
            ],
        },
        "feature_boxes": [
            {
                "feature": feature,
                "log_scale": feature != "PRC_FULL_PAYMENT",
                "boxes": [
                    {
                        "segment_id": s,
                        "q1": 10.0 * (s + 1),
                        "median": 30.0 * (s + 1),
                        "q3": 90.0 * (s + 1),
                        "low": 0.0,
                        "high": 900.0 * (s + 1),
                        "mean": 60.0 * (s + 1),
                    }
                    for s in range(k)
                ],
            }
            for feature in features[:4]
        ],
        "silhouette": {
            "value": 0.31,
            "exact": False,
            "sample_size": n,
            "ci_low": 0.29,
            "ci_high": 0.33,
            "per_segment": [0.3] * k,
            "values_by_segment": [
                sorted(rng.uniform(-0.1, 0.7, size=size).round(4).tolist(), reverse=True)
                for size in sizes
            ],
            "n_plotted": n,
        },
        "metrics": [
            {
                "name": "Customers segmented",
                "unit": "count",
                "value": n,
                "training": n,
                "detail": "",
                "explanation": "rows placed in a segment",
            },
            {
                "name": "Silhouette",
                "unit": "number",
                "value": 0.31,
                "training": 0.3,
                "detail": "estimated on 1,000 customers",
                "explanation": "closer to the own segment than to the next",
            },
            {
                "name": "Smallest segment share",
                "unit": "share",
                "value": 0.17,
                "training": 0.17,
                "detail": "",
                "explanation": "tiny segments are hard to act on",
            },
        ],
    }


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
