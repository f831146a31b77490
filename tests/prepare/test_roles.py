"""Role inference on the bundled sample and on other customer tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from _credit_cards import CC_PATH
from custseg.exceptions import ConfigError, DataError, ModelError, SchemaError
from custseg.prepare import (
    TableSchema,
    check_rows,
    infer_schema,
)

CC_GENERAL = CC_PATH
CC_NUMERIC = [
    "BALANCE",
    "BALANCE_FREQUENCY",
    "PURCHASES",
    "ONEOFF_PURCHASES",
    "INSTALLMENTS_PURCHASES",
    "CASH_ADVANCE",
    "PURCHASES_FREQUENCY",
    "ONEOFF_PURCHASES_FREQUENCY",
    "PURCHASES_INSTALLMENTS_FREQUENCY",
    "CASH_ADVANCE_FREQUENCY",
    "CASH_ADVANCE_TRX",
    "PURCHASES_TRX",
    "CREDIT_LIMIT",
    "PAYMENTS",
    "MINIMUM_PAYMENTS",
    "PRC_FULL_PAYMENT",
    "TENURE",
]


def _other_table(n: int = 300) -> pd.DataFrame:
    """A retail-bank customer table unlike CC_GENERAL: mixed types, gaps, dates, text."""
    rng = np.random.default_rng(7)
    income = rng.lognormal(10, 0.5, n).round(2)
    income[rng.choice(n, 30, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "customer_id": [f"K-{100000 + i}" for i in range(n)],
            "age": rng.integers(18, 90, n),
            "annual_income": income,
            "region": rng.choice(["north", "south", "east", "west"], n),
            "is_premium": rng.random(n) < 0.2,
            "opened_on": pd.date_range("2015-01-01", periods=n, freq="7D").strftime("%Y-%m-%d"),
            "notes": [f"called on day {i}, asked about fees" for i in range(n)],
            "country": "BE",
            "fax_number": np.nan,
            "tenure_months": rng.integers(6, 13, n),
            "n_transactions": rng.poisson(3, n),
            "branch_code": rng.integers(1, 6, n),
        }
    )


def test_cc_general_gives_the_identifier_and_17_numeric_features(cc: pd.DataFrame) -> None:
    schema = infer_schema(cc)
    assert schema.id_column == "CUST_ID"
    assert schema.numeric == CC_NUMERIC
    assert schema.categorical == [] and schema.ignored == []
    assert schema.features == CC_NUMERIC
    assert schema.column("MINIMUM_PAYMENTS").n_missing == 313
    assert schema.column("CREDIT_LIMIT").n_missing == 1
    assert schema.column("TENURE").n_unique == 7
    lines = schema.describe()
    assert len(lines) == 18
    assert lines[0].startswith("CUST_ID: identifier - ")
    assert all(c.reason for c in schema.columns)


def test_other_table_from_a_bom_csv_gets_every_role(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    _other_table().to_csv(path, index=False, encoding="utf-8-sig")
    # Read as plain text without BOM handling, as the csv module does: every value is a
    # string and the first header keeps the byte-order mark.
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    frame = pd.DataFrame(rows, columns=header)
    assert frame.columns[0] == "\ufeffcustomer_id"

    schema = infer_schema(frame)
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "customer_id": "id",
        # Who the customer is: profiled per segment, not clustered on.
        "age": "descriptor",
        "annual_income": "numeric",
        "region": "descriptor",
        "is_premium": "categorical",
        "opened_on": "datetime",
        "notes": "ignored",
        "country": "ignored",
        "fax_number": "ignored",
        "tenure_months": "numeric",
        "n_transactions": "numeric",
        "branch_code": "categorical",
    }
    assert schema.column("annual_income").n_missing == 30
    assert "constant" in schema.column("country").reason
    assert "missing" in schema.column("fax_number").reason
    assert "max_categories=30" in schema.column("notes").reason
    assert "2015-01-01" in schema.column("opened_on").reason
    assert schema.descriptors == ["age", "region"]
    assert schema.features == [
        "annual_income",
        "is_premium",
        "tenure_months",
        "n_transactions",
        "branch_code",
    ]

    checked = check_rows(frame, schema)
    assert list(checked.frame.columns) == ["customer_id", *schema.numeric, *schema.categorical]
    assert checked.n_rejected == 0
    assert checked.frame["is_premium"].isin(["True", "False"]).all()
    assert set(checked.frame["branch_code"]) <= {"1", "2", "3", "4", "5"}


def test_duckdb_table_with_native_dates_and_booleans(tmp_path: Path) -> None:
    db = tmp_path / "bank.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            """
            CREATE TABLE customers AS
            SELECT i AS customer_no,
                   DATE '2020-01-01' + CAST(i AS INTEGER) AS opened,
                   i % 3 = 0 AS has_app,
                   (i * 37 % 101) * 1.5 AS balance,
                   CASE WHEN i % 10 = 0 THEN NULL ELSE i % 7 END AS visits
            FROM range(1, 201) t(i)
            """
        )
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.sql("SELECT * FROM customers ORDER BY customer_no").df()
    schema = infer_schema(frame)
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "customer_no": "id",
        "opened": "datetime",
        "has_app": "categorical",
        "balance": "numeric",
        "visits": "numeric",
    }
    assert schema.column("visits").n_missing == 20


def test_overrides_choose_the_features_id_and_exclusions(cc: pd.DataFrame) -> None:
    schema = infer_schema(cc, features=["BALANCE", "PURCHASES"])
    assert schema.features == ["BALANCE", "PURCHASES"]
    assert schema.id_column == "CUST_ID"
    assert schema.column("TENURE").reason == "not in the requested features"

    schema = infer_schema(cc, exclude=["TENURE", "PRC_FULL_PAYMENT"])
    assert "TENURE" not in schema.features and len(schema.features) == 15
    assert schema.column("TENURE").reason == "excluded by request"

    frame = _other_table()
    schema = infer_schema(frame, id_column="customer_id", features=["region", "age"])
    assert schema.categorical == ["region"] and schema.numeric == ["age"]
    # A requested feature is never taken for the identifier.
    frame["visit_key"] = np.arange(len(frame)) * 3 + 1
    schema = infer_schema(frame.drop(columns="customer_id"), features=["visit_key", "age"])
    assert schema.id_column is None and schema.numeric == ["age", "visit_key"]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"features": ["BALANCE", "PURCHASE"]}, "'PURCHASE' is not in the table; did you mean"),
        ({"exclude": ["tenure"]}, "'TENURE'"),
        ({"id_column": "CUSTID"}, "did you mean 'CUST_ID'"),
    ],
)
def test_unknown_override_column_names_close_matches(
    cc: pd.DataFrame, kwargs: dict[str, object], needle: str
) -> None:
    with pytest.raises(SchemaError, match=needle) as info:
        infer_schema(cc, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_duplicated_identifier_quotes_an_example_and_the_count(cc: pd.DataFrame) -> None:
    dup = pd.concat([cc, cc.iloc[[5, 5, 9]]], ignore_index=True)
    with pytest.raises(SchemaError, match=r"'C10006' appears 3 times and 2 values are duplicated"):
        infer_schema(dup, id_column="CUST_ID")
    # Without the override the id-like column is still recognised as the key.
    with pytest.raises(SchemaError, match="CUST_ID.*duplicated"):
        infer_schema(dup)
    # Excluding it is the way out.
    assert infer_schema(dup, exclude=["CUST_ID"]).id_column is None


def test_identifier_with_gaps_is_refused() -> None:
    frame = pd.DataFrame({"client_id": ["a1", None, "a3"], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(SchemaError, match="1 missing values"):
        infer_schema(frame, id_column="client_id")


def test_numeric_identifiers_and_row_numbers_are_not_features() -> None:
    n = 50
    frame = pd.DataFrame(
        {
            "CustomerID": np.arange(1000, 1000 + 3 * n, 3),
            "account_id": np.arange(7, 7 + n),
            "row": np.arange(n),
            "spend": np.linspace(0, 100, n) ** 1.5,
        }
    )
    schema = infer_schema(frame)
    assert schema.id_column == "CustomerID"
    assert schema.column("account_id").role == "ignored"
    assert "identifier" in schema.column("account_id").reason
    assert schema.column("row").role == "ignored"
    assert schema.numeric == ["spend"]


def test_unique_code_like_values_make_an_identifier_without_an_id_name() -> None:
    frame = pd.DataFrame({"ref": [f"X{i:05d}" for i in range(40)], "v": np.arange(40.0) % 7})
    schema = infer_schema(frame)
    assert schema.id_column == "ref"
    assert "looks like a code" in schema.column("ref").reason


def test_max_categories_separates_categories_from_free_text() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"product": rng.choice([f"product{i}" for i in range(40)], 500)})
    frame["v"] = rng.random(500)
    assert infer_schema(frame).column("product").role == "ignored"
    assert infer_schema(frame, max_categories=40).column("product").role == "categorical"
    with pytest.raises(ConfigError, match="max_categories=1 should be an integer >= 2"):
        infer_schema(frame, max_categories=1)


def test_numbers_stored_as_text_are_numeric() -> None:
    values = ["12.5", " 300", "", "4e2", "-7.25", "NA", "9"] * 20
    values[3] = "abc"
    values[10] = "1,234.5"
    frame = pd.DataFrame({"balance": values, "n": range(140)})
    info = infer_schema(frame).column("balance")
    assert info.role == "numeric"
    assert "numbers stored as text" in info.reason
    assert "2 values are not numbers (e.g. 'abc')" in info.reason
    assert info.n_missing == 40
    # Mostly words: categorical, not numbers.
    frame["balance"] = ["low", "high", "12"] * 46 + ["low", "high"]
    assert infer_schema(frame).column("balance").role == "categorical"


def test_requested_features_that_cannot_be_features() -> None:
    frame = _other_table(50)
    with pytest.raises(DataError, match="'fax_number' has no values"):
        infer_schema(frame, features=["age", "fax_number"])
    with pytest.raises(SchemaError, match="'opened_on' holds dates"):
        infer_schema(frame, features=["opened_on"])
    with pytest.raises(SchemaError, match="both in features and in exclude"):
        infer_schema(frame, features=["age"], exclude=["age"])
    with pytest.raises(DataError, match="no rows"):
        infer_schema(frame.iloc[:0])


def test_schema_round_trips_through_json(cc: pd.DataFrame) -> None:
    schema = infer_schema(cc)
    again = TableSchema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again == schema
    assert again.to_dict()["id_column"] == "CUST_ID"
    with pytest.raises(ModelError, match="version"):
        TableSchema.from_dict({**schema.to_dict(), "version": 99})
    bad = schema.to_dict()
    bad["columns"][1]["role"] = "feature"
    with pytest.raises(ModelError, match="unknown role 'feature'"):
        TableSchema.from_dict(bad)


# ------------------------------------------------------------------------ check_rows
