"""The sensitive-attribute audit in ``summary.md`` (the page has ``templates/_audit.html``)."""

from __future__ import annotations

from typing import Any

from .._utils.text import escape_markdown
from ._format import fmt_lift, fmt_number, fmt_share

__all__ = ["REVIEW_WORDS", "audit_markdown"]

REVIEW_WORDS = (
    "Segments can proxy protected characteristics (sex or gender, age, marital status, race"
    " or ethnicity, religion, nationality, disability) even when they were not formed on"
    " them. Review their composition before using the segments in credit or pricing"
    " decisions: equal-credit and anti-discrimination rules forbid treating customers"
    " differently because of these characteristics, directly or through a proxy."
)
"""The plain words both the page and the summary open the audit with."""


def _md(text: Any) -> str:
    return escape_markdown(text)


def audit_markdown(audit: dict[str, Any] | None, segments: list[dict[str, Any]]) -> list[str]:
    """The "Protected characteristics" part of ``summary.md``, as lines.

    Parameters
    ----------
    audit : dict or None
        The report data's ``audit`` (``None`` for a model fitted without one).
    segments : list of dict
        The report data's segments (``id`` and ``name``).

    Returns
    -------
    list of str
        Markdown lines ending with an empty line.
    """
    lines = ["## Protected characteristics", "", REVIEW_WORDS, ""]
    if audit is None:
        return [*lines, "This model was fitted without the audit; refit it to see it.", ""]
    if not audit.get("found"):
        return [
            *lines,
            "No column of this table was recognised as a protected characteristic:"
            " there is nothing to audit.",
            "",
        ]
    if audit["flag_texts"]:
        lines += [
            "Segments departing strongly from all customers:",
            "",
            *[f"- **{_md(text)}**" for text in audit["flag_texts"]],
            "",
        ]
    else:
        lines += ["No segment departs strongly from the population on these characteristics.", ""]
    if audit.get("source") == "training":
        lines += [
            "These columns are not all in this table: the figures were measured at training.",
            "",
        ]
    names = {seg["id"]: seg["name"] for seg in segments}
    for entry in audit["characteristics"]:
        lines += _characteristic_lines(entry, names)
    lines += [
        "A level is flagged when its share in a segment is below"
        f" {audit['rule']['ratio_range'][0]:g} or above {audit['rule']['ratio_range'][1]:g} times"
        " its share among all customers (on levels holding at least"
        f" {fmt_share(audit['rule']['min_population_share'], 0)} of the customers, on cells of"
        f" at least {audit['rule']['min_count']} customers and with a gap beyond chance);"
        " Cramér's V (bias-corrected) measures how much the segments differ overall"
        " (below 0.10 negligible, 0.30 and above strong).",
        "",
    ]
    return lines


def _characteristic_lines(entry: dict[str, Any], names: dict[Any, Any]) -> list[str]:
    clustered = "segments formed on it" if entry["clustered"] else "not clustered on"
    v = f"{entry['cramers_v']:.2f}" if entry["cramers_v"] is not None else "not measurable"
    note = f"; {entry['note']}" if entry.get("note") else ""
    ages = entry.get("ages")
    head = ["segment", *(["mean age", "median age"] if ages else []), *entry["levels"]]
    lines = [
        f"### {_md(entry['column'])} ({_md(entry['characteristic'])}; {clustered};"
        f" Cramér's V {v}, {entry['strength']}{_md(note)})",
        "",
        "| " + " | ".join(_md(h) for h in head) + " |",
        "| --- | " + " | ".join("---:" for _ in head[1:]) + " |",
    ]
    for row in entry["segments"]:
        cells = [f"{row['id']}. {_md(names.get(row['id'], ''))}"]
        if ages:
            stats = ages["segments"][row["id"]]
            cells += [fmt_number(stats["mean"]), fmt_number(stats["median"])]
        for share, ratio, flagged in zip(row["shares"], row["ratios"], row["flagged"], strict=True):
            text = fmt_share(share, 0)
            cells.append(f"**{text} ({fmt_lift(ratio)})**" if flagged else text)
        lines.append("| " + " | ".join(cells) + " |")
    total = ["all customers"]
    if ages:
        total += [fmt_number(ages["population"]["mean"]), fmt_number(ages["population"]["median"])]
    total += [fmt_share(share, 0) for share in entry["population"]]
    return [*lines, "| " + " | ".join(total) + " |", ""]
