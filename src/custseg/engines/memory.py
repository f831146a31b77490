"""The in-memory engine: the whole table is a DataFrame, every step sees every row.

Above :data:`AUTO_FIT_SAMPLE_ROWS` rows the final K-means is fitted on a sample of
:data:`~custseg.engines.assemble.FIT_SAMPLE` rows and every row is then assigned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..cluster import evaluate_segmentation, fit_kmeans
from ..cluster.selection import KSelection
from ..prepare import PreparationPlan, check_rows
from .assemble import FIT_SAMPLE
from .protocol import FitRun, Partition, Scan, infer_fit_schema

__all__ = ["AUTO_FIT_SAMPLE_ROWS", "MemoryEngine"]

AUTO_FIT_SAMPLE_ROWS = 200_000


class MemoryEngine:
    """Fits a DataFrame held in memory (see the module docstring).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer, at least one row (checked by the caller).
    """

    name = "memory"

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data

    def scan(self, run: FitRun) -> Scan:
        cfg, progress = run.cfg, run.progress
        schema = infer_fit_schema(self.data, cfg)
        run.seen(schema)
        checked = check_rows(self.data, schema)
        checked.raise_if_rejected(
            fix="clean or filter them in the query or the file, or leave the column out (exclude)"
        )
        with progress.stage("Preparing features", total=None):
            plan, X = PreparationPlan.fit_transform(checked, schema, cfg.preparation)
        return Scan(
            schema=schema,
            plan=plan,
            n_rows=int(X.shape[0]),
            n_columns=int(self.data.shape[1]),
            rows=self.data,
            checked=checked,
            X=X,
        )

    def fit(self, k: int, scan: Scan, selection: KSelection | None, run: FitRun) -> Partition:
        cfg, progress = run.cfg, run.progress
        n_rows = scan.n_rows
        fit_sample = cfg.fit_sample
        if fit_sample is None and n_rows > AUTO_FIT_SAMPLE_ROWS:
            fit_sample = FIT_SAMPLE
        if fit_sample is not None and fit_sample >= n_rows:
            fit_sample = None
        if (
            selection is not None
            and not selection.sampled
            and fit_sample is None
            and k in selection.fits
        ):
            # The sweep already fitted this k on every row with the same starts: its
            # stability and indices describe exactly this partition.
            fitted = selection.fits[k]
            measured = selection.measured.get(k)
        else:
            measured = None
            with progress.stage(f"Fitting K-means with k={k}", total=None):
                fitted = fit_kmeans(
                    scan.X,
                    k,
                    n_init=cfg.n_init,
                    random_state=cfg.random_state,
                    sample_size=fit_sample,
                )
        return Partition(
            centroids=np.asarray(fitted.centroids, dtype=np.float64),
            labels=fitted.labels,
            details={"engine": fitted.engine, "inertia_gap": fitted.inertia_gap},
            measured=measured,
        )

    def evaluate(self, partition: Partition, scan: Scan, run: FitRun) -> dict[str, Any]:
        return evaluate_segmentation(
            scan.X,
            partition.labels,
            partition.centroids,
            max_exact=run.cfg.silhouette_max_exact,
            random_state=run.cfg.random_state,
            stability=partition.stability,
            measured=partition.measured,
        )

    def close(self) -> None:
        """Nothing to release."""
