"""In-warehouse scoring: the exported SQL gives Python's answers when DuckDB runs it."""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from custseg.config import FitConfig
from custseg.exceptions import ConfigError
from custseg.model import SegmentationModel, model_from_json, model_to_json
from custseg.pipeline import fit_segments
from custseg.prepare.plan import PrepConfig
from custseg.prepare.schema import TableSchema
from custseg.scoring.batch import score_customers
from custseg.scoring.sqlexport import DIALECTS, export_sql

# A column named with a quote and a space must survive quoting in every dialect.
ODD = 'BAL "now" & later'


@pytest.fixture(scope="module")
def model(sample: pd.DataFrame) -> SegmentationModel:
    return fit_segments(sample, k=5, k_range=(5, 5), random_state=0)


@pytest.fixture(scope="module")
def odd_frame(sample: pd.DataFrame) -> pd.DataFrame:
    frame = sample.rename(columns={"BALANCE": ODD, "CUST_ID": "cust id"})
    frame["CARD"] = np.where(np.arange(len(frame)) % 5 == 0, "gold", "classic")
    frame.loc[frame.index % 7 == 0, "CARD"] = None
    return frame


@pytest.fixture(scope="module")
def rich_model(odd_frame: pd.DataFrame) -> SegmentationModel:
    """Every kind of step: Yeo-Johnson, clipping, robust scaling, indicators, derived
    features (ratios, purchase type), a categorical input and PCA."""
    prep = PrepConfig(
        skew="yeo-johnson",
        winsorize=0.01,
        scaling="robust",
        indicator_threshold=0.0,
        pca=0.95,
        clustering_domain_features=("CREDIT_UTILISATION", "PAYMENT_MIN_RATIO", "PURCHASE_TYPE"),
    )
    return fit_segments(
        odd_frame, k=4, k_range=(4, 4), random_state=0, config=FitConfig(preparation=prep)
    )


def _run(frame: pd.DataFrame, sql: str, id_column: str) -> pd.DataFrame:
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute('CREATE SCHEMA "my shop"')
        con.execute('CREATE TABLE "my shop"."cards ""v2""" AS SELECT * FROM frame')
        result = con.execute(sql).df()
    return result.set_index(id_column).loc[frame[id_column]]


TABLE = 'my shop.cards "v2"'


def _agreement(model, frame, id_column, dialect="duckdb"):
    sql = export_sql(model, dialect=dialect, table=TABLE)
    got = _run(frame, sql, id_column)
    expected = score_customers(model, frame).scored.set_index(id_column)
    got_scored = got.loc[expected.index]
    same = got_scored["segment_id"].to_numpy() == expected["segment_id"].to_numpy()
    # Disagreements are allowed only between two centroids at the same distance.
    assert (expected["margin"].to_numpy()[~same] < 1e-9).all()
    np.testing.assert_allclose(
        got_scored["distance"].to_numpy(dtype=float), expected["distance"], rtol=1e-9, atol=1e-9
    )
    names = model.segment_names()
    assert got_scored["segment_name"].tolist() == [names[i] for i in got_scored["segment_id"]]
    # Typicality: the same interpolation, on distances equal to the last bits.
    np.testing.assert_allclose(
        got_scored["distance_percentile"].to_numpy(dtype=float),
        expected["distance_percentile"],
        rtol=1e-9,
        atol=1e-6,
    )
    got_flags = got_scored["flags"].astype(object).where(got_scored["flags"].notna(), "")
    want_flags = expected["flags"].astype(object).where(expected["flags"].notna(), "")
    assert (got_flags.to_numpy() == want_flags.to_numpy()).all()
    return same.mean(), got, expected


def test_duckdb_query_assigns_every_sample_customer_like_python(model, sample):
    agreement, got, _ = _agreement(model, sample, "CUST_ID")
    assert agreement == 1.0
    assert list(got.reset_index().columns) == [
        "CUST_ID",
        "segment_id",
        "segment_name",
        "distance",
        "distance_percentile",
        "flags",
    ]
    assert (got["flags"] == "out_of_profile").sum() > 0


def test_every_preparation_step_and_odd_names_agree(rich_model, odd_frame):
    plan = rich_model.preparation
    assert plan.pca is not None and plan.categorical_steps
    assert any(step.transform == "yeo-johnson" for step in plan.numeric_steps)
    assert all(step.clip is not None for step in plan.numeric_steps)
    assert any(step.indicator for step in plan.numeric_steps)
    agreement, _, _ = _agreement(rich_model, odd_frame, "cust id")
    assert agreement == 1.0
    # A card level the model never saw is flagged alike by SQL and Python.
    frame = odd_frame.head(40).copy()
    frame.loc[[3, 17], "CARD"] = "platinum"
    agreement, got, expected = _agreement(rich_model, frame, "cust id")
    assert agreement == 1.0
    assert expected["flags"].fillna("").str.contains("unseen_level:CARD").sum() == 2
    assert got["flags"].fillna("").str.contains("unseen_level:CARD").sum() == 2


