"""What crosses from Spark's Python workers, and the folders Spark scoring writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from custseg.model import SegmentationModel, model_to_json
from custseg.scoring import score_customers
from custseg.scoring.scorer import Scorer
from custseg.scoring.spark import _model_columns, _rows_written, _score_batches, score_spark


def test_workers_send_only_what_python_alone_computes(
    model: SegmentationModel, sample: pd.DataFrame
) -> None:
    frame = sample.head(400).copy()
    frame.loc[7, "CUST_ID"] = None
    frame.loc[9, "BALANCE"] = np.inf
    batches = iter(pa.Table.from_pandas(frame, preserve_index=False).to_batches())
    batch = pa.Table.from_batches(
        list(
            _score_batches(
                model_to_json(model), batches, codes=frozenset(), ranked=False, id_type="string"
            )
        )
    )
    assert batch.schema.names == [
        "CUST_ID",
        "segment_id",
        "distance",
        "runner_up_id",
        "margin",
        "distance_percentile",
        "flags",
        "reason",
    ]
    reasons = batch.column("reason").to_pylist()
    # A row is rejected exactly when it has a reason; it keeps its identifier only.
    assert [r.split(":")[0] for r in reasons if r is not None] == ["missing_id", "BALANCE"]
    rejected = batch.filter(pa.array([r is not None for r in reasons]))
    assert rejected.column("segment_id").null_count == 2
    assert rejected.column("CUST_ID").to_pylist() == [None, frame.loc[9, "CUST_ID"]]
    assert batch.num_rows == 400


def test_spark_writes_the_columns_of_python_scoring_in_order_and_an_empty_rejects_dataset(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "customers.parquet"
    sample.head(2000).to_parquet(source, index=False)
    out = tmp_path / "scored"
    summary = score_spark(model, source, out)
    assert (summary.scored, summary.rejected) == (2000, 0)
    python = score_customers(model, sample.head(2000))
    ours = pd.read_parquet(out)
    assert list(ours.columns) == list(python.scored.columns)
    schema = pq.read_schema(next(out.glob("*.parquet")))
    assert schema.field("segment_name").type == pa.string()
    merged = python.scored.merge(ours, on="CUST_ID", suffixes=("", "_spark"), validate="1:1")
    assert (merged["segment_name"] == merged["segment_name_spark"]).all()
    rejects = pd.read_parquet(summary.rejects)
    assert list(rejects.columns) == ["CUST_ID", "reason"] and rejects.empty
    assert (_rows_written(out), _rows_written(summary.rejects)) == (2000, 0)


def test_repeated_identifiers_are_counted_when_no_row_is_rejected(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample.head(300).copy()
    frame.loc[[40, 41, 42], "CUST_ID"] = frame.loc[7, "CUST_ID"]
    source = tmp_path / "customers.parquet"
    frame.to_parquet(source, index=False)
    summary = score_spark(model, source, tmp_path / "scored")
    assert (summary.scored, summary.rejected) == (300, 0)
    assert summary.counts == score_customers(model, frame).counts
    assert summary.counts["duplicate_id"] == 3


def test_columns_the_model_does_not_read_stay_in_spark(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame, tmp_path: Path
) -> None:
    # A warehouse table carries more than the model reads: only the identifier and the
    # model's columns are turned into Arrow for the workers.
    from pyspark.sql import functions as F

    frame = (
        spark.createDataFrame(sample.head(500))
        .withColumnRenamed("BALANCE", " BALANCE ")
        .withColumns({"notes": F.lit("call back"), "branch": F.lit(7)})
    )
    sent = _model_columns(frame, Scorer(model)).columns
    assert "notes" not in sent and "branch" not in sent
    assert sent == [c for c in frame.columns if c not in ("notes", "branch")]
    out = tmp_path / "scored"
    summary = score_spark(model, frame, out)
    python = score_customers(model, sample.head(500))
    assert (summary.scored, summary.rejected) == (500, 0)
    assert summary.counts == python.counts
    assert list(pd.read_parquet(out).columns) == list(python.scored.columns)
