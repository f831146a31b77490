"""``custseg export-sql --from-transactions`` on a real PostgreSQL, Spark local, and the command.

The raw lines are loaded as text, as a warehouse holds a CSV; the exported query in
each engine's dialect gives every customer the segment and distance of Python scoring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from _postgres import PostgresServer, load_frame, postgres_server
from _rollup_export import (
    as_text,
    assert_same_scores,
    duckdb_with_lines,
    fit_card_files,
    fit_from_lines,
    python_scores,
)
from _transactions import retail_lines
from custseg import save_model
from custseg._utils.spark import spark_session
from custseg.scoring.sqlexport import export_sql_from_transactions


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("export_tx_engines")
    path = folder / "lines.csv"
    retail_lines(n_customers=120, seed=1)[0].to_csv(path, index=False)
    new = folder / "new.csv"
    retail_lines(n_customers=80, seed=5)[0].to_csv(new, index=False)
    return {"path": path, "new": new, "model": fit_from_lines(path, window="12M"), "folder": folder}


@pytest.fixture(scope="module")
def card_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return fit_card_files(tmp_path_factory.mktemp("export_card_engines"))[0]


def test_postgres_query_agrees_with_python_scoring(retail) -> None:
    model, new = retail["model"], retail["new"]
    query = export_sql_from_transactions(model, dialect="postgres", table="public.lines")
    with postgres_server() as server:
        load_frame(server, as_text(pd.read_csv(new, dtype=str)), "lines")
        got = _postgres_rows(server, query)
    assert_same_scores(got, python_scores(model, new), model.schema.id_column or "", "postgres")


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
    frame = as_text(pd.read_csv(new, dtype=str)).astype(str).replace("None", None)
    spark.createDataFrame(frame).createOrReplaceTempView("raw_lines")
    query = export_sql_from_transactions(model, dialect="spark", table="raw_lines")
    got = spark.sql(query).toArrow().to_pandas()
    assert_same_scores(got, python_scores(model, new), model.schema.id_column or "", "spark")


def test_command_writes_the_query_and_refuses_a_missing_table(retail, card_model, run_cli) -> None:
    folder = retail["folder"]
    save_model(retail["model"], folder / "model.json")
    out = folder / "score.sql"
    args = ["export-sql", "--model", folder / "model.json", "--dialect", "duckdb"]
    done = run_cli([*args, "--from-transactions", "--table", "invoice_lines", "--out", out])
    assert done.exit_code == 0, done.stderr
    with duckdb_with_lines(folder, retail["new"], "invoice_lines") as con:
        got = con.execute(out.read_text()).df()
    assert_same_scores(
        got, python_scores(retail["model"], retail["new"]), "CustomerID", "duckdb (command)"
    )
    done = run_cli([*args, "--table", "invoice_lines", "--as-of", "2011-10-01"])
    assert done.exit_code == 2 and "add --from-transactions" in done.stderr
    save_model(card_model, folder / "card.json")
    done = run_cli(
        ["export-sql", "--model", folder / "card.json", "-d", "postgres", "--from-transactions"]
    )
    assert done.exit_code == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "-table TABLE" in done.stderr
