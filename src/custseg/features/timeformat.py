"""Timestamps written as text: which format, and proof of day-first or month-first.

``"12/1/2010 8:26"`` is the 1st of December in the United States and the 12th of
January in Europe. The data decide: a first field above 12 (``"13/1/2010"``) proves
day-first, a second field above 12 (``"1/13/2010"``) proves month-first. When no value
proves either, the roll-up stops and asks for ``--date-format``: it never guesses.
ISO text (``2010-12-01 08:26:00``) needs no proof.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..exceptions import ConfigError, DataError

__all__ = ["TimeFormat", "check_date_format", "detect_time_format"]

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})"
    r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$"
)
_TOKENS = re.compile(r"%[dmYHMS]")
_ALLOWED = re.compile(r"^(%[dmYHMS]|[ /.:T-])+$")
_SHOWN = 3  # examples quoted in a message


@dataclass(frozen=True)
class TimeFormat:
    """How the time column's text is read.

    Attributes
    ----------
    formats : tuple of str
        strftime patterns tried in order (``"%d/%m/%Y %H:%M"``), or ``("iso",)``.
    order : str
        ``"day-first"``, ``"month-first"``, ``"iso"`` or ``"given"`` (``--date-format``).
    evidence : str
        Why, in words, with the value that proves it.
    """

    formats: tuple[str, ...]
    order: str
    evidence: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (stored in the manifest)."""
        return {"formats": list(self.formats), "order": self.order, "evidence": self.evidence}


def check_date_format(value: str) -> TimeFormat:
    """A user's ``--date-format`` (strftime with %d %m %Y %H %M %S, or ``iso``).

    Raises
    ------
    ConfigError
        A pattern with other directives, or without day, month and year.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"date_format={value!r} should be a pattern such as '%d/%m/%Y %H:%M'")
    value = value.strip()
    if value.lower() == "iso":
        return TimeFormat(("iso",), "given", "given as --date-format iso")
    found = set(_TOKENS.findall(value))
    if not _ALLOWED.match(value) or not {"%d", "%m", "%Y"} <= found:
        raise ConfigError(
            f"date_format={value!r} should use %d, %m and %Y (with %H, %M, %S and the separators"
            " / . - : space), e.g. --date-format '%d/%m/%Y %H:%M'"
        )
    return TimeFormat((value,), "given", f"given as --date-format {value!r}")


def detect_time_format(values: Iterable[str], column: str) -> TimeFormat:
    """The format of a text time column, from its values.

    Parameters
    ----------
    values : iterable of str
        Distinct non-empty values of the column (a sample of them is enough when it
        holds a day above 12, as any month of real data does).
    column : str
        The column's name, quoted in messages.

    Returns
    -------
    TimeFormat

    Raises
    ------
    DataError
        Values in no known format, day-first and month-first both proven, or neither
        proven (the message asks for ``--date-format``).
    """
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not texts:
        raise DataError(f"the time column {column!r} holds no value; give --time COLUMN")
    if all(_ISO.match(t) for t in texts):
        return TimeFormat(("iso",), "iso", "ISO dates (year first)")
    matches = [(t, _NUMERIC.match(t)) for t in texts]
    unknown = [t for t, m in matches if m is None and not _ISO.match(t)]
    parsed = [(t, m) for t, m in matches if m is not None]
    if not parsed or len(unknown) > len(texts) // 2:
        shown = ", ".join(repr(t) for t in unknown[:_SHOWN])
        raise DataError(
            f"the time column {column!r} holds text in no known date format (e.g. {shown}); "
            "give --date-format, e.g. --date-format '%d/%m/%Y %H:%M'"
        )
    day_first = next((t for t, m in parsed if int(m["a"]) > 12), None)
    month_first = next((t for t, m in parsed if int(m["b"]) > 12), None)
    if day_first and month_first:
        raise DataError(
            f"the time column {column!r} mixes day-first ({day_first!r}) and month-first "
            f"({month_first!r}) dates; fix the extract or give --date-format"
        )
    if not (day_first or month_first):
        raise DataError(
            f"the dates of {column!r} (e.g. {parsed[0][0]!r}) could be day-first or month-first:"
            " no day above 12 proves either; give --date-format '%d/%m/%Y %H:%M' or"
            " '%m/%d/%Y %H:%M'"
        )
    sep = parsed[0][1]["sep"]
    head = f"%d{sep}%m{sep}%Y" if day_first else f"%m{sep}%d{sep}%Y"
    shapes = []
    for _, m in parsed:
        shape = head if m["hour"] is None else head + (" %H:%M:%S" if m["second"] else " %H:%M")
        if shape not in shapes:
            shapes.append(shape)
    if day_first:
        evidence = f"day-first: {day_first!r} has a first field above 12"
    else:
        evidence = f"month-first: {month_first!r} has a second field above 12"
    return TimeFormat(tuple(shapes), "day-first" if day_first else "month-first", evidence)
