"""The retail recipe on DuckDB: known answers, and every kind of dirty line, each counted."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from _transactions import retail_lines
from custseg import build_features
from custseg.exceptions import ConfigError, DataError
from custseg.features import write_features

CENT = 0.005


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, dict[str, int]]:
    lines, expected, counts = retail_lines()
    path = tmp_path_factory.mktemp("retail") / "invoices.csv"
    lines.to_csv(path, index=False)
    return path, expected, counts


def _write(tmp_path: Path, text: str, name: str = "lines.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def test_the_roll_up_gives_back_every_customers_behaviour(retail) -> None:
    path, expected, counts = retail
    result = build_features(path, as_of="2012-01-01", window="12M")
    got = result.frame.set_index("CustomerID").sort_index()
    assert list(got.index) == list(expected.index)  # float ids "12346.0" read as "12346"
    assert sorted(got.columns) == sorted(expected.columns)
    for column in expected.columns:
        gap = (got[column] - expected[column]).abs().max()
        assert gap < CENT, (column, gap)
    assert result.recipe == "retail" and result.match is not None and result.match["fits"]
    c = result.counts
    assert c["rows_read"] == counts["lines"]
    assert c["left_out"]["without a customer id"] == counts["guests"]
    assert c["left_out"]["before the window"] == counts["before_window"]
    assert c["netted"] == {"cancellations": counts["cancellations"], "returns": counts["returns"]}
    assert c["customers"] == len(expected)
    assert c["lines_used"] == counts["lines"] - counts["guests"] - counts["before_window"]


def test_the_default_window_is_all_history_to_the_day_after_the_last_line(retail) -> None:
    path, _, counts = retail
    result = build_features(path)
    assert result.window_rule == "all history"
    assert result.as_of_rule == "the day after the last transaction"
    assert result.window_start.isoformat() == "2010-12-14"  # the first line, before 2011
    assert result.counts["left_out"]["before the window"] == 0
    assert any("all history" in line for line in result.describe())


def test_a_cancellation_and_a_return_are_netted_and_counted(tmp_path) -> None:
    path = _write(
        tmp_path,
        HEADER + "536365,A,10,12/1/2010 8:26,2.5,17850.0,United Kingdom\n"
        "C536366,A,-4,12/2/2010 9:00,2.5,17850.0,United Kingdom\n"
        "536367,B,-1,12/3/2010 9:00,5.0,17850.0,United Kingdom\n"
        "536368,B,2,12/13/2010 9:00,5.0,17850.0,United Kingdom\n",
    )
    result = build_features(path)
    row = result.frame.iloc[0]
    assert row["monetary"] == pytest.approx(25 - 10 - 5 + 10)
    assert row["frequency"] == 2 and row["returns_share"] == 0.5
    assert result.counts["netted"] == {"cancellations": 1, "returns": 1}


def test_day_first_dates_are_proven_and_stated(tmp_path) -> None:
    path = _write(
        tmp_path,
        HEADER + "1,A,1,01/12/2010 8:26,2.0,1,France\n2,A,1,13/12/2010 8:26,2.0,1,France\n",
    )
    result = build_features(path)
    fmt = result.found["transactions"]["time_format"]
    assert fmt["order"] == "day-first" and "'13/12/2010 8:26'" in fmt["evidence"]
    assert result.frame.iloc[0]["tenure_days"] == 13  # 1 December to the 14th
    assert any("day-first" in line for line in result.describe())


def test_dates_that_prove_neither_order_stop_and_ask_for_the_format(tmp_path) -> None:
    text = HEADER + "1,A,1,01/12/2010 8:26,2.0,1,France\n2,A,1,02/11/2010 8:26,2.0,1,France\n"
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=r"could be day-first or month-first.*--date-format"):
        build_features(path)
    result = build_features(path, date_format="%d/%m/%Y %H:%M")
    assert result.found["transactions"]["time_format"]["order"] == "given"
    assert (
        result.frame.iloc[0]["tenure_days"]
        == (pd.Timestamp("2010-12-02") - pd.Timestamp("2010-11-02")).days
    )


def test_amounts_that_are_not_numbers_stop_with_their_rows(tmp_path) -> None:
    path = _write(
        tmp_path,
        HEADER + "1,A,1,12/1/2010 8:26,2.0,1,France\n2,A,one,12/13/2010 8:26,2.0,1,France\n"
        "3,A,2,12/14/2010 8:26,2.0,1,France\n4,A,n/a,12/15/2010 8:26,2.0,1,France\n",
    )
    with pytest.raises(DataError) as caught:
        build_features(path)
    message = str(caught.value)
    assert message.startswith("2 values of 'Quantity'")
    assert "row 2: 'one'" in message and "row 4: 'n/a'" in message
    assert "\n" not in message


def test_columns_are_found_by_name_and_can_be_named(tmp_path) -> None:
    text = (
        "order,client,when,total,sku\n"
        "A1,7,2011-01-03 10:00:00,10.0,x\nA2,7,2011-02-03 10:00:00,30.0,y\n"
        "A3,8,2011-02-05 10:00:00,5.0,x\n"
    )
    path = _write(tmp_path, text)
    result = build_features(
        path, recipe="retail", customer="client", time="when", amount="total", invoice="order"
    )
    assert result.columns["transactions"]["amount"] == "total"
    assert result.match is None  # named, not chosen
    got = result.frame.set_index("client")
    assert got.loc["7", "monetary"] == 40.0 and got.loc["7", "frequency"] == 2
    left_out = [f["name"] for f in result.left_out_features]
    assert left_out == ["items_per_order", "category_share_LEVEL"]
    assert got.loc["7", "distinct_products"] == 2
    with pytest.raises(ConfigError, match=r"--customer 'nope': the transactions table has no"):
        build_features(path, recipe="retail", customer="nope")


def test_a_table_no_recipe_fits_asks_for_one(tmp_path) -> None:
    path = _write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(ConfigError, match=r"no recipe fits the columns .*--recipe"):
        build_features(path)


def test_the_window_options_are_checked(retail) -> None:
    path, _, _ = retail
    with pytest.raises(ConfigError, match=r"window='six' should be a number of months"):
        build_features(path, window="six")
    with pytest.raises(ConfigError, match=r"as_of='2012/01/01' should be a date"):
        build_features(path, as_of="2012/01/01")
    with pytest.raises(DataError, match=r"no transaction falls in the window"):
        build_features(path, as_of="2009-01-01", window="1M")


def test_the_manifest_records_recipe_window_sql_and_counts(retail, tmp_path) -> None:
    path, _, counts = retail
    result = build_features(path, as_of="2012-01-01", window="12M")
    out = tmp_path / "customers.parquet"
    manifest = write_features(result, out, inputs={"input": path})
    on_disk = json.loads((tmp_path / "customers.manifest.json").read_text())
    assert on_disk == manifest
    block = manifest["features"]
    assert block["recipe"] == "retail" and block["window"] == "12 months"
    assert block["as_of"] == "2012-01-01" and block["window_start"] == "2011-01-01"
    assert block["counts"]["left_out"]["without a customer id"] == counts["guests"]
    assert manifest["query"] == result.sql and manifest["rows"] == len(result.frame)
    assert pd.read_parquet(out).equals(result.frame)
    with pytest.raises(ConfigError, match="an output would replace an input"):
        write_features(result, path, inputs={"input": path})


def test_parquet_with_typed_columns_gives_the_same_answers(retail, tmp_path) -> None:
    path, expected, _ = retail
    lines = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str})
    lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M")
    assert lines["CustomerID"].dtype == "float64" and lines["CustomerID"].isna().any()
    parquet = tmp_path / "invoices.parquet"
    lines.to_parquet(parquet, index=False)
    result = build_features(parquet, as_of="2012-01-01", window="12M")
    got = result.frame.set_index("CustomerID").sort_index()
    assert list(got.index) == list(expected.index)  # 12346.0 as a float is "12346"
    for column in expected.columns:
        assert (got[column] - expected[column]).abs().max() < CENT, column
    assert "time_format" not in result.found["transactions"]  # a real timestamp column


def test_a_query_on_a_duckdb_warehouse_runs_there_with_the_same_answers(retail, tmp_path) -> None:
    import duckdb

    from custseg.sources import DataSource

    path, expected, _ = retail
    database = tmp_path / "shop.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            f"CREATE TABLE lines AS SELECT * FROM read_csv('{path}', all_varchar = true)"
        )
    source = DataSource(sql="SELECT * FROM lines", warehouse=f"duckdb:///{database}")
    result = build_features(source, as_of="2012-01-01", window="12M")
    assert result.source_kind == "duckdb" and result.dialect == "duckdb"
    got = result.frame.set_index("CustomerID").sort_index()
    assert (got["monetary"] - expected["monetary"]).abs().max() < CENT


def test_dates_proving_both_orders_stop(tmp_path) -> None:
    text = HEADER + "1,A,1,13/12/2010 8:26,2.0,1,France\n2,A,1,12/13/2010 8:26,2.0,1,France\n"
    with pytest.raises(DataError, match=r"mixes day-first \('13/12/2010 8:26'\) and month-first"):
        build_features(_write(tmp_path, text))
