"""Row checks: coercion, per-row reasons, missing columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.exceptions import DataError, SchemaError
from custseg.prepare import (
    MAX_ABS_VALUE,
    ColumnInfo,
    TableSchema,
    check_rows,
    infer_schema,
)


def _schema(numeric: list[str], categorical: list[str] = ()) -> TableSchema:  # type: ignore[assignment]
    cols = [ColumnInfo("id", "id", "str", "test")]
    cols += [ColumnInfo(c, "numeric", "float64", "test") for c in numeric]
    cols += [ColumnInfo(c, "categorical", "str", "test") for c in categorical]
    return TableSchema(tuple(cols))


def test_check_rows_coerces_and_explains_bad_rows() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "PURCHASES": ["12.5", "abc", "1,234.5", None, " 7 ", "1e3"],
            "BALANCE": [1.0, np.inf, 2.0, -np.inf, np.nan, 3.0],
            "TIER": [1, 2, None, 2, 1, 3],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    checked = check_rows(frame, _schema(["PURCHASES", "BALANCE"], ["TIER"]))
    assert checked.reasons.tolist() == [
        None,
        "PURCHASES: 'abc' is not a number; BALANCE: infinite value",
        "PURCHASES: '1,234.5' is not a number",
        "BALANCE: infinite value",
        None,
        None,
    ]
    assert checked.reasons.index.tolist() == [10, 11, 12, 13, 14, 15]
    out = checked.frame
    assert out["PURCHASES"].dtype == np.float64 and out["BALANCE"].dtype == np.float64
    np.testing.assert_array_equal(out["PURCHASES"], [12.5, np.nan, np.nan, np.nan, 7.0, 1000.0])
    np.testing.assert_array_equal(out["BALANCE"], [1.0, np.nan, 2.0, np.nan, np.nan, 3.0])
    assert out["TIER"].dtype == object
    assert out["TIER"].tolist() == ["1", "2", None, "2", "1", "3"]
    assert checked.n_rejected == 3
    assert checked.problems == {"PURCHASES": 2, "BALANCE": 2}
    assert checked.accepted().index.tolist() == [10, 14, 15]
    assert checked.rejected()["reason"].iloc[1] == "PURCHASES: '1,234.5' is not a number"
    with pytest.raises(DataError, match=r"3 of 6 rows .*row 11: PURCHASES: 'abc'"):
        checked.raise_if_rejected()
    checked.raise_if_rejected(max_share=0.5)


def test_check_rows_handles_duplicate_index_labels_and_huge_values() -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "X": [1.0, 5e20, -2.0]}, index=[0, 0, 0])
    checked = check_rows(frame, _schema(["X"]))
    assert checked.reasons.tolist() == [
        None,
        f"X: 5e+20 is out of range (|value| > {MAX_ABS_VALUE:g})",
        None,
    ]


def test_missing_column_fails_before_any_row_work() -> None:
    frame = pd.DataFrame({"id": ["a"], "PURCHASE": ["abc"], "BALANCE": [1.0]})
    with pytest.raises(SchemaError, match="required column 'PURCHASES'.*did you mean 'PURCHASE'"):
        check_rows(frame, _schema(["PURCHASES", "BALANCE"]))
    # Scoring frames may come without the id when the caller says so.
    checked = check_rows(frame.drop(columns="id"), _schema(["BALANCE"]), require_id=False)
    assert list(checked.frame.columns) == ["BALANCE"]


def test_check_rows_ignores_column_order_extra_columns_and_bom(cc: pd.DataFrame) -> None:
    schema = infer_schema(cc)
    shuffled = cc[cc.columns[::-1]].rename(columns={"BALANCE": "\ufeffBALANCE "})
    shuffled["EXTRA"] = "x"
    a = check_rows(cc, schema).frame
    b = check_rows(shuffled, schema).frame
    pd.testing.assert_frame_equal(a, b)
    assert a["TENURE"].dtype == np.float64
