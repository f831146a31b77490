"""``custseg export-sql --from-transactions``: one query from raw lines to segments.

Known answers: a model is fitted on customers rolled up from synthetic invoice lines
(text month-first dates, float ids, guest lines, cancellations); the exported query,
run on the raw lines where they lie (DuckDB, a real PostgreSQL, Spark local), gives
every customer the segment and distance Python scoring gives the same lines rolled up
by the model's roll-up (:func:`replay_rollup`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from _postgres import PostgresServer, load_frame, postgres_server
from _transactions import card_tables, retail_lines
from custseg import build_features, fit_segments, save_model
from custseg._utils.spark import spark_session
from custseg.exceptions import ConfigError, ModelError
from custseg.features.replay import replay_rollup, rollup_record
from custseg.model import SegmentationModel
from custseg.scoring.batch import score_customers
from custseg.scoring.sqlexport import export_sql_from_transactions

WINDOW = {"window": "12M"}


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a CSV file holds it: every value text, blanks as missing."""
    return frame.astype(object).where(frame.notna(), None).map(lambda v: v if v is None else str(v))


def _fit(path: Path, **options: Any) -> SegmentationModel:
    result = build_features(path, **options)
    record = rollup_record(result, options)
    return fit_segments(result.frame, k=3, random_state=0, training={"transactions": record})


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("export_tx")
    path = folder / "lines.csv"
    retail_lines(n_customers=120, seed=1)[0].to_csv(path, index=False)
    new = folder / "new.csv"
    retail_lines(n_customers=80, seed=5)[0].to_csv(new, index=False)
    model = _fit(path, **WINDOW)
    return {"path": path, "new": new, "model": model, "folder": folder}


def _python(model: SegmentationModel, path: Path, **given: Any) -> pd.DataFrame:
    """What Python scoring gives the lines, rolled up by the model's roll-up."""
    frame = replay_rollup(path, model.training["transactions"], **given).frame
    return score_customers(model, frame).scored


def _same(got: pd.DataFrame, expected: pd.DataFrame, id_column: str, engine: str) -> None:
    got = got.assign(**{id_column: got[id_column].astype(str)}).sort_values(id_column)
    expected = expected.sort_values(id_column)
    assert got[id_column].tolist() == expected[id_column].tolist(), engine
    assert got["segment_id"].astype(int).tolist() == expected["segment_id"].tolist(), engine
    assert got["segment_name"].tolist() == expected["segment_name"].tolist(), engine
    gap = np.max(np.abs(got["distance"].astype(float).to_numpy() - expected["distance"]))
    assert gap < 1e-9, (engine, gap)


