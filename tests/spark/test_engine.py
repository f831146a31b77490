"""The Spark engine on CC_GENERAL: statistics, features, the final fit and agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score

from custseg import load_model
from custseg._utils.spark import spark_session
from custseg.cluster.indices import index
from custseg.cluster.kmeans import assign, fit_kmeans
from custseg.cluster.spark import fit_kmeans_spark
from custseg.config import FitConfig, PrepConfig
from custseg.exceptions import ConfigError, DataError
from custseg.model import SegmentationModel
from custseg.pipeline import fit_segments, fit_to_folder
from custseg.prepare import PreparationPlan, check_rows, infer_schema
from custseg.prepare.spark import spark_features, spark_statistics
from custseg.scoring import score_customers
from custseg.sources.spark import spark_to_frame


def test_statistics_in_spark_give_the_local_plan(
    spark: Any, sample_parquet: Path, sample: pd.DataFrame
) -> None:
    schema = infer_schema(sample)
    checked = check_rows(sample, schema)
    config = PrepConfig(clustering_domain_features=("CREDIT_UTILISATION", "PURCHASE_TYPE"))
    local = PreparationPlan.fit(checked, schema, config).to_dict()
    df = spark.read.parquet(str(sample_parquet)).repartition(3)
    stats = spark_statistics(df, schema, config)
    assert (stats.n_rows, stats.n_rejected) == (8950, 0)
    plan = stats.accumulator.plan(checked.frame).to_dict()
    assert plan["decisions"] == local["decisions"]
    assert plan["categorical"] == local["categorical"]
    for ours, theirs in zip(plan["numeric"], local["numeric"], strict=True):
        assert ours["transform"] == theirs["transform"] and ours["impute"] == theirs["impute"]
        for key in ("center", "scale"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-12, abs=1e-12)
    # The prepared features are the local transform, bit for bit.
    rebuilt = PreparationPlan.from_dict(plan)
    features = spark_to_frame(spark_features(df.orderBy("CUST_ID"), rebuilt, schema)).to_numpy()
    expected = rebuilt.transform(checked.frame.sort_values("CUST_ID"))
    assert np.array_equal(features, expected)


def test_unusable_rows_are_counted_in_spark_and_worded_as_in_python(
    spark: Any, sample: pd.DataFrame
) -> None:
    frame = sample.head(300).copy()
    frame["PURCHASES"] = frame["PURCHASES"].map(lambda v: None if pd.isna(v) else repr(v))
    frame.loc[7, "PURCHASES"] = "1,234.5"
    frame.loc[9, "BALANCE"] = 3e16
    frame = frame.astype({"CUST_ID": object, "PURCHASES": object})
    schema = infer_schema(sample)
    stats = spark_statistics(
        spark.createDataFrame(pa.Table.from_pandas(frame)), schema, PrepConfig()
    )
    assert (stats.n_rows, stats.n_rejected) == (300, 2)
    assert stats.example == ("C10008", "PURCHASES: '1,234.5' is not a number")


def _blobs(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 6.0, -1.0]])
    return centres[rng.integers(0, 3, size=n)] + rng.normal(size=(n, 3))


def test_lloyd_in_spark_converges_and_sums_every_row_with_the_local_definitions(
    spark: Any,
) -> None:
    X = _blobs()
    df = spark.createDataFrame(pa.table({f"cs_f{j}": X[:, j] for j in range(3)})).cache()
    local = fit_kmeans(X, 3, n_init=2, random_state=0)
    # Started away from the optimum, the iterations in Spark reach the local fit's.
    start = local.centroids + np.random.default_rng(1).normal(scale=0.8, size=(3, 3))
    fit = fit_kmeans_spark(df, start)
    labels = assign(X, fit.centroids).labels
    assert adjusted_rand_score(labels, local.labels) > 0.99
    assert fit.n_iter > 1
    assert np.allclose(np.sort(fit.centroids, axis=0), np.sort(local.centroids, axis=0), atol=1e-3)
    assert fit.sizes == np.bincount(labels, minlength=3).tolist()
    assert fit.sizes == sorted(fit.sizes, reverse=True)
    # Calinski-Harabasz and Davies-Bouldin of all rows from the per-segment sums, as
    # scikit-learn defines them (not Spark's ClusteringEvaluator).
    assert index("calinski_harabasz").from_summary(fit.summary) == pytest.approx(
        calinski_harabasz_score(X, labels), rel=1e-9
    )
    assert index("davies_bouldin").from_summary(fit.summary) == pytest.approx(
        davies_bouldin_score(X, labels), rel=1e-9
    )
    distance = assign(X, fit.centroids).distance
    assert fit.inertia == pytest.approx(distance @ distance, rel=1e-9)
    # At the optimum the first iteration moves nothing: one iteration, same centroids.
    again = fit_kmeans_spark(df, fit.centroids)
    assert again.n_iter == 1 and np.allclose(again.centroids, fit.centroids)
    with pytest.raises(ConfigError, match="one column per prepared feature"):
        fit_kmeans_spark(df, np.zeros((3, 2)))
    df.unpersist()


def test_the_spark_engine_chooses_k_on_its_sample_with_the_shared_sweep(
    spark: Any, tmp_path: Path
) -> None:
    X = _blobs(6000, seed=3)
    frame = pd.DataFrame(X, columns=["spend", "visits", "returns"])
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(frame))])
    path = tmp_path / "blobs.parquet"
    frame.to_parquet(path, index=False)
    cfg = FitConfig(k_range=(2, 5), n_resamples=3, selection_sample=2000)
    model = fit_to_folder(path, tmp_path / "out", engine="spark", config=cfg, report=False).model
    local = fit_segments(frame, config=cfg)
    assert model.k == local.k == 3
    selection = model.k_selection
    # One fit on every row in Spark; the sweep's figures are those of the sample.
    assert [c.k for c in selection.candidates] == [2, 3, 4, 5]
    assert selection.rows_used == 2000 and selection.n_rows == 6000
    assert "k was chosen on a uniform sample" in selection.explanation
    assert model.metrics["engine"] == "spark" and model.metrics["n_rows"] == 6000
    # Each segment's stability is read on the driver's sample, for the final centroids.
    assert [s.stability_band for s in model.segments] == ["highly stable"] * 3


@pytest.fixture(scope="module")
def spark_fit(
    spark: Any, sample_parquet: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SegmentationModel, Path]:
    out = tmp_path_factory.mktemp("spark-fit")
    output = fit_to_folder(
        sample_parquet,
        out,
        engine="spark",
        config=FitConfig(k=6, k_range=(6, 6), n_resamples=3),
        training={"source": str(sample_parquet)},
        report=False,
    )
    return output.model, out


def test_spark_and_local_engines_agree_on_the_sample(
    spark_fit: tuple[SegmentationModel, Path], sample: pd.DataFrame
) -> None:
    model, out = spark_fit
    local = fit_segments(sample, k=6, k_range=(6, 6), random_state=0)
    ours = score_customers(model, sample).scored["segment_id"].to_numpy()
    theirs = score_customers(local, sample).scored["segment_id"].to_numpy()
    assert adjusted_rand_score(ours, theirs) >= 0.9
    # Matched segment by segment, sizes differ by a few percent of the customers at most.
    table = pd.crosstab(ours, theirs).to_numpy()
    for row in table:
        j = int(np.argmax(row))
        assert abs(row.sum() - table[:, j].sum()) <= 0.03 * len(sample)
    assert model.metrics["engine"] == "spark" and model.training["engine"] == "spark"
    assert [s.size for s in model.segments] == model.metrics["sizes"]
    assert sum(model.metrics["sizes"]) == 8950
    assert model.metrics["calinski_harabasz"] == pytest.approx(
        local.metrics["calinski_harabasz"], rel=0.05
    )


def test_the_spark_model_file_is_an_ordinary_model(
    spark_fit: tuple[SegmentationModel, Path], sample: pd.DataFrame
) -> None:
    model, out = spark_fit
    loaded = load_model(out / "model.json")
    metrics = json.loads((out / "metrics.json").read_text())
    assert loaded.k == 6 and metrics["engine"] == "spark"
    assert loaded.preparation.numeric_steps[0].column == "BALANCE"
    assert all(segment.rule for segment in loaded.segments)
    assert len({segment.name for segment in loaded.segments}) == 6
    scored = score_customers(loaded, sample)
    assert len(scored.scored) == 8950 and scored.rejects.empty


def test_a_second_master_in_the_same_process_is_a_clear_error(spark: Any) -> None:
    with pytest.raises(ConfigError, match="already running"):
        spark_session("spark://127.0.0.1:1")
    assert spark_session() is spark


def test_a_spark_fit_refuses_unusable_rows_with_their_reason(
    spark: Any, sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample.head(400).copy()
    frame.loc[350, "BALANCE"] = np.inf
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path, index=False)
    where = frame.loc[350, "CUST_ID"]
    with pytest.raises(DataError, match=rf"1 of 400 rows .*{where}.*BALANCE: infinite value"):
        fit_to_folder(
            path,
            tmp_path / "out",
            engine="spark",
            config=FitConfig(k=2, k_range=(2, 2)),
            report=False,
        )


def test_a_table_in_one_partition_is_spread_over_every_core_once(spark: Any) -> None:
    from custseg.sources.spark import spread_over_cores

    cores = spark.sparkContext.defaultParallelism
    one = spark.range(1000).coalesce(1)
    spread, cached = spread_over_cores(one)
    try:
        assert cached and spread.is_cached
        assert spread.rdd.getNumPartitions() == cores >= 2
        assert sorted(r.id for r in spread.collect()) == list(range(1000))
    finally:
        spread.unpersist()
    many = spark.range(1000).repartition(cores)
    same, cached = spread_over_cores(many)
    assert same is many and not cached
