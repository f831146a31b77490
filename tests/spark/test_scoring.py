"""Scoring in Spark, and the Spark SQL export on Spark SQL, against Python scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from conftest import RunCli
from custseg.exceptions import ConfigError, SchemaError
from custseg.model import SegmentationModel
from custseg.scoring import export_sql, score_customers
from custseg.scoring.spark import score_spark


def _with_bad_rows(sample: pd.DataFrame) -> pd.DataFrame:
    frame = sample.copy()
    # PURCHASES as text, as a CSV export to a lake would leave it.
    frame["PURCHASES"] = frame["PURCHASES"].map(lambda v: None if pd.isna(v) else repr(v))
    frame = frame.astype({"CUST_ID": object, "PURCHASES": object})
    frame.loc[3, "PURCHASES"] = "abc"
    frame.loc[5, "BALANCE"] = 2e16
    frame.loc[8, "CREDIT_LIMIT"] = np.nan
    frame.loc[10, ["PAYMENTS", "PURCHASES"]] = [np.inf, "n/a"]
    return frame


def test_spark_scores_every_row_as_python_does(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = _with_bad_rows(sample)
    source = tmp_path / "customers.parquet"
    pa.parquet.write_table(pa.Table.from_pandas(frame, preserve_index=False), source)
    out = tmp_path / "scored"
    summary = score_spark(model, source, out)
    assert (summary.rows_in, summary.scored, summary.rejected) == (8950, 8947, 3)
    assert summary.rejects == tmp_path / "scored.rejects"
    python = score_customers(model, frame)
    ours = pd.read_parquet(out)
    rejects = pd.read_parquet(summary.rejects)
    assert sorted(ours.columns) == sorted(python.scored.columns)
    merged = python.scored.merge(ours, on="CUST_ID", suffixes=("", "_spark"), validate="1:1")
    assert len(merged) == 8947
    for column in (
        "segment_id",
        "segment_name",
        "distance",
        "runner_up_id",
        "margin",
        "distance_percentile",
    ):
        assert (merged[column] == merged[f"{column}_spark"]).all(), column
    assert (merged["flags"].fillna("") == merged["flags_spark"].fillna("")).all()
    assert summary.counts == python.counts and summary.counts["out_of_profile"] > 0
    expected = python.rejects[["CUST_ID", "reason"]].sort_values("CUST_ID").reset_index(drop=True)
    got = rejects.sort_values("CUST_ID").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["reason"].tolist()[0] == "PURCHASES: 'abc' is not a number"


def test_spark_keeps_the_scoring_contract_with_the_same_counts(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample.head(300).copy()
    frame.loc[5, "CUST_ID"] = None
    frame.loc[[50, 51], "CUST_ID"] = frame.loc[10, "CUST_ID"]
    source = tmp_path / "customers.parquet"
    frame.to_parquet(source, index=False)
    counted = score_spark(model, source, tmp_path / "counted")
    python = score_customers(model, frame)
    assert counted.counts == python.counts
    assert (counted.counts["missing_id"], counted.counts["duplicate_id"]) == (1, 2)
    assert (counted.scored, counted.rejected) == (299, 1)
    rejected = score_spark(model, source, tmp_path / "rejected", reject=["duplicate_id"])
    assert (rejected.scored, rejected.rejected) == (297, 3)
    assert rejected.counts == python.counts
    reasons = sorted(r.split(":")[0] for r in pd.read_parquet(rejected.rejects)["reason"])
    assert reasons == ["duplicate_id", "duplicate_id", "missing_id"]
    # The first row with the repeated identifier is the one scored.
    kept = pd.read_parquet(tmp_path / "rejected")
    first = score_customers(model, frame.iloc[[10]]).scored
    row = kept[kept["CUST_ID"] == frame.loc[10, "CUST_ID"]]
    assert len(row) == 1 and row["distance"].iloc[0] == first["distance"].iloc[0]


def test_spark_outputs_replace_earlier_ones_whole_and_missing_columns_fail_first(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "small.parquet"
    sample.head(500).to_parquet(source, index=False)
    out = tmp_path / "scored"
    out.mkdir()
    (out / "stale.parquet").write_bytes(b"from an earlier run")
    summary = score_spark(model, source, out)
    assert (summary.scored, summary.rejected) == (500, 0)
    assert not (out / "stale.parquet").exists()
    assert len(pd.read_parquet(out)) == 500 and pd.read_parquet(summary.rejects).empty
    with pytest.raises(ConfigError, match="is the input"):
        score_spark(model, source, source)
    sample.head(50).drop(columns=["BALANCE"]).to_parquet(tmp_path / "narrow.parquet", index=False)
    with pytest.raises(SchemaError, match="BALANCE"):
        score_spark(model, tmp_path / "narrow.parquet", tmp_path / "other")
    assert not (tmp_path / "other").exists()
    assert len(pd.read_parquet(out)) == 500


def test_the_spark_sql_export_runs_on_spark_sql_and_agrees_on_every_customer(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame
) -> None:
    spark.createDataFrame(
        pa.Table.from_pandas(sample, preserve_index=False)
    ).createOrReplaceTempView("cards_customers")
    query = export_sql(model, dialect="spark", table="cards_customers")
    by_sql = spark.sql(query).toArrow().to_pandas()
    python = score_customers(model, sample).scored
    merged = python.merge(by_sql, on="CUST_ID", suffixes=("", "_sql"), validate="1:1")
    assert len(merged) == 8950
    assert (merged["segment_id"] == merged["segment_id_sql"]).all()
    assert (merged["segment_name"] == merged["segment_name_sql"]).all()
    assert np.allclose(merged["distance"], merged["distance_sql"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark", "--keep-columns"], "--keep-columns is not available"),
        (["--spark-master", "local[2]"], "--spark-master applies to --engine spark only"),
        (["--engine", "gpu"], "--engine 'gpu' should be local or spark"),
    ],
)
def test_spark_scoring_options_are_checked_before_spark_starts(
    run_cli: RunCli,
    model_file: Path,
    sample_parquet: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    result = run_cli(
        ["score", "--model", model_file, "--input", sample_parquet, "--out", tmp_path / "o", *args]
    )
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()
