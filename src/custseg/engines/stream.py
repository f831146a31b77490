"""The bounded-memory fit: a CSV or Parquet file read in chunks, three passes.

1. **Statistics** (one pass over all rows): column roles are inferred from the first
   chunk; every chunk is checked (a row that cannot be used stops the fit, as in
   memory), its exact moments, gaps and levels are merged
   (:class:`custseg.prepare.moments.StatisticsAccumulator`), and the rows of a uniform
   sample of :data:`~custseg.engines.assemble.EXPLAIN_SAMPLE` rows (chosen beforehand
   from the row count) are kept.
2. **Choice of k and K-means on the sample**: the preparation plan comes from the
   statistics; k is chosen on 20,000 rows of the sample and K-means (k-means++, Lloyd)
   is fitted on 100,000 of them, exactly as the in-memory fit does above 200,000 rows.
3. **Assignment and evaluation, streamed** (two passes): every row is prepared and
   assigned; sizes, segment means, within sums and inertia are merged chunk by chunk,
   then the distances to the segment means (Davies-Bouldin).

Memory holds one chunk, the sample and the per-segment sums: it does not grow with the
file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .._utils.numeric import generator
from .._utils.progress import Progress
from ..cluster import fit_kmeans
from ..cluster.kmeans import assign_checked
from ..cluster.summaries import SegmentAccumulator, canonical_permutation
from ..config import FitConfig
from ..exceptions import DataError
from ..explain import load_playbook
from ..model import SegmentationModel
from ..prepare import RowCheck, TableSchema, check_rows, infer_schema
from ..prepare.moments import StatisticsAccumulator
from ..prepare.plan import PreparationPlan
from ..sources import iter_table, table_row_count
from .assemble import (
    EXPLAIN_SAMPLE,
    OnWarning,
    assemble_model,
    evaluate_large,
    no_identifier_warning,
    select_k,
)

__all__ = ["CHUNK_ROWS", "FIT_SAMPLE", "fit_stream"]

CHUNK_ROWS = 200_000
FIT_SAMPLE = 100_000
_FIX = "clean or filter them in the file, or leave the column out (exclude)"


def _chunks(source: str | os.PathLike[str], rows: int, max_columns: int) -> Iterator[pd.DataFrame]:
    yield from iter_table(source, chunk_size=rows, max_columns=max_columns)


def _checked(frame: pd.DataFrame, schema: TableSchema) -> RowCheck:
    checked = check_rows(frame, schema)
    checked.raise_if_rejected(fix=_FIX)
    return checked


def _prepared(plan: PreparationPlan, checked: RowCheck) -> np.ndarray:
    frame = checked.frame
    columns: dict[str, np.ndarray] = {
        name: frame[name].to_numpy(dtype=np.float64) for name in plan.input_numeric
    }
    for name in plan.input_categorical:
        columns[name] = frame[name].to_numpy(dtype=object)
    return np.ascontiguousarray(plan.transform_checked(columns, len(frame)))


def fit_stream(
    source: str | os.PathLike[str],
    cfg: FitConfig,
    training: dict[str, Any],
    progress: Progress,
    *,
    chunk_rows: int = CHUNK_ROWS,
    sample_rows: int = EXPLAIN_SAMPLE,
    previous: SegmentationModel | None = None,
    on_warning: OnWarning | None = None,
) -> tuple[SegmentationModel, pd.DataFrame]:
    """Fit a segmentation of a CSV or Parquet file in bounded memory (module docstring).

    ``chunk_rows`` rows are read at a time; ``sample_rows`` is the size of the uniform
    sample kept in memory. ``previous`` and ``on_warning`` are those of
    :func:`custseg.pipeline.fit_segments`.

    Returns
    -------
    (SegmentationModel, pandas.DataFrame)
        The model and the uniform sample of raw rows (for the report).
    """
    playbook = load_playbook(cfg.playbook) if cfg.playbook is not None else None
    seed = cfg.random_state
    rng = generator(seed)
    # The header is checked against the column limit before the rows are counted.
    n_rows = table_row_count(source, max_columns=cfg.max_columns)
    if n_rows < 2:
        raise DataError(f"{os.fspath(source)!r} has {n_rows} data rows; at least 2 are needed")
    size = min(n_rows, sample_rows)
    picked = np.sort(rng.choice(n_rows, size=size, replace=False))

    schema: TableSchema | None = None
    accumulator: StatisticsAccumulator | None = None
    kept: list[pd.DataFrame] = []
    warnings: list[dict[str, Any]] = []
    n_columns = 0
    with progress.stage("Reading statistics (pass 1 of 3)", total=n_rows) as stage:
        for frame in _chunks(source, chunk_rows, cfg.max_columns):
            if schema is None:
                n_columns = frame.shape[1]
                schema = infer_schema(
                    frame,
                    id_column=cfg.id_column,
                    features=list(cfg.features) if cfg.features is not None else None,
                    exclude=list(cfg.exclude),
                )
                accumulator = StatisticsAccumulator(schema, cfg.preparation)
                if schema.id_column is None:
                    warnings.append(no_identifier_warning())
                    if on_warning is not None:
                        on_warning(warnings[-1])
            assert accumulator is not None
            checked = _checked(frame, schema)
            accumulator.update(checked.frame)
            start = int(frame.index[0]) if len(frame) else 0
            lo, hi = np.searchsorted(picked, [start, start + len(frame)])
            if hi > lo:
                kept.append(frame.iloc[picked[lo:hi] - start])
            stage.advance(len(frame))
    assert schema is not None and accumulator is not None
    if not schema.features:
        raise DataError("the table has no usable feature column; pass --features or --exclude")
    raw_sample = pd.concat(kept) if kept else pd.DataFrame()
    sample = check_rows(raw_sample, schema)
    plan = accumulator.plan(sample.frame)
    sample_X = _prepared(plan, sample)

    selection, k = select_k(sample_X, cfg, n_rows, rng, progress)
    fit_rows = cfg.fit_sample or FIT_SAMPLE
    with progress.stage(f"Fitting K-means with k={k} on the sample", total=None):
        fitted = fit_kmeans(
            sample_X,
            k,
            n_init=cfg.n_init,
            random_state=rng,
            sample_size=fit_rows if fit_rows < size else None,
        )
    centroids = fitted.centroids
    sums = SegmentAccumulator(centroids)
    with progress.stage("Assigning every row (pass 2 of 3)", total=n_rows) as stage:
        for frame in _chunks(source, chunk_rows, cfg.max_columns):
            X = _prepared(plan, _checked(frame, schema))
            assignment = assign_checked(X, centroids)
            sums.add(X, assignment.labels, assignment.distance)
            stage.advance(len(frame))
    with progress.stage("Evaluating on every row (pass 3 of 3)", total=n_rows) as stage:
        for frame in _chunks(source, chunk_rows, cfg.max_columns):
            X = _prepared(plan, _checked(frame, schema))
            sums.add_spread(X, assign_checked(X, centroids).labels)
            stage.advance(len(frame))
    summary = sums.summary()
    # Number the segments by their size among all rows (the sample's order may differ).
    order = canonical_permutation(centroids, summary.sizes)
    centroids = np.ascontiguousarray(centroids[order])
    summary = summary.permuted(order)
    metrics, sample_labels, centroids, summary, lineage = evaluate_large(
        centroids=centroids,
        summary=summary,
        sample=raw_sample,
        sample_X=sample_X,
        selection=selection,
        previous=previous,
        cfg=cfg,
        rng=rng,
        progress=progress,
    )
    with progress.stage("Explaining the segments", total=None):
        metrics["engine"] = "stream"
        metrics["inertia_gap"] = fitted.inertia_gap
        metrics["fit_rows"] = fitted.fit_rows
        selection_dict = selection.to_dict() if selection is not None else {}
        if selection_dict:
            selection_dict["explanation"] += (
                f" The table was read in chunks of {chunk_rows:,} rows (bounded memory); k"
                f" was chosen and K-means fitted on a uniform sample of {size:,} rows, then"
                f" all {n_rows:,} rows were assigned and evaluated."
            )
        model = assemble_model(
            data=raw_sample.reset_index(drop=True),
            checked=sample,
            schema=schema,
            plan=plan,
            labels=sample_labels,
            centroids=centroids,
            sizes=summary.sizes,
            prepared=sample_X,
            metrics=metrics,
            selection=selection_dict,
            cfg=cfg,
            playbook=playbook,
            training={
                "rows": int(n_rows),
                "columns": int(n_columns),
                "explained_on": {"rows": int(len(sample.frame)), "sample": "uniform"},
                **training,
                "engine": "stream",
            },
            lineage=lineage,
            warnings=warnings,
            warn=on_warning,
        )
    return model, raw_sample.reset_index(drop=True)
