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
    # Every value is read once per distinct value: a 200,000-row sample has a handful.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    numbers = _as_numbers(values, codes, uniques)
    if numbers is not None:
        distinct = np.unique(numbers[np.isfinite(numbers)])
        if characteristic == "age" and distinct.size > _NUMERIC_LEVELS:
            ages, note = _ages(numbers, year)
            levels = [label for _, _, label in AGE_BANDS]
            bands = np.searchsorted([b[1] for b in AGE_BANDS[:-1]], ages, side="right")
            return _KIND_AGE, note, *_with_missing(levels, bands, np.isnan(ages)), ages
        if distinct.size > _NUMERIC_LEVELS:
            return (_KIND_BANDS, "quartiles of the population", *_quartiles(numbers), None)
    words = [_word(value) for value in uniques]
    sizes = np.bincount(codes[codes >= 0], minlength=len(uniques))
    counts: dict[str, int] = {}
    for word, size in zip(words, sizes, strict=True):
        counts[word] = counts.get(word, 0) + int(size)
    gaps = int(np.count_nonzero(codes < 0)) + counts.pop(_MISSING, 0)
    order = sorted(counts, key=lambda level: (-counts[level], level))
    position = {level: i for i, level in enumerate(order)}
    if len(order) > MAX_LEVELS:
        rest = order[MAX_LEVELS - 1 :]
        order = [*order[: MAX_LEVELS - 1], f"other ({len(rest)} levels)"]
        position.update(dict.fromkeys(rest, MAX_LEVELS - 1))
    if gaps:
        position[_MISSING] = len(order)
        order.append(_MISSING)
    of_unique = np.array([position[word] for word in words] + [position.get(_MISSING, 0)])
    return _KIND_LEVELS, "", order, of_unique[codes].astype(np.int64), None


def _as_numbers(values: pd.Series, codes: np.ndarray, uniques: Any) -> np.ndarray | None:
    """The column as float64 if it holds numbers (gaps as NaN), else ``None``."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    # Ages exported as text ("45", " 61 "): numbers when nearly all of them parse.
    texts = pd.Series([str(u).strip() for u in uniques], dtype=object)
    parsed = pd.to_numeric(texts, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    present = codes >= 0
    if not present.any() or np.isfinite(parsed[codes[present]]).mean() < 0.95:
        return None
    return np.append(parsed, np.nan)[codes]


def _word(value: Any) -> str:
    """A level as the table writes it: integral numbers without ".0", blanks as "missing"."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return _MISSING
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text if text else _MISSING


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
