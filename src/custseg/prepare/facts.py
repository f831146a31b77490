"""The facts about one column that role inference reads: kind, gaps, levels, parsed text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from .._utils.lazy import lazy_module
from .schema import ColumnInfo, Role, text_values, value_kind

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["DATE_FORMATS", "PARSE_SHARE", "PATTERN_SAMPLE", "ColumnFacts"]

PARSE_SHARE = 0.9
"""Share of non-missing text values that must parse for a text column to count as
numbers (or dates): a few typos should not turn an amount into free text."""
PATTERN_SAMPLE = 5_000
"""Text and date patterns are judged on this many first values: enough to be sure,
cheap on millions."""
DATE_FORMATS = ("ISO8601", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y")


@dataclass
class ColumnFacts:
    """What role inference needs to know about a column, computed once.

    ``kind`` is :func:`~.schema.value_kind`'s, refined for text: ``"numtext"`` when at
    least 90% of a sample of the text parses as numbers (``numbers`` holds them),
    ``"datetext"`` when it parses as dates in one of :data:`DATE_FORMATS`.
    """

    name: str
    series: pd.Series
    dtype: str
    n_rows: int
    n_missing: int
    n_unique: int
    kind: str  # "bool", "int", "float", "datetime", "text", "other"
    numbers: np.ndarray | None = None  # parsed values of a numbers-as-text column
    n_text_bad: int = 0
    text_bad_example: str | None = None
    date_format: str | None = None

    @classmethod
    def of(cls, name: str, series: pd.Series, n_rows: int) -> ColumnFacts:
        kind = value_kind(series)
        text = text_values(series) if kind in ("text", "other") else None
        missing_mask = series.isna() if text is None else text.isna()
        n_missing = int(missing_mask.sum())
        present = series[~missing_mask] if text is None else text[~missing_mask]
        try:
            n_unique = int(present.nunique())
        except TypeError:  # unhashable cells (lists, dicts): count their text form
            n_unique = int(present.astype(str).nunique())
        facts = cls(name, series, str(series.dtype), n_rows, n_missing, n_unique, kind)
        if text is not None and n_missing < n_rows:
            facts._inspect_text(text.dropna())
        return facts

    def _inspect_text(self, text: pd.Series) -> None:
        sample = text.iloc[:PATTERN_SAMPLE]
        parsed = pd.to_numeric(sample, errors="coerce")
        if parsed.notna().mean() >= PARSE_SHARE:
            full = pd.to_numeric(text, errors="coerce")
            bad = full.isna()
            self.kind = "numtext"
            self.numbers = full[~bad].to_numpy(dtype=np.float64)
            self.n_text_bad = int(bad.sum())
            self.text_bad_example = str(text[bad].iloc[0]) if self.n_text_bad else None
            return
        if sample.str.contains(r"\d", regex=True).mean() >= PARSE_SHARE:
            for fmt in DATE_FORMATS:
                dates = pd.to_datetime(sample, errors="coerce", format=fmt)
                if dates.notna().mean() >= PARSE_SHARE:
                    self.kind = "datetext"
                    self.date_format = fmt
                    return

    def info(self, role: Role, reason: str) -> ColumnInfo:
        return ColumnInfo(self.name, role, self.dtype, reason, self.n_missing, self.n_unique)

    def numeric_values(self) -> np.ndarray:
        if self.numbers is not None:
            return self.numbers
        present = self.series.dropna()
        return cast(np.ndarray, present.to_numpy(dtype=np.float64, na_value=np.nan))
