"""Reading a protected column into levels or bands for the audit (:mod:`custseg.explain.audit`).

Text and flag columns keep their levels as the table writes them (``1.0`` as ``1``,
gaps as ``missing``); the rarest levels of a column with more than :data:`MAX_LEVELS`
are grouped as "other". An age with more than ten distinct values is read in the bands
:data:`AGE_BANDS` (a year of birth is turned into an age at the reference year first);
another number with many values in the quartiles of the population.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "MAX_LEVELS", "read_levels"]

AGE_BANDS: tuple[tuple[float, float, str], ...] = (
    (-math.inf, 30.0, "under 30"),
    (30.0, 45.0, "30-44"),
    (45.0, 60.0, "45-59"),
    (60.0, math.inf, "60 and over"),
)
"""Age bands ``(from, below, label)``: young adults, the middle years split at 45, and
the ages where retirement and senior products begin."""

MAX_LEVELS = 8
"""Levels shown one by one; rarer levels of a column with more are grouped as "other"."""

_MISSING = "missing"
_NUMERIC_LEVELS = 10  # a numeric column with more distinct values is banded
_KIND_LEVELS, _KIND_AGE, _KIND_BANDS = "levels", "age bands", "bands"


def read_levels(
    values: pd.Series, characteristic: str, year: int
) -> tuple[str, str, list[str], np.ndarray, np.ndarray | None]:
    """``(kind, note, levels, code of each row, ages or None)`` of one column."""
    numbers = _as_numbers(values)
    if numbers is not None:
        distinct = np.unique(numbers[np.isfinite(numbers)])
        if characteristic == "age" and distinct.size > _NUMERIC_LEVELS:
            ages, note = _ages(numbers, year)
            levels = [label for _, _, label in AGE_BANDS]
            bands = np.searchsorted([b[1] for b in AGE_BANDS[:-1]], ages, side="right")
            return _KIND_AGE, note, *_with_missing(levels, bands, np.isnan(ages)), ages
        if distinct.size > _NUMERIC_LEVELS:
            return (_KIND_BANDS, "quartiles of the population", *_quartiles(numbers), None)
    text = _as_text(values)
    counts = text.value_counts(sort=False)
    counts = counts.drop(_MISSING, errors="ignore")
    order = sorted(counts.index, key=lambda level: (-counts[level], level))
    if len(order) > MAX_LEVELS:
        kept, rest = order[: MAX_LEVELS - 1], order[MAX_LEVELS - 1 :]
        other = f"other ({len(rest)} levels)"
        text = text.where(~text.isin(rest), other)
        order = [*kept, other]
    if (text == _MISSING).any():
        order.append(_MISSING)
    position = {level: i for i, level in enumerate(order)}
    return _KIND_LEVELS, "", order, text.map(position).to_numpy(dtype=np.int64), None


def _as_numbers(values: pd.Series) -> np.ndarray | None:
    """The column as float64 if it holds numbers (gaps as NaN), else ``None``."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    # Ages exported as text ("45", " 61 "): numbers when nearly all of them parse.
    present = values.dropna()
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    if len(present) and parsed.notna().mean() >= 0.95:
        numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def _as_text(values: pd.Series) -> pd.Series:
    """Levels as the table writes them: integral numbers without ".0", gaps as "missing"."""

    def word(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return _MISSING
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        if isinstance(value, (np.generic,)):
            value = value.item()
        text = str(value).strip()
        return text if text else _MISSING

    return pd.Series([word(v) for v in values.to_numpy(dtype=object)], index=values.index)


def _ages(numbers: np.ndarray, year: int) -> tuple[np.ndarray, str]:
    """Ages, from the values or from years of birth (values between 1880 and ``year``)."""
    finite = numbers[np.isfinite(numbers)]
    if finite.size and finite.min() >= 1880 and finite.max() <= year:
        return year - numbers, f"ages in {year}, from the year of birth"
    return numbers, ""


def _with_missing(
    levels: list[str], codes: np.ndarray, gaps: np.ndarray
) -> tuple[list[str], np.ndarray]:
    codes = np.asarray(codes, dtype=np.int64).copy()
    if gaps.any():
        codes[gaps] = len(levels)
        levels = [*levels, _MISSING]
    return levels, codes


def _quartiles(numbers: np.ndarray) -> tuple[list[str], np.ndarray]:
    finite = numbers[np.isfinite(numbers)]
    edges = np.unique(np.quantile(finite, [0.25, 0.5, 0.75])) if finite.size else np.array([])
    bounds = [finite.min() if finite.size else 0.0, *edges, finite.max() if finite.size else 0.0]
    levels = [
        f"{_number(lo)} to {_number(hi)}" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    codes = np.searchsorted(edges, np.nan_to_num(numbers), side="right")
    return _with_missing(levels, codes, ~np.isfinite(numbers))


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
