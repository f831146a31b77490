"""Turn report data (a plain dict) into the HTML page, the figures, the summary and the profiles.

Rendering reads only the dict built by :func:`custseg.report.build_report_data`: no model,
no data frame, no randomness. The HTML page is self-contained: its styles are inline and
its figures are embedded as ``data:`` URIs, so it opens offline and requests nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._utils.text import escape_markdown
from ..exceptions import DataError
from ._audit import audit_markdown
from ._format import (
    displayed,
    fmt_int,
    fmt_label,
    fmt_metric,
    fmt_outcome,
    fmt_share,
    fmt_timestamp,
)
from ._levels import LEVEL_PROFILE_COLUMNS, level_rows, levels_markdown
from ._pages import data_uri, environment
from ._shared import REPORT_DATA_VERSION
from .data.context import NEUTRAL_CONTEXT
from .figures import render_figures

__all__ = ["RenderedReport", "render_report", "REPORT_DATA_VERSION", "SECTIONS", "PROFILE_COLUMNS"]

SECTIONS = (
    ("summary", "Executive summary"),
    ("data", "Data overview and exploration"),
    ("choosing-k", "Choosing the number of segments"),
    ("segments-2d", "The segments in two dimensions"),
    ("profiles", "Segment profiles"),
    ("evaluation", "Evaluation"),
    ("conclusions", "Conclusions and recommendations"),
)
"""``(anchor, heading)`` of every section of the HTML page, in order."""

PROFILE_COLUMNS = [
    "segment_id",
    "segment_name",
    "feature",
    "mean",
    "median",
    "lift",
    "effect_size",
    *LEVEL_PROFILE_COLUMNS,
]
"""Columns of ``profiles.csv``: one row per segment and numeric feature (``level``,
``share`` and ``population_share`` empty), then one per segment, categorical column and
level (``mean`` and ``median`` empty; ``lift`` is the share's)."""

_REQUIRED_KEYS = (
    "version",
    "title",
    "meta",
    "overview",
    "columns",
    "decisions",
    "missing",
    "distributions",
    "correlation",
    "k_selection",
    "segments",
    "projection",
    "profiles",
    "lift",
    "feature_boxes",
    "silhouette",
    "metrics",
)


# Keys added to the report data after its first layout: data without them renders
# with neutral words, no warning and no outcome table.
_OPTIONAL_KEYS: dict[str, Any] = {
    "playbook": NEUTRAL_CONTEXT,
    "warnings": [],
    "outcomes": None,
    "levels": None,
    "implausible": [],
    "audit": None,
    "rollup": None,
    "shortened_in_segments": [],
}


@dataclass(frozen=True)
class RenderedReport:
    """Everything a report consists of, in memory.

    Attributes
    ----------
    html : str
        The self-contained HTML page (figures embedded, styles inline).
    figures : dict of str to bytes
        PNG bytes of every figure, keyed by name (``"elbow"``, ``"projection"``, ...).
    summary_markdown : str
        A short Markdown summary: segments, sizes, rules, suggested strategies, quality.
    profiles : pandas.DataFrame
        One row per segment and feature, columns :data:`PROFILE_COLUMNS`.
    """

    html: str
    figures: dict[str, bytes] = field(repr=False)
    summary_markdown: str = field(repr=False)
    profiles: pd.DataFrame = field(repr=False)


def render_report(data: dict[str, Any]) -> RenderedReport:
    """Render report data into the HTML page, PNG figures, Markdown summary and profiles.

    Parameters
    ----------
    data : dict
        Report data as returned by :func:`custseg.report.build_report_data`.

    Returns
    -------
    RenderedReport
        The page, the figures, the summary and the profile table.

    Raises
    ------
    DataError
        If ``data`` is not report data of a version this custseg renders.
    """
    _check_data(data)
    # Names come from the user's table: no bidi override or control character may
    # reorder or hide what the page, the summary or a figure shows (a tab in a column
    # name also made matplotlib warn of a missing glyph).
    data = displayed({**_OPTIONAL_KEYS, **data})
    figures = render_figures(data)
    images = {name: data_uri(png) for name, png in figures.items()}
    html = (
        environment()
        .get_template("report.html")
        .render(
            data=data,
            images=images,
            sections=SECTIONS,
            shortened=shortened_names(data),
        )
    )
    return RenderedReport(
        html=html,
        figures=figures,
        summary_markdown=_summary_markdown(data),
        profiles=_profiles_table(data),
    )


def _check_data(data: Any) -> None:
    if not isinstance(data, dict):
        raise DataError(
            f"report data should be a dict, got {type(data).__name__}; build it with"
            " custseg.report.build_report_data(model, frame)"
        )
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise DataError(
            f"report data lacks the keys {missing}; build it with"
            " custseg.report.build_report_data(model, frame)"
        )
    if data["version"] != REPORT_DATA_VERSION:
        raise DataError(
            f"report data version {data['version']!r} is not {REPORT_DATA_VERSION}; rebuild it"
            " with this custseg's build_report_data"
        )
    if not data["segments"]:
        raise DataError(
            "report data has no segment; build it with"
            " custseg.report.build_report_data(model, frame)"
        )
    selection = data["k_selection"]
    if not isinstance(selection, dict) or "indices" not in selection:
        # The figure panels and the table columns of the choice of k follow this list.
        raise DataError(
            "report data's k_selection lacks the list of indices ('indices'); rebuild it"
            " with this custseg's build_report_data"
        )


def shortened_names(data: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """The column names the figures draw shortened, with their full names.

    Parameters
    ----------
    data : dict
        Report data.

    Returns
    -------
    dict
        ``{"data": [...], "profiles": [...]}``: ``(as drawn, full name)`` pairs for the
        figures of the data overview (gaps, histograms, correlations) and of the
        segment profiles (lift heatmap, box plots), in order of first appearance.
    """
    overview = [
        *(m["column"] for m in data["missing"] if m["n_missing"]),
        *(d["column"] for d in data["distributions"]),
        *data["correlation"].get("columns", []),
    ]
    profiles = [*data["lift"].get("features", []), *(b["feature"] for b in data["feature_boxes"])]
    out = {}
    for part, names in (("data", overview), ("profiles", profiles)):
        seen: dict[str, str] = {}
        for name in map(str, names):
            shown = fmt_label(name)  # what every figure draws
            if shown != name:
                seen.setdefault(name, shown)
        out[part] = [(shown, full) for full, shown in seen.items()]
    return out


def _profiles_table(data: dict[str, Any]) -> pd.DataFrame:
    rows = [{column: row.get(column) for column in PROFILE_COLUMNS} for row in data["profiles"]]
    rows += level_rows(data, PROFILE_COLUMNS)
    table = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    table["segment_id"] = table["segment_id"].astype("int64")
    for column in ("mean", "median", "lift", "effect_size", "share", "population_share"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("float64")
    return table


def _shortened_markdown(data: dict[str, Any]) -> list[str]:
    """The full names behind the labels that names and traits shorten (none: no line)."""
    if not data["shortened_in_segments"]:
        return []
    pairs = "; ".join(
        f"{_md(item['shown'])} = {_md(item['full'])}" for item in data["shortened_in_segments"]
    )
    return [f"Shortened in names and traits: {pairs}.", ""]


def _md(text: Any, *, line_start: bool = False) -> str:
    # Everything the summary quotes from the model or the data is text, never Markdown
    # or HTML: a pipe would split a table cell, "<script>" would be an element.
    return escape_markdown(text, line_start=line_start)


def _summary_markdown(data: dict[str, Any]) -> str:
    segments = data["segments"]
    overview = data["overview"]
    meta = data["meta"]
    playbook = data["playbook"]
    lines = [
        f"# {_md(data['title'])}",
        "",
        f"{fmt_int(overview['n_usable'])} customers in {len(segments)} segments"
        f" of {_md(playbook['customers'])} (custseg {_md(meta['custseg_version'])},"
        f" model created {_md(fmt_timestamp(meta['model_created_at']))}).",
        "",
    ]
    if data["rollup"]:
        lines += [_md(data["rollup"]["sentence"]), ""]
        if data["rollup"]["left_out"]:
            left = "; ".join(_md(item) for item in data["rollup"]["left_out"])
            lines += [f"Left out or netted: {left}.", ""]
    if data["warnings"]:
        warnings = [f"- **{_md(w['message'])}**" for w in data["warnings"]]
        lines += ["## Warnings", "", *warnings, ""]
    lines += [
        "| segment | name | customers | share | stability | how to recognise them |",
        "| ---: | --- | ---: | ---: | --- | --- |",
    ]
    for seg in segments:
        lines.append(
            f"| {_md(seg['id'])} | {_md(seg['name'])} | {fmt_int(seg['size'])}"
            f" | {fmt_share(seg['share'])} | {_stability_text(seg)}"
            f" | {_md(_rule_text(seg.get('rule')))} |"
        )
    lines.append("")
    lines += _shortened_markdown(data)
    if playbook.get("summary"):
        lines += [f"Names and suggestions: {_md(playbook['summary'])}", ""]
    lines += _outcomes_markdown(data)
    lines += levels_markdown(data)
    lines += _implausible_markdown(data)
    lines += ["## Segments", ""]
    for seg in segments:
        lines += [f"### {_md(seg['id'])}. {_md(seg['name'])}", ""]
        if seg.get("stability_band") == "unstable":
            lines += [
                f"**Unstable: read with care** (stability {float(seg['stability']):.2f}): resampled"
                " fits find this segment only partly, so no strategy is suggested.",
                "",
            ]
        if seg.get("description"):
            lines += [_md(seg["description"], line_start=True), ""]
        if seg.get("traits"):
            lines += [
                "Key traits:",
                "",
                *[f"- {_md(t, line_start=True)}" for t in seg["traits"]],
                "",
            ]
        if seg.get("strategies"):
            lines += [
                "Suggestions for review:",
                "",
                *[f"- {_md(s, line_start=True)}" for s in seg["strategies"]],
                "",
            ]
    lines += audit_markdown(data.get("audit"), segments)
    lines += ["## Quality", ""]
    for metric in data["metrics"]:
        lines.append(f"- {_md(metric['name'])}: {_metric_text(metric)}")
    lines += [
        "",
        f"Choice of k: {_md(data['k_selection'].get('explanation') or 'not recorded.')}",
        "",
        *_stability_note(data["k_selection"].get("segment_stability") or []),
        "> The strategies are suggestions for people to review, not decisions: they come",
        f"> from the {_md(playbook['name'])} playbook ({_md(playbook['practice'])}); check them",
        f"> against {_md(playbook['review'])} before acting.",
        "",
    ]
    return "\n".join(lines)


def _stability_text(seg: dict[str, Any]) -> str:
    """A segment's stability under resampling and its band ("0.96 highly stable")."""
    if seg.get("stability") is None:
        return "not measured"
    return f"{float(seg['stability']):.2f} {_md(seg['stability_band'])}"


def _stability_note(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    return [
        f"Stability of a segment: the mean overlap (Jaccard) between the segment and its"
        f" closest match in {fmt_int(rows[0]['resamples'])} fits on bootstrap resamples;"
        " above 0.85 highly stable, 0.75-0.85 fairly stable, 0.6-0.75 doubtful, below 0.6"
        " unstable (no strategies).",
        "",
    ]


def _metric_text(metric: dict[str, Any]) -> str:
    """The value on this table; a measure only taken at training (stability) says so."""
    unit = metric.get("unit")
    if metric.get("value") is None and metric.get("training") is not None:
        return f"{fmt_metric(metric['training'], unit)} (at training)"
    return fmt_metric(metric.get("value"), unit)


def _outcomes_markdown(data: dict[str, Any]) -> list[str]:
    outcomes = data.get("outcomes")
    if not outcomes or not outcomes.get("columns"):
        return []
    columns = outcomes["columns"]
    names = {seg["id"]: seg["name"] for seg in data["segments"]}
    head = [_md(f"{c['name']} ({'rate' if c['kind'] == 'rate' else 'mean'})") for c in columns]
    lines = [
        "## Outcomes by segment",
        "",
        "| segment | " + " | ".join(head) + " |",
        "| --- | " + " | ".join("---:" for _ in columns) + " |",
    ]
    for row in outcomes["segments"]:
        extra = row.get("cells") or [{} for _ in columns]
        cells = [
            _outcome_cell(v, c["kind"], e)
            for v, c, e in zip(row["values"], columns, extra, strict=True)
        ]
        label = f"{row['id']}. {_md(names.get(row['id'], ''))}"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    population = [
        fmt_outcome(v, c["kind"]) for v, c in zip(outcomes["population"], columns, strict=True)
    ]
    lines.append("| all customers | " + " | ".join(population) + " |")
    if any(c["source"] == "training" for c in columns):
        lines += ["", "Columns absent from this table show the figures measured at training."]
    if any(row.get("cells") for row in outcomes["segments"]):
        lines += [
            "",
            "In brackets the 95% interval and the lift (segment ÷ all customers); ▲ / ▼: "
            "significantly above / below the rest (two-sided test at 5%, Holm-corrected).",
        ]
    sentences = [s["sentence"] for s in outcomes.get("separation") or [] if s]
    lines += ["", *[f"- {_md(s)}" for s in sentences]] if sentences else []
    return [*lines, ""]


def _implausible_markdown(data: dict[str, Any]) -> list[str]:
    found = data.get("implausible") or []
    if not found:
        return []
    lines = ["## Implausible values", ""]
    for item in found:
        examples = ", ".join(f"{_md(e['id'])}: {_md(e['value'])}" for e in item["examples"])
        lines.append(
            f"- {_md(item['column'])}: {fmt_int(item['count'])} row(s) with {_md(item['rule'])}"
            f" (e.g. {examples})"
        )
    lines += ["", "These values were segmented as they are: check them at the source.", ""]
    return lines


def _outcome_cell(value: Any, kind: str, cell: dict[str, Any]) -> str:
    """A figure with its mark, interval and lift: ``55.6% ▲ (52.1%–59.0%, 3.0×)``."""
    text = fmt_outcome(value, kind)
    mark = {"above": " ▲", "below": " ▼"}.get(cell.get("direction") or "", "")
    if cell.get("low") is None or cell.get("high") is None:
        return text + mark
    lift = f", {float(cell['lift']):.1f}×" if cell.get("lift") is not None else ""
    low, high = fmt_outcome(cell["low"], kind), fmt_outcome(cell["high"], kind)
    return f"{text}{mark} ({low}–{high}{lift})"


def _rule_text(rule: Any) -> str:
    if not isinstance(rule, dict) or not rule.get("text"):
        return "–"
    text = str(rule["text"])
    if rule.get("precision") is not None:
        text += (
            f" (precision {fmt_share(rule['precision'])},"
            f" coverage {fmt_share(rule.get('coverage'))})"
        )
    return text
