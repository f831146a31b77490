"""The Spark fit: statistics, K-means and all-row indices in Spark; explanation on a sample.

1. The table (a Parquet dataset or a catalog table) is opened as a Spark DataFrame; a
   uniform sample of at most :data:`~custseg.engines.assemble.EXPLAIN_SAMPLE` rows is
   brought to the driver, and the column roles are inferred on it.
2. Every row is checked in Spark (:func:`custseg.prepare.spark.checked_columns`); a row
   that cannot be used stops the fit with Python's wording of the reason.
3. The preparation plan's statistics are computed by Spark over all rows
   (:func:`custseg.prepare.spark.fit_plan_spark`): the plan is the same plain data as a
   local fit's.
4. k is chosen on the driver's sample by the sweep every engine shares
   (:func:`custseg.engines.fit.select_k`, itself on 20,000 rows of it): a sweep costs
   seconds there, where one MLlib fit per k over every row cost minutes.
5. K-means++ (``n_init`` starts) is fitted on 100,000 rows of the sample, as by the
   stream engine; its centroids start Lloyd's iterations over every row in Spark
   (:func:`custseg.cluster.spark.fit_kmeans_spark`, on the prepared features, cached
   once), which also sums every row by segment for the all-row indices.
6. Profiles, rules, names, the drift reference and the report read the driver's sample.

A table in fewer partitions than Spark has cores (a Parquet file of one row group is one
partition) is spread over the cores first (:func:`custseg.sources.spark.spread_over_cores`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from .._utils.numeric import seed_from
from .._utils.spark import spark_errors, spark_session
from ..cluster.kmeans import assign_checked
from ..cluster.selection import KSelection
from ..cluster.spark import fit_kmeans_spark
from ..exceptions import DataError
from ..prepare import check_rows
from ..prepare.rows import unusable_rows_message
from ..prepare.spark import spark_features, spark_statistics
from ..sources.spark import distinct_counter, read_spark, spark_to_frame, spread_over_cores
from .assemble import EXPLAIN_SAMPLE
from .protocol import (
    FitRun,
    Partition,
    Scan,
    evaluate_from_summary,
    fit_on_sample,
    infer_fit_schema,
)

__all__ = ["SparkEngine", "driver_sample"]

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


class SparkEngine:
    """Fits a Spark table or Parquet dataset (see the module docstring).

    Parameters
    ----------
    source : str or path-like
        A Parquet dataset or a catalog table name.
    master : str or None, default=None
        Spark master (``local[2]``, ``spark://host:7077``...); the session's default
        when ``None``.
    """

    name = "spark"

    def __init__(self, source: str | os.PathLike[str], *, master: str | None = None) -> None:
        self.source = source
        self.master = master
        self._cached: list[Any] = []
        self._prepared: Any = None

    def scan(self, run: FitRun) -> Scan:
        cfg, rng, progress = run.cfg, run.rng, run.progress
        with spark_errors("fitting"):
            session = spark_session(self.master)
            with progress.stage("Reading the table in Spark", total=None):
                df, spread = spread_over_cores(read_spark(session, self.source))
                if spread:
                    self._cached.append(df)
                n_rows = int(df.count())
                if n_rows < 2:
                    raise DataError(
                        f"{os.fspath(self.source)!r} has {n_rows} rows; at least 2 are needed"
                    )
                rows = driver_sample(df, n_rows, EXPLAIN_SAMPLE, seed_from(rng))
            schema = infer_fit_schema(rows, cfg, count_distinct=distinct_counter(df))
            run.seen(schema)
            checked = check_rows(rows, schema)
            with progress.stage("Checking rows and gathering statistics in Spark", total=None):
                stats = spark_statistics(df, schema, cfg.preparation)
            if stats.n_rejected:
                where, reason = stats.example or ("?", "a value cannot be used")
                raise DataError(
                    unusable_rows_message(stats.n_rejected, stats.n_rows, where, reason, _FIX)
                )
            plan = stats.accumulator.plan(checked.frame)  # every row is usable: the sample's too
            # Cached once: Lloyd's iterations and the sums read the prepared rows.
            self._prepared = spark_features(df, plan, schema).persist()
            self._cached.append(self._prepared)
            master = session.sparkContext.master
        return Scan(
            schema=schema,
            plan=plan,
            n_rows=n_rows,
            n_columns=len(df.columns),
            rows=rows,
            checked=checked,
            X=np.ascontiguousarray(plan.transform(checked)),
            training={"engine": "spark", "spark_master": master},
            note=(
                f"k was chosen on a uniform sample of the table's {n_rows:,} rows; K-means"
                " started from the sample's k-means++ centroids and ran Lloyd's iterations in"
                " Spark on all of them, and inertia, Calinski-Harabasz, Davies-Bouldin and"
                " sizes are of all rows."
            ),
        )

    def fit(self, k: int, scan: Scan, selection: KSelection | None, run: FitRun) -> Partition:
        start = fit_on_sample(k, scan, run)
        with (
            spark_errors("fitting"),
            run.progress.stage(f"Lloyd's iterations with k={k} on every row in Spark", total=None),
        ):
            # The local engine's criterion: moves small against the features' variance.
            tol = 1e-4 * float(np.var(scan.X, axis=0).mean())
            fitted = fit_kmeans_spark(self._prepared, start.centroids, tol=tol)
        return Partition(
            centroids=fitted.centroids,
            labels=assign_checked(scan.X, fitted.centroids).labels,
            summary=fitted.summary,
            details={
                "engine": "spark",
                "inertia_gap": None,
                "fit_rows": start.fit_rows,
                "spark_iterations": fitted.n_iter,
            },
        )

    evaluate = staticmethod(evaluate_from_summary)

    def close(self) -> None:
        """Release the cached rows (the spread table, the prepared features)."""
        for frame in self._cached:
            frame.unpersist()
        self._cached, self._prepared = [], None
