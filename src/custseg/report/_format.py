"""Number formatting for a business reader, shared by the HTML, the Markdown and the figures."""

from __future__ import annotations

import math
import textwrap
from datetime import UTC, datetime
from typing import Any

from .._utils.text import display_name, shorten, shorten_middle

__all__ = [
    "displayed",
    "FIGURE_LABEL_LENGTH",
    "fmt_label",
    "fmt_segment",
    "fmt_int",
    "fmt_number",
    "fmt_share",
    "fmt_lift",
    "fmt_compact",
    "fmt_metric",
    "fmt_timestamp",
]

_MISSING = "–"

FIGURE_LABEL_LENGTH = 32
"""Longest column name drawn in a figure; longer ones lose their middle (see the page's
table of full names)."""


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_int(value: Any) -> str:
    """``8950`` -> ``"8,950"``; missing values become a dash."""
    number = _finite(value)
    return _MISSING if number is None else f"{round(number):,}"


def fmt_number(value: Any) -> str:
    """Thousands separators and a precision that suits the magnitude.

    ``12345.6 -> "12,346"``, ``42.13 -> "42.1"``, ``3.14159 -> "3.14"``,
    ``0.012345 -> "0.0123"``.
    """
    number = _finite(value)
    if number is None:
        return _MISSING
    size = abs(number)
    if size == 0:
        return "0"
    if size >= 100:
        return f"{number:,.0f}"
    if size >= 10:
        return f"{number:,.1f}"
    if size >= 1:
        return f"{number:.2f}"
    # Below 1 keep three significant digits so 0.0123 does not read as 0.01.
    digits = min(6, 2 - math.floor(math.log10(size)))
    return f"{number:.{digits}f}"


def fmt_share(value: Any, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: ``0.1234 -> "12.3%"``."""
    number = _finite(value)
    return _MISSING if number is None else f"{100 * number:.{digits}f}%"


def fmt_lift(value: Any) -> str:
    """A ratio to the population mean: ``2.345 -> "2.35×"``."""
    number = _finite(value)
    if number is None:
        return _MISSING
    return f"{number:.1f}×" if abs(number) >= 10 else f"{number:.2f}×"


def fmt_compact(value: Any) -> str:
    """Short axis labels: ``1500 -> "1.5k"``, ``2_000_000 -> "2M"``, ``0.25 -> "0.25"``."""
    number = _finite(value)
    if number is None:
        return ""
    size = abs(number)
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= threshold:
            scaled = number / threshold
            text = f"{scaled:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    if size >= 10 or size == 0:
        return f"{number:.0f}"
    return f"{number:.2g}"


def fmt_metric(value: Any, unit: str | None = "number") -> str:
    """Format a metric by its unit: ``"count"``, ``"share"`` or ``"number"``."""
    if unit == "count":
        return fmt_int(value)
    if unit == "share":
        return fmt_share(value)
    return fmt_number(value)


def fmt_timestamp(value: Any) -> str:
    """An ISO 8601 time as ``"2024-05-01 10:00 UTC"``; other text is returned unchanged."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def fmt_label(name: Any, limit: int = FIGURE_LABEL_LENGTH) -> str:
    """A column name as a figure draws it: whole up to ``limit`` characters, else its
    start and end around an ellipsis (long names often differ only at the end)."""
    return shorten_middle(str(name), limit)


def fmt_segment(segment_id: Any, name: Any, width: int = 0, lines: int = 2) -> str:
    """``"3 · Premium shoppers"`` for legends and axes.

    With ``width``, the text is wrapped on at most ``lines`` lines of ``width``
    characters, the last one cut at a word boundary.
    """
    text = f"{segment_id} · {name}"
    if width <= 0:
        return text
    wrapped = textwrap.wrap(text, width) or [text]
    if len(wrapped) > lines:
        rest = " ".join(wrapped[lines - 1 :])
        wrapped = [*wrapped[: lines - 1], shorten(rest, width)]
    return "\n".join(shorten(line, width) for line in wrapped)


def fmt_outcome(value: Any, kind: str) -> str:
    """An outcome figure: a rate as a percentage, anything else as a number."""
    return fmt_share(value) if kind == "rate" else fmt_number(value)


def fmt_psi(value: Any) -> str:
    """A PSI with three decimals (0.000 to ...): the thresholds sit at 0.1 and 0.25."""
    return "–" if value is None else f"{float(value):.3f}"


def displayed(value: Any) -> Any:
    """``value`` with every text in it, keys included, as people may read it.

    Report and drift data carry column names, category levels and segment names from
    the user's table; :func:`custseg._utils.text.display_name` removes their
    bidirectional and control characters before any page, summary or figure shows
    them. Dicts, lists and tuples are rebuilt; other values are returned unchanged.
    """
    if isinstance(value, str):
        return display_name(value)
    if isinstance(value, dict):
        return {displayed(k): displayed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(displayed(v) for v in value)
    return value
