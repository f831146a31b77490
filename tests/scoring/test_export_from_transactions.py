"""``custseg export-sql --from-transactions``: one query from raw lines to segments.

Known answers: a model is fitted on customers rolled up from synthetic invoice lines
(text month-first dates, float ids, guest lines, cancellations); the exported query,
run by DuckDB on the raw lines, gives every customer the segment and distance Python
scoring gives the same lines rolled up by the model's roll-up (:func:`replay_rollup`).
A real PostgreSQL, Spark local and the command: test_export_from_transactions_engines.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from _rollup_export import (
    assert_same_scores,
    duckdb_with_lines,
    fit_card_files,
    fit_from_lines,
    python_scores,
)
from _transactions import retail_lines
from custseg import build_features, fit_segments
from custseg.exceptions import ConfigError, ModelError
from custseg.scoring.batch import score_customers
from custseg.scoring.sqlexport import export_sql_from_transactions

WINDOW = {"window": "12M"}


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("export_tx")
    path = folder / "lines.csv"
    retail_lines(n_customers=120, seed=1)[0].to_csv(path, index=False)
    new = folder / "new.csv"
    retail_lines(n_customers=80, seed=5)[0].to_csv(new, index=False)
    model = fit_from_lines(path, **WINDOW)
    return {"path": path, "new": new, "model": model, "folder": folder}


def test_duckdb_query_on_raw_lines_agrees_with_python_scoring(retail) -> None:
    model, new = retail["model"], retail["new"]
    query = export_sql_from_transactions(model, dialect="duckdb", table="main.invoice_lines")
    assert query.splitlines()[1] == (
        "-- As-of date: computed in SQL: the day after the last transaction of the table; the"
        " window (12M) ends the day before it"
    )
    with duckdb_with_lines(retail["folder"], new, "invoice_lines") as con:
        got = con.execute(query).df()
    expected = python_scores(model, new)
    assert len(expected) == 80
    assert_same_scores(got, expected, model.schema.id_column or "", "duckdb")


def test_a_given_as_of_date_is_a_literal_and_agrees(retail) -> None:
    model, path = retail["model"], retail["path"]
    query = export_sql_from_transactions(model, dialect="duckdb", as_of="2011-10-01")
    assert "DATE '2011-10-01'" in query and "given, 2011-10-01" in query.splitlines()[1]
    with duckdb_with_lines(retail["folder"], path, "transactions") as con:
        got = con.execute(query).df()
    # Lines after the as-of date are left out: fewer customers than the whole year's.
    expected = python_scores(model, path, as_of="2011-10-01")
    assert len(expected) < 120
    assert_same_scores(got, expected, model.schema.id_column or "", "duckdb, given as-of")


def test_all_history_window_starts_at_the_first_transaction(retail) -> None:
    path = retail["path"]
    model = fit_from_lines(path)  # no window: all history, from the first line
    query = export_sql_from_transactions(model, dialect="duckdb", table="every_line")
    assert "the window (all history)" in query.splitlines()[1]
    with duckdb_with_lines(retail["folder"], path, "every_line") as con:
        got = con.execute(query).df()
    assert_same_scores(
        got, python_scores(model, path), model.schema.id_column or "", "duckdb, all history"
    )


def test_an_as_of_date_that_does_not_read_is_refused(retail) -> None:
    with pytest.raises(ConfigError, match=r"as_of='10/01/2011' should be a date such as"):
        export_sql_from_transactions(retail["model"], dialect="duckdb", as_of="10/01/2011")


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
    model, result, paths = fit_card_files(folder)
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
    con = duckdb_with_lines(card["folder"], paths["card_tx"], "card_tx")
    with con:
        for name in ("statements", "accounts"):
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, all_varchar = true)",
                [str(paths[name])],
            )
        got = con.execute(query).df()
    expected = score_customers(model, card["result"].frame).scored
    assert_same_scores(got, expected, "CUST_ID", "duckdb, card")


def test_a_model_not_fitted_from_transactions_is_refused(retail) -> None:
    frame = build_features(retail["path"], **WINDOW).frame
    plain = fit_segments(frame, k=2, k_range=(2, 2), random_state=0)
    with pytest.raises(ModelError, match="not fitted from transactions"):
        export_sql_from_transactions(plain, dialect="duckdb")