def _duckdb_table(folder: Path, path: Path, table: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB file holding the raw lines as text (a CSV as a warehouse loads it)."""
    con = duckdb.connect(str(folder / f"{table}.duckdb"))
    con.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true)",
        [str(path)],
    )
    return con


def test_duckdb_query_on_raw_lines_agrees_with_python_scoring(retail) -> None:
    model, new = retail["model"], retail["new"]
    query = export_sql_from_transactions(model, dialect="duckdb", table="main.invoice_lines")
    assert query.splitlines()[1] == (
        "-- As-of date: computed in SQL: the day after the last transaction of the table; the"
        " window (12M) ends the day before it"
    )
    with _duckdb_table(retail["folder"], new, "invoice_lines") as con:
        got = con.execute(query).df()
    expected = _python(model, new)
    assert len(expected) == 80
    _same(got, expected, model.schema.id_column or "", "duckdb")


def test_a_given_as_of_date_is_a_literal_and_agrees(retail) -> None:
    model, path = retail["model"], retail["path"]
    query = export_sql_from_transactions(model, dialect="duckdb", as_of="2011-10-01")
    assert "DATE '2011-10-01'" in query and "given, 2011-10-01" in query.splitlines()[1]
    with _duckdb_table(retail["folder"], path, "transactions") as con:
        got = con.execute(query).df()
    # Lines after the as-of date are left out: fewer customers than the whole year's.
    expected = _python(model, path, as_of="2011-10-01")
    assert len(expected) < 120
    _same(got, expected, model.schema.id_column or "", "duckdb, given as-of")


def test_all_history_window_starts_at_the_first_transaction(retail) -> None:
    path = retail["path"]
    model = _fit(path)  # no window: all history, from the first line
    query = export_sql_from_transactions(model, dialect="duckdb", table="every_line")
    assert "the window (all history)" in query.splitlines()[1]
    with _duckdb_table(retail["folder"], path, "every_line") as con:
        got = con.execute(query).df()
    _same(got, _python(model, path), model.schema.id_column or "", "duckdb, all history")


def test_an_as_of_date_that_does_not_read_is_refused(retail) -> None:
    with pytest.raises(ConfigError, match=r"as_of='10/01/2011' should be a date such as"):
        export_sql_from_transactions(retail["model"], dialect="duckdb", as_of="10/01/2011")


def test_postgres_query_agrees_with_python_scoring(retail) -> None:
    model, new = retail["model"], retail["new"]
    query = export_sql_from_transactions(model, dialect="postgres", table="public.lines")
    with postgres_server() as server:
        load_frame(server, _text(pd.read_csv(new, dtype=str)), "lines")
        got = _postgres_rows(server, query)
    _same(got, _python(model, new), model.schema.id_column or "", "postgres")


def _postgres_rows(server: PostgresServer, query: str) -> pd.DataFrame:
    with server.connect() as connection, connection.cursor() as cursor:
        cursor.execute(query)
        names = [c.name for c in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=names)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]")
    yield session


def test_spark_query_agrees_with_python_scoring(retail, spark) -> None:
    model, new = retail["model"], retail["new"]
    frame = _text(pd.read_csv(new, dtype=str)).astype(str).replace("None", None)
    spark.createDataFrame(frame).createOrReplaceTempView("raw_lines")
    query = export_sql_from_transactions(model, dialect="spark", table="raw_lines")
    got = spark.sql(query).toArrow().to_pandas()
    _same(got, _python(model, new), model.schema.id_column or "", "spark")


def test_bigquery_query_reads_the_table_and_computes_the_window_in_its_own_sql(retail) -> None:
    # No BigQuery here: the query's spelling is checked.
    query = export_sql_from_transactions(
        retail["model"], dialect="bigquery", table="shop.sales.lines", as_of="today"
    )
    assert "FROM `shop`.`sales`.`lines`" in query
    assert "CURRENT_DATE()" in query and "DATE_SUB(as_of, INTERVAL 12 MONTH)" in query
    assert "SAFE.PARSE_DATETIME('%m/%d/%Y %H:%M'" in query and "UNIX_DATE(" in query
    assert "TRY_CAST" not in query and "MATERIALIZED" not in query
    assert "today's date when the query runs" in query.splitlines()[1]


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("export_card")
    tx, st, ac, _ = card_tables(n_customers=40, seed=4)
    paths = {}
    for name, frame in {"card_tx": tx, "statements": st, "accounts": ac}.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    options = {"as_of": "2012-01-01", "window": "12M"}
    result = build_features(
        paths["card_tx"], statements=paths["statements"], accounts=paths["accounts"], **options
    )
    record = rollup_record(result, options)
    model = fit_segments(result.frame, k=3, random_state=0, training={"transactions": record})
    return {"paths": paths, "model": model, "result": result, "folder": folder}


def test_card_features_of_statements_and_accounts_need_their_tables(card) -> None:
    with pytest.raises(ConfigError) as caught:
        export_sql_from_transactions(card["model"], dialect="duckdb", table="card_tx")
    message = str(caught.value)
    assert "--statements-table" in message or "--accounts-table" in message
    assert "\n" not in message


def test_card_query_with_its_three_tables_agrees_with_python_scoring(card) -> None:
    model, paths = card["model"], card["paths"]
    query = export_sql_from_transactions(
        model,
        dialect="duckdb",
        table="card_tx",
        statements_table="statements",
        accounts_table="accounts",
        as_of="2012-01-01",
    )
    con = _duckdb_table(card["folder"], paths["card_tx"], "card_tx")
    with con:
        for name in ("statements", "accounts"):
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, all_varchar = true)",
                [str(paths[name])],
            )
        got = con.execute(query).df()
    expected = score_customers(model, card["result"].frame).scored
    _same(got, expected, "CUST_ID", "duckdb, card")


def test_a_model_not_fitted_from_transactions_is_refused(retail) -> None:
    frame = build_features(retail["path"], **WINDOW).frame
    plain = fit_segments(frame, k=2, random_state=0)
    with pytest.raises(ModelError, match="not fitted from transactions"):
        export_sql_from_transactions(plain, dialect="duckdb")


def test_command_writes_the_query_and_refuses_a_missing_table(retail, card, run_cli) -> None:
    folder = retail["folder"]
    save_model(retail["model"], folder / "model.json")
    out = folder / "score.sql"
    args = ["export-sql", "--model", folder / "model.json", "--dialect", "duckdb"]
    done = run_cli([*args, "--from-transactions", "--table", "invoice_lines", "--out", out])
    assert done.exit_code == 0, done.stderr
    with _duckdb_table(folder, retail["new"], "invoice_lines") as con:
        got = con.execute(out.read_text()).df()
    _same(got, _python(retail["model"], retail["new"]), "CustomerID", "duckdb (command)")
    done = run_cli([*args, "--table", "invoice_lines", "--as-of", "2011-10-01"])
    assert done.exit_code == 2 and "add --from-transactions" in done.stderr
    save_model(card["model"], folder / "card.json")
    done = run_cli(
        ["export-sql", "--model", folder / "card.json", "-d", "postgres", "--from-transactions"]
    )
    assert done.exit_code == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "-table TABLE" in done.stderr
