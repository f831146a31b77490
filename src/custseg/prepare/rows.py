"""Checking the rows of a training or scoring table against its schema.

:func:`check_rows` coerces the feature columns to clean types (numbers to float64 with
NaN for gaps, categories to text) and says, per row, what is wrong with it; rows with
a problem are set aside with their reason rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._utils.checks import check_frame
from .._utils.lazy import lazy_module
from ..exceptions import DataError, SchemaError
from .schema import (
    MAX_ABS_VALUE,
    TableSchema,
    column_lookup,
    is_integral,
    missing_columns_message,
    plain_value,
    text_values,
    value_kind,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["RowCheck", "check_columns", "check_rows", "unusable_rows_message", "FILTER_ROWS"]


FILTER_ROWS = (
    "fix those values or filter the rows out (check_rows(...).accepted() keeps the usable ones)"
)
"""The default advice of :func:`unusable_rows_message`."""


@dataclass
class RowCheck:
    """Feature columns coerced to clean types, and what is wrong with each row.

    Attributes
    ----------
    frame : pandas.DataFrame
        The id column (if any) and the feature columns, same index as the input:
        numeric features as float64 with NaN for gaps, categorical features as
        object strings with ``None`` for gaps. Cells that could not be read are NaN.
    reasons : pandas.Series
        One entry per row: ``None`` when the row is usable, otherwise every problem
        of the row joined by ``"; "``, e.g. ``"PURCHASES: 'abc' is not a number"``.
    """

    frame: pd.DataFrame
    reasons: pd.Series
    problems: dict[str, int] = field(default_factory=dict)
    """Number of unusable cells per column (only columns with problems)."""

    @property
    def usable(self) -> np.ndarray:
        """Boolean mask of the rows without problems."""
        return cast(np.ndarray, self.reasons.isna().to_numpy())

    @property
    def n_rejected(self) -> int:
        """Number of rows with at least one problem."""
        return int((~self.usable).sum())

    def accepted(self) -> pd.DataFrame:
        """The coerced rows without problems."""
        return self.frame.loc[self.usable]

    def rejected(self) -> pd.DataFrame:
        """The rows with problems: the coerced columns plus a ``reason`` column."""
        mask = ~self.usable
        out = self.frame.loc[mask].copy()
        out["reason"] = self.reasons.loc[mask]
        return out

    def raise_if_rejected(self, max_share: float = 0.0, *, fix: str = FILTER_ROWS) -> None:
        """Raise when more than ``max_share`` of the rows have problems.

        Parameters
        ----------
        max_share : float, default 0.0
            Largest tolerated share of unusable rows; 0 tolerates none.
        fix : str
            What the reader should do, ending the message (see
            :func:`unusable_rows_message`).

        Raises
        ------
        DataError
            Naming the number of rows, an example row and its problem.
        """
        n = len(self.reasons)
        bad = self.n_rejected
        if bad == 0 or (n and bad / n <= max_share):
            return
        rejected = self.reasons.loc[~self.usable]
        raise DataError(
            unusable_rows_message(bad, n, plain_value(rejected.index[0]), rejected.iloc[0], fix)
        )


def unusable_rows_message(n_bad: int, n_rows: int, row: object, reason: str, fix: str) -> str:
    """The one wording of "these rows cannot be used", with an example and the fix.

    ``8,950 rows`` all bad reads ``none of the 8,950 rows can be used (e.g. row 3:
    PURCHASES: 'abc' is not a number); <fix>``; some bad reads ``2 of 8,950 rows have
    unusable values (e.g. ...); <fix>``.
    """
    if n_bad >= n_rows:
        head = f"none of the {n_rows:,} rows can be used"
    else:
        head = f"{n_bad:,} of {n_rows:,} rows have unusable values"
    return f"{head} (e.g. row {row!r}: {reason}); {fix}"


def check_columns(
    labels: Iterable[Any], schema: TableSchema, *, require_id: bool = True
) -> dict[str, Any]:
    """Check that a table has the schema's columns; clean name -> the table's own label.

    The column half of :func:`check_rows`, for tables that are not pandas frames
    (Arrow tables while scoring a file).

    Raises
    ------
    SchemaError
        If a required column is missing or a name appears twice, naming the column
        and the closest names of the table.
    """
    lookup = column_lookup(labels)
    required = list(schema.features)
    if schema.id_column is not None and require_id:
        required = [schema.id_column, *required]
    missing = [c for c in required if c not in lookup]
    if missing:
        raise SchemaError(missing_columns_message(missing, list(lookup)))
    return lookup


def check_rows(frame: pd.DataFrame, schema: TableSchema, *, require_id: bool = True) -> RowCheck:
    """Coerce the feature columns of ``frame`` and find the rows that cannot be used.

    Numeric features become float64: numbers stored as text parse when they are
    plain decimals (``"1234.5"``, ``"-3e2"``); anything else, such as ``"abc"`` or
    ``"1,234.5"``, makes the row unusable with the reason
    ``"PURCHASES: '1,234.5' is not a number"``; infinities give
    ``"BALANCE: infinite value"``. Gaps (NaN, None, empty text, ``"NA"``) are fine:
    the preparation plan imputes them. Categorical features become strings.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training or scoring rows; column order does not matter, extra columns are
        ignored.
    schema : TableSchema
        The schema whose feature (and id) columns are checked.
    require_id : bool, default True
        Whether the schema's id column must be present.

    Returns
    -------
    RowCheck
        Coerced id and feature columns, and the per-row reasons.

    Raises
    ------
    SchemaError
        If a required column is missing (raised before any row is looked at).
    """
    check_frame(frame)
    if not isinstance(schema, TableSchema):
        raise SchemaError(
            f"schema should be a TableSchema, got {type(schema).__name__};"
            " build it with infer_schema or TableSchema.from_dict"
        )
    lookup = check_columns(frame.columns, schema, require_id=require_id)
    id_col = schema.id_column

    columns: dict[str, Any] = {}
    problems: dict[str, int] = {}
    bad_parts: list[np.ndarray] = []
    if id_col is not None and id_col in lookup:
        columns[id_col] = frame[lookup[id_col]]
    for name in schema.numeric:
        values, bad = _coerce_numeric(frame[lookup[name]], name)
        columns[name] = values
        if bad is not None:
            problems[name] = int((bad != None).sum())  # noqa: E711
            bad_parts.append(bad)
    for name in schema.categorical:
        columns[name] = _coerce_categorical(frame[lookup[name]])
    out = pd.DataFrame(columns, index=frame.index)
    reasons = _join_reasons(bad_parts, frame.index)
    return RowCheck(frame=out, reasons=reasons, problems=problems)


# --------------------------------------------------------------------------- helpers


def _coerce_numeric(series: pd.Series, name: str) -> tuple[pd.Series, np.ndarray | None]:
    """Float64 values, and the reasons of unusable cells by position (``None`` if all fine)."""
    kind = value_kind(series)
    if kind in ("int", "float", "other-number", "bool"):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        text = None
    else:
        text = text_values(series)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    infinite = np.isinf(values)
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) > MAX_ABS_VALUE
    huge &= ~infinite
    unparsed = (np.isnan(values) & text.notna().to_numpy()) if text is not None else None
    has_unparsed = unparsed is not None and bool(unparsed.any())
    if not infinite.any() and not huge.any() and not has_unparsed:
        return pd.Series(values, index=series.index, name=name), None
    # Only the (rare) unusable cells get a Python-level message.
    reasons = np.full(len(values), None, dtype=object)
    reasons[infinite] = f"{name}: infinite value"
    if huge.any():
        reasons[huge] = [
            f"{name}: {v:.6g} is out of range (|value| > {MAX_ABS_VALUE:g})" for v in values[huge]
        ]
    if text is not None and unparsed is not None and has_unparsed:
        raw = text.to_numpy(dtype=object)[unparsed]
        reasons[unparsed] = [f"{name}: {str(v)[:40]!r} is not a number" for v in raw]
    values = np.where(infinite | huge, np.nan, values)
    return pd.Series(values, index=series.index, name=name), reasons


def _coerce_categorical(series: pd.Series) -> pd.Series:
    """Object strings with ``None`` for gaps; integral numbers print without ``.0``."""
    kind = value_kind(series)
    if kind in ("int", "float", "other-number"):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(values)
        out = np.full(len(values), None, dtype=object)
        if is_integral(values[present]) or not present.any():
            out[present] = values[present].astype(np.int64).astype(str)
        else:
            out[present] = [repr(float(v)) for v in values[present]]
        return pd.Series(out, index=series.index, dtype=object, name=series.name)
    text = text_values(series)
    out = text.to_numpy(dtype=object)
    out[text.isna().to_numpy()] = None
    return pd.Series(out, index=series.index, dtype=object, name=series.name)


def _join_reasons(parts: list[np.ndarray], index: pd.Index) -> pd.Series:
    out = np.full(len(index), None, dtype=object)
    for part in parts:
        bad = np.flatnonzero(part != None)  # noqa: E711 - elementwise test on object array
        for pos in bad:
            out[pos] = part[pos] if out[pos] is None else f"{out[pos]}; {part[pos]}"
    return pd.Series(out, index=index, dtype=object, name="reason")
