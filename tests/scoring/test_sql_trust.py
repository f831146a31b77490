"""Exported SQL embeds a model's text only inside properly escaped literals and identifiers.

A model is data someone else may have written: every text in it (segment names,
category levels, column names, the creation time) is attacker-controlled here. The
exported query must stay one SELECT in every dialect, carry each text back intact, and
never run anything else (DuckDB runs it here; tests/test_postgres.py runs it on a real
PostgreSQL server with both settings of standard_conforming_strings).
"""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from custseg.config import FitConfig
from custseg.exceptions import ModelError
from custseg.model import SegmentationModel
from custseg.pipeline import fit_segments
from custseg.prepare.plan import PrepConfig
from custseg.scoring.sqlexport import DIALECTS, export_sql

HOSTILE = [
    "x'; DROP TABLE customers; --",
    "x\\'; DROP TABLE customers; --",
    "line\nDROP TABLE customers; --",
    "tab\tcr\r*/ /* \u2028 end",
    'quote " and ` backtick',
    "$$ dollar $tag$",
]
HOSTILE_COLUMN = "a\"b`c'd\\e\nDROP TABLE customers; --"


@pytest.fixture(scope="module")
def hostile_frame(sample: pd.DataFrame) -> pd.DataFrame:
    frame = sample.head(600).rename(columns={"BALANCE": HOSTILE_COLUMN}).copy()
    frame["CARD"] = np.array(HOSTILE[:3] * 200)
    return frame


@pytest.fixture(scope="module")
def hostile_model(hostile_frame: pd.DataFrame) -> SegmentationModel:
    config = FitConfig(preparation=PrepConfig(domain_features=False))
    model = fit_segments(hostile_frame, k=3, k_range=(3, 3), random_state=0, config=config)
    segments = [dataclasses.replace(s, name=HOSTILE[3 + s.id]) for s in model.segments]
    return dataclasses.replace(model, segments=segments)


def _strings(tree: exp.Expression) -> set[str]:
    found = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
    return found | {text.this for text in tree.find_all(exp.ByteString)}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hostile_text_stays_inside_literals_in_every_dialect(hostile_model, dialect):
    sql = export_sql(hostile_model, dialect=dialect, table="shop.customers")
    statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    assert len(statements) == 1 and isinstance(statements[0], exp.Select)
    tree = statements[0]
    levels = set(hostile_model.preparation.categorical_steps[0].levels)
    assert set(HOSTILE[:3]) <= levels
    assert set(HOSTILE[3:]) | set(HOSTILE[:3]) <= _strings(tree)
    assert HOSTILE_COLUMN in {column.name for column in tree.find_all(exp.Column)}
    assert not list(tree.find_all(exp.Drop))
    # The header comment is one line of plain text.
    header, _, rest = sql.partition("\n")
    assert header.startswith("-- custseg ") and rest.startswith("WITH")


def test_duckdb_runs_the_hostile_query_and_nothing_else(hostile_model, hostile_frame):
    sql = export_sql(hostile_model, dialect="duckdb", table="customers")
    with duckdb.connect() as con:
        con.register("frame", hostile_frame)
        con.execute("CREATE TABLE customers AS SELECT * FROM frame")
        result = con.execute(sql).df()
        assert con.execute("SELECT COUNT(*) FROM customers").fetchone() == (600,)
    assert len(result) == 600
    assert set(result["segment_name"]) <= set(HOSTILE[3:])
    # The postgres text runs on DuckDB too (E'' strings, MATERIALIZED CTEs).
    names_free = dataclasses.replace(
        hostile_model,
        segments=[dataclasses.replace(s, name=f"S{s.id}'x") for s in hostile_model.segments],
    )
    sql = export_sql(names_free, dialect="postgres", table="customers")
    with duckdb.connect() as con:
        con.register("frame", hostile_frame)
        con.execute("CREATE TABLE customers AS SELECT * FROM frame")
        assert len(con.execute(sql).df()) == 600


def test_a_creation_time_that_is_not_a_time_never_reaches_the_query(hostile_model):
    with pytest.raises(ModelError, match="ISO 8601"):
        dataclasses.replace(hostile_model, created_at="2024-01-01\nDROP TABLE customers; --")
    with pytest.raises(ModelError, match="version number"):
        dataclasses.replace(hostile_model, custseg_version="0.1\nDROP TABLE customers; --")
