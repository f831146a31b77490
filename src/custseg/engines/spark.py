"""The Spark fit: statistics, K-means and all-row indices in Spark; explanation on a sample.

1. The table (a Parquet dataset or a catalog table) is opened as a Spark DataFrame; a
   uniform sample of at most :data:`~custseg.engines.assemble.EXPLAIN_SAMPLE` rows is
   brought to the driver, and the column roles are inferred on it.
2. Every row is checked in Spark (:func:`custseg.prepare.spark.checked_columns`); a row
   that cannot be used stops the fit with Python's wording of the reason.
3. The preparation plan's statistics are computed by Spark over all rows
   (:func:`custseg.prepare.spark.fit_plan_spark`): the plan is the same plain data as a
   local fit's.
4. The prepared features are Spark expressions of the plan, cached once; the k sweep
   and the final K-means run in Spark MLlib on all rows
   (:func:`custseg.cluster.spark.choose_n_clusters_spark`).
5. Profiles, rules, names, the drift reference and the report read the driver's sample.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from .._utils.numeric import generator, seed_from
from .._utils.progress import Progress
from .._utils.spark import spark_session
from ..cluster.spark import (
    SparkKMeansFit,
    choose_n_clusters_spark,
    fit_kmeans_spark,
    with_vector,
)
from ..config import FitConfig
from ..exceptions import DataError
from ..explain import load_playbook
from ..model import SegmentationModel
from ..prepare import check_rows, infer_schema
from ..prepare.rows import unusable_rows_message
from ..prepare.spark import spark_features, spark_statistics
from ..sources.spark import read_spark, spark_to_frame
from .assemble import (
    EXPLAIN_SAMPLE,
    OnWarning,
    assemble_model,
    evaluate_large,
    k_values,
    no_identifier_warning,
)

__all__ = ["fit_spark", "driver_sample"]

_FIX = "clean or filter them in the table, or leave the column out (exclude)"


def driver_sample(df: Any, n_rows: int, size: int, seed: int) -> pd.DataFrame:
    """A uniform sample of at most ``size`` rows of ``df``, on the driver.

    The rows come through Arrow and the sources' type rules (identifiers as text,
    numbers as float64), as a file read locally would.
    """
    if n_rows <= size:
        return spark_to_frame(df)
    # Bernoulli sampling with a little headroom, then an exact cut on the driver.
    fraction = min(1.0, 1.1 * size / n_rows)
    frame = spark_to_frame(df.sample(withReplacement=False, fraction=fraction, seed=seed))
    if len(frame) > size:
        keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=size, replace=False))
        frame = frame.iloc[keep]
    return frame.reset_index(drop=True)


def fit_spark(
    source: str | os.PathLike[str],
    cfg: FitConfig,
    training: dict[str, Any],
    progress: Progress,
    *,
    master: str | None = None,
    previous: SegmentationModel | None = None,
    on_warning: OnWarning | None = None,
) -> tuple[SegmentationModel, pd.DataFrame]:
    """Fit a segmentation of a Spark table or Parquet dataset (see the module docstring).

    Returns
    -------
    (SegmentationModel, pandas.DataFrame)
        The model and the uniform sample of raw rows (for the report).
    """
    playbook = load_playbook(cfg.playbook) if cfg.playbook is not None else None
    warnings: list[dict[str, Any]] = []
    rng = generator(cfg.random_state)
    session = spark_session(master)
    with progress.stage("Reading the table in Spark", total=None):
        df = read_spark(session, source)
        n_rows = int(df.count())
        if n_rows < 2:
            raise DataError(f"{os.fspath(source)!r} has {n_rows} rows; at least 2 are needed")
        raw_sample = driver_sample(df, n_rows, EXPLAIN_SAMPLE, seed_from(rng))
    schema = infer_schema(
        raw_sample,
        id_column=cfg.id_column,
        features=list(cfg.features) if cfg.features is not None else None,
        exclude=list(cfg.exclude),
    )
    if not schema.features:
        raise DataError("the table has no usable feature column; pass --features or --exclude")
    if schema.id_column is None:
        warnings.append(no_identifier_warning())
        if on_warning is not None:
            on_warning(warnings[-1])
    sample = check_rows(raw_sample, schema)
    with progress.stage("Checking rows and gathering statistics in Spark", total=None):
        stats = spark_statistics(df, schema, cfg.preparation)
    if stats.n_rejected:
        where, reason = stats.example or ("?", "a value cannot be used")
        raise DataError(unusable_rows_message(stats.n_rejected, stats.n_rows, where, reason, _FIX))
    plan = stats.accumulator.plan(sample.frame)  # every row is usable: the sample's too
    # Cached once with MLlib's vector column: every K-means start reads the cache
    # instead of persisting a copy of its own.
    prepared = with_vector(spark_features(df, plan, schema)).persist()
    try:
        # Materialised once, before the K-means starts read it.
        prepared.count()
        sample_X = np.ascontiguousarray(plan.transform(sample))
        selection_X = sample_X
        if len(sample_X) > cfg.selection_sample:
            rows = np.sort(rng.choice(len(sample_X), size=cfg.selection_sample, replace=False))
            selection_X = sample_X[rows]
        ks = k_values(cfg, n_rows)
        selection = None
        fits: dict[int, SparkKMeansFit] = {}
        if ks:
            selection, fits = choose_n_clusters_spark(
                prepared,
                ks,
                selection_X,
                n_init=cfg.n_init,
                n_resamples=cfg.n_resamples,
                max_resamples=cfg.max_resamples,
                random_state=rng,
                silhouette_max_exact=cfg.silhouette_max_exact,
                progress=progress,
            )
        k = cfg.k if cfg.k is not None else (selection.recommended_k if selection else 1)
        if k not in fits:
            with progress.stage(f"Fitting K-means with k={k} in Spark", total=None):
                fits[k] = fit_kmeans_spark(prepared, k, n_init=cfg.n_init, random_state=rng)
    finally:
        prepared.unpersist()
    fitted = fits[k]
    metrics, sample_labels, centroids, summary, lineage = evaluate_large(
        centroids=fitted.centroids,
        summary=fitted.summary,
        sample=raw_sample,
        sample_X=sample_X,
        selection=selection,
        previous=previous,
        cfg=cfg,
        rng=rng,
        progress=progress,
    )
    with progress.stage("Explaining the segments", total=None):
        metrics["engine"] = "spark"
        metrics["inertia_gap"] = None
        metrics["spark_iterations"] = fitted.n_iter
        model = assemble_model(
            data=raw_sample,
            checked=sample,
            schema=schema,
            plan=plan,
            labels=sample_labels,
            centroids=centroids,
            sizes=summary.sizes,
            prepared=sample_X,
            metrics=metrics,
            selection=selection.to_dict() if selection is not None else {},
            cfg=cfg,
            playbook=playbook,
            training={
                "rows": n_rows,
                "columns": len(df.columns),
                "explained_on": {"rows": int(len(sample.frame)), "sample": "uniform"},
                **training,
                "engine": "spark",
                "spark_master": session.sparkContext.master,
            },
            lineage=lineage,
            warnings=warnings,
            warn=on_warning,
        )
    return model, raw_sample