def _synthesise(sample: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The GUIDE recipe: resample rows, scale each value by U(0.9, 1.1), keep gaps."""
    rng = np.random.default_rng(seed)
    rows = sample.iloc[rng.integers(0, len(sample), n)].reset_index(drop=True)
    numbers = rows.columns[1:]
    values = rows[numbers].to_numpy() * rng.uniform(0.9, 1.1, size=(n, len(numbers)))
    out = pd.DataFrame(values, columns=numbers)
    out.insert(0, "CUST_ID", [f"S{i:07d}" for i in range(n)])
    return out


def test_200k_synthetic_customers_agree(model, sample):
    frame = _synthesise(sample, 200_000, seed=1)
    agreement, _, _ = _agreement(model, frame, "CUST_ID")
    assert agreement == 1.0


def test_postgres_text_runs_on_duckdb_with_the_same_answers(rich_model, odd_frame):
    agreement, _, _ = _agreement(rich_model, odd_frame, "cust id", dialect="postgres")
    assert agreement == 1.0


def test_rows_python_rejects_keep_their_id_with_null_segments(model, sample):
    frame = sample.head(30).copy()
    frame.loc[2, "BALANCE"] = np.inf
    frame.loc[5, "PAYMENTS"] = -1e16
    frame.loc[7, "MINIMUM_PAYMENTS"] = np.nan
    frame.loc[8, ["BALANCE", "PURCHASES", "TENURE"]] = np.nan
    frame.loc[11, "CUST_ID"] = ""  # no identifier: rejected by Python, NULL segment in SQL
    sql = export_sql(model, dialect="duckdb", table=TABLE)
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute('CREATE SCHEMA "my shop"')
        con.execute('CREATE TABLE "my shop"."cards ""v2""" AS SELECT * FROM frame')
        no_id = con.execute(f"SELECT * FROM ({sql}) WHERE \"CUST_ID\" = ''").df()
    assert len(no_id) == 1 and no_id["segment_id"].isna().all() and no_id["flags"].isna().all()
    frame = frame.drop(index=11)
    got = _run(frame, export_sql(model, dialect="duckdb", table=TABLE), "CUST_ID")
    result = score_customers(model, frame)
    assert set(result.rejects["CUST_ID"]) == {frame["CUST_ID"][2], frame["CUST_ID"][5]}
    rejected = got.loc[result.rejects["CUST_ID"]]
    assert rejected["segment_id"].isna().all() and rejected["segment_name"].isna().all()
    assert rejected["distance_percentile"].isna().all()
    scored = got.loc[result.scored["CUST_ID"]]
    assert scored["segment_id"].astype(int).tolist() == result.scored["segment_id"].tolist()


def test_ties_go_to_the_lowest_segment_id_like_python(model, sample):
    # Segment 3 becomes a copy of segment 1: every customer of either is a tie.
    centroids = [list(c) for c in model.centroids]
    centroids[3] = list(centroids[1])
    twin = dataclasses.replace(model, centroids=centroids)
    got = _run(sample, export_sql(twin, dialect="duckdb", table=TABLE), "CUST_ID")
    python = score_customers(twin, sample).scored
    assert 3 not in set(got["segment_id"]) and 3 not in set(python["segment_id"])
    np.testing.assert_array_equal(got["segment_id"].to_numpy(), python["segment_id"].to_numpy())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_parses_and_quotes_names_and_strings(rich_model, dialect):
    odd_names = ['It\'s "back\\slash"', "Cash `advance` reliant", "Ünïcode – names"]
    segments = [
        dataclasses.replace(s, name=odd_names[s.id]) if s.id < 3 else s for s in rich_model.segments
    ]
    renamed = dataclasses.replace(rich_model, segments=segments)
    sql = export_sql(renamed, dialect=dialect, table="project-1.dataset.cards")
    tree = sqlglot.parse_one(sql, read=dialect)
    assert isinstance(tree, exp.Select)
    literals = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
    literals |= {text.this for text in tree.find_all(exp.ByteString)}  # PostgreSQL's E'...'
    assert set(odd_names) <= literals
    columns = {col.name for col in tree.find_all(exp.Column)}
    assert {ODD, "cust id", "CARD"} <= columns
    tables = [t for t in tree.find_all(exp.Table) if t.name == "cards"]
    assert tables and tables[0].db == "dataset" and tables[0].catalog == "project-1"


def test_floats_are_written_with_full_precision(model):
    sql = export_sql(model, dialect="duckdb", table="t")
    for step in model.preparation.numeric_steps:
        assert repr(float(step.center)).lstrip("-") in sql
    for value in model.centroids[0]:
        assert repr(float(value)).lstrip("-") in sql


def test_a_reloaded_model_exports_the_same_text(model):
    again = model_from_json(model_to_json(model))
    assert export_sql(again, dialect="bigquery", table="d.t") == export_sql(
        model, dialect="bigquery", table="d.t"
    )


def test_bad_arguments_are_clear_errors(model):
    with pytest.raises(ConfigError, match="dialect='oracle'"):
        export_sql(model, dialect="oracle", table="t")
    with pytest.raises(ConfigError, match="table"):
        export_sql(model, dialect="duckdb", table="  ")
    with pytest.raises(ConfigError, match="empty part"):
        export_sql(model, dialect="duckdb", table="a..b")
    with pytest.raises(ConfigError, match="SegmentationModel"):
        export_sql({}, dialect="duckdb", table="t")  # type: ignore[arg-type]
    columns = [
        dataclasses.replace(c, role="ignored") if c.role == "id" else c
        for c in model.schema.columns
    ]
    anonymous = dataclasses.replace(model, schema=TableSchema(tuple(columns), model.schema.n_rows))
    with pytest.raises(ConfigError, match="identifier"):
        export_sql(anonymous, dialect="duckdb", table="t")
