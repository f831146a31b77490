"""The level shares of categorical columns in the summary and in ``profiles.csv``.

Reads only the report data's ``levels`` part
(:func:`custseg.report.data.profiles.segment_levels`); the HTML part is the template
``_levels.html``.
"""

from __future__ import annotations

from typing import Any

from .._utils.text import escape_markdown
from ._format import fmt_share

__all__ = ["LEVEL_PROFILE_COLUMNS", "level_rows", "levels_markdown"]

LEVEL_PROFILE_COLUMNS = ["level", "share", "population_share"]
"""Columns ``profiles.csv`` gains for the level rows (empty on numeric rows)."""


def levels_markdown(data: dict[str, Any]) -> list[str]:
    """The summary's lines on decisive levels: one bullet per segment that has some."""
    levels = data.get("levels")
    if not levels or not levels.get("columns"):
        return []
    thresholds = levels["decisive"]
    lines = [
        "## Categories that set segments apart",
        "",
        f"Decisive levels: held by at least {fmt_share(thresholds['share'], 0)} of the"
        f" segment and at least {thresholds['lift']:.1f}× as frequent as among all customers"
        " (share in the segment vs all customers).",
        "",
    ]
    for seg in levels["segments"]:
        parts = [
            f"{escape_markdown(d['phrase'])}"
            + (f" ({escape_markdown(d['role'])})" if d["role"] != "categorical" else "")
            + f" {fmt_share(d['share'], 0)} vs {fmt_share(d['population_share'], 0)}"
            + (f" ({len(d['columns'])} columns)" if len(d.get("columns", [])) > 1 else "")
            for d in seg["decisive"]
        ]
        text = "; ".join(parts) if parts else "none"
        lines.append(f"- {escape_markdown(seg['id'])}. {escape_markdown(seg['name'])}: {text}")
    return [*lines, ""]


def level_rows(data: dict[str, Any], columns: list[str]) -> list[dict[str, Any]]:
    """One ``profiles.csv`` row per segment, column and level (``columns`` in order)."""
    levels = data.get("levels")
    if not levels:
        return []
    return [{column: row.get(column) for column in columns} for row in levels["rows"]]
