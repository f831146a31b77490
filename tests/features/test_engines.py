"""The roll-up's SQL on three engines: DuckDB (files), a real PostgreSQL, Spark local.

The same raw text lines (month-first text dates, float ids, blanks, cancellations) go
to each engine; each runs the query rendered in its own dialect, and every customer's
features agree with the others and with the known answers, to the cent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from _postgres import PostgresServer, load_frame, postgres_server
from _transactions import card_tables, retail_lines
from custseg import build_features
from custseg._utils.spark import spark_session
from custseg.features import features_sql
from custseg.sources import DataSource

CENT = 0.005
RETAIL = {"as_of": "2012-01-01", "window": "12M"}


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a CSV file holds it: every value text, blanks as missing."""
    return frame.astype(object).where(frame.notna(), None).map(lambda v: v if v is None else str(v))


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("engines")
    lines, expected, _ = retail_lines(n_customers=30, seed=3)
    tx, st, ac, card_expected = card_tables(n_customers=20, seed=4)
    frames = {"invoices": lines, "card_tx": tx, "statements": st, "accounts": ac}
    paths = {}
    for name, frame in frames.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return {
        "paths": paths,
        "text": {name: _text(pd.read_csv(p, dtype=str)) for name, p in paths.items()},
        "retail": expected,
        "card": card_expected,
    }


@pytest.fixture(scope="module")
def pg(tables: dict[str, Any]) -> Iterator[PostgresServer]:
    with postgres_server() as server:
        for name, frame in tables["text"].items():
            load_frame(server, frame, name)
        yield server


@pytest.fixture(scope="module")
def spark(tables: dict[str, Any]) -> Any:
    session = spark_session("local[2]")
    for name, frame in tables["text"].items():
        session.createDataFrame(frame.astype(str).replace("None", None)).createOrReplaceTempView(
            name
        )
    return session


def _same(got: pd.DataFrame, expected: pd.DataFrame, engine: str) -> None:
    got = got.set_index(got.columns[0]).sort_index()
    got.index = got.index.astype(str)
    assert list(got.index) == list(expected.index), engine
    for column in expected.columns:
        gap = np.nanmax((got[column].astype(float) - expected[column]).abs().to_numpy())
        assert gap < CENT, (engine, column, gap)


def test_retail_features_agree_on_duckdb_postgres_and_spark(tables, pg, spark) -> None:
    path, expected = tables["paths"]["invoices"], tables["retail"]
    duck = build_features(path, **RETAIL)
    _same(duck.frame, expected, "duckdb")
    on_pg = build_features(DataSource(sql="SELECT * FROM invoices", warehouse=pg.url()), **RETAIL)
    assert on_pg.dialect == "postgres" and on_pg.counts == duck.counts
    assert "pa?ss" not in on_pg.source and "pa?ss" not in on_pg.sql
    _same(on_pg.frame, expected, "postgres")
    query = features_sql(path, dialect="spark", tables={"transactions": "invoices"}, **RETAIL)
    _same(spark.sql(query).toArrow().to_pandas(), expected, "spark")


def test_card_features_agree_on_duckdb_postgres_and_spark(tables, pg, spark) -> None:
    paths, expected = tables["paths"], tables["card"]
    options = {"as_of": "2012-01-01", "window": "12M"}
    duck = build_features(
        paths["card_tx"], statements=paths["statements"], accounts=paths["accounts"], **options
    )
    _same(duck.frame, expected, "duckdb")
    source = DataSource(sql="SELECT * FROM card_tx", warehouse=pg.url())
    on_pg = build_features(
        source,
        statements="SELECT * FROM statements",
        accounts="SELECT * FROM accounts",
        **options,
    )
    _same(on_pg.frame, expected, "postgres")
    query = features_sql(
        paths["card_tx"],
        dialect="spark",
        tables={"transactions": "card_tx"},
        statements=paths["statements"],
        accounts=paths["accounts"],
        **options,
    )
    _same(spark.sql(query).toArrow().to_pandas(), expected, "spark")


def test_the_printed_postgres_query_runs_on_postgres_as_is(tables, pg) -> None:
    path = tables["paths"]["invoices"]
    query = features_sql(path, dialect="postgres", tables={"transactions": "invoices"}, **RETAIL)
    with pg.connect() as connection, connection.cursor() as cursor:
        cursor.execute(query)
        names = [c.name for c in cursor.description]
        got = pd.DataFrame(cursor.fetchall(), columns=names)
    _same(got, tables["retail"], "postgres (printed)")


def test_bigquery_sql_is_rendered_with_its_own_functions(tables) -> None:
    # No BigQuery here: the query is checked for the dialect's spelling only.
    query = features_sql(tables["paths"]["invoices"], dialect="bigquery", **RETAIL)
    assert "SAFE.PARSE_DATETIME('%m/%d/%Y %H:%M'" in query
    assert "UNIX_DATE(" in query and "SAFE_CAST(" in query and "`transactions`" in query
    assert "TRY_CAST" not in query and "::" not in query
