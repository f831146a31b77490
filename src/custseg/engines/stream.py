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

import numpy as np
import pandas as pd

from .._utils.progress import Progress
from ..cluster.kmeans import assign_checked
from ..cluster.selection import KSelection
from ..cluster.summaries import SegmentAccumulator, SegmentSummary, canonical_permutation
from ..config import FitConfig
from ..exceptions import DataError
from ..prepare import RowCheck, TableSchema, check_rows
from ..prepare.moments import StatisticsAccumulator
from ..prepare.plan import PreparationPlan
from ..sources import iter_table, table_row_count
from .assemble import EXPLAIN_SAMPLE
from .protocol import (
    FitRun,
    Partition,
    Scan,
    evaluate_from_summary,
    fit_on_sample,
    infer_fit_schema,
)

__all__ = ["CHUNK_ROWS", "StreamEngine"]

CHUNK_ROWS = 200_000
_FIX = "clean or filter them in the file, or leave the column out (exclude)"


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


class StreamEngine:
    """Fits a CSV or Parquet file in bounded memory (see the module docstring).

    Parameters
    ----------
    source : str or path-like
        The file.
    chunk_rows : int, default=CHUNK_ROWS
        Rows read at a time.
    sample_rows : int, default=EXPLAIN_SAMPLE
        Size of the uniform sample kept in memory.
    """

    name = "stream"

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        chunk_rows: int = CHUNK_ROWS,
        sample_rows: int = EXPLAIN_SAMPLE,
    ) -> None:
        self.source = source
        self.chunk_rows = chunk_rows
        self.sample_rows = sample_rows

    def _frames(self, cfg: FitConfig) -> Iterator[pd.DataFrame]:
        yield from iter_table(self.source, chunk_size=self.chunk_rows, max_columns=cfg.max_columns)

    def scan(self, run: FitRun) -> Scan:
        cfg, rng, progress = run.cfg, run.rng, run.progress
        # The header is checked against the column limit before the rows are counted.
        n_rows = table_row_count(self.source, max_columns=cfg.max_columns)
        if n_rows < 2:
            raise DataError(
                f"{os.fspath(self.source)!r} has {n_rows} data rows; at least 2 are needed"
            )
        size = min(n_rows, self.sample_rows)
        picked = np.sort(rng.choice(n_rows, size=size, replace=False))
        schema: TableSchema | None = None
        accumulator: StatisticsAccumulator | None = None
        kept: list[pd.DataFrame] = []
        n_columns = 0
        with progress.stage("Reading statistics (pass 1 of 3)", total=n_rows) as stage:
            for frame in self._frames(cfg):
                if schema is None:
                    n_columns = frame.shape[1]
                    first = (
                        "the table" if len(frame) >= n_rows else f"the first {len(frame):,} rows"
                    )
                    schema = infer_fit_schema(frame, cfg, what=first)
                    run.seen(schema)
                    accumulator = StatisticsAccumulator(schema, cfg.preparation)
                assert accumulator is not None
                accumulator.update(_checked(frame, schema).frame)
                start = int(frame.index[0]) if len(frame) else 0
                lo, hi = np.searchsorted(picked, [start, start + len(frame)])
                if hi > lo:
                    kept.append(frame.iloc[picked[lo:hi] - start])
                stage.advance(len(frame))
        assert schema is not None and accumulator is not None
        rows = (pd.concat(kept) if kept else pd.DataFrame()).reset_index(drop=True)
        checked = check_rows(rows, schema)
        plan = accumulator.plan(checked.frame)
        return Scan(
            schema=schema,
            plan=plan,
            n_rows=n_rows,
            n_columns=n_columns,
            rows=rows,
            checked=checked,
            X=_prepared(plan, checked),
            training={"engine": "stream"},
            note=(
                f"The table was read in chunks of {self.chunk_rows:,} rows (bounded memory);"
                f" k was chosen and K-means fitted on a uniform sample of {size:,} rows, then"
                f" all {n_rows:,} rows were assigned and evaluated."
            ),
        )

    def fit(self, k: int, scan: Scan, selection: KSelection | None, run: FitRun) -> Partition:
        cfg, progress = run.cfg, run.progress
        fitted = fit_on_sample(k, scan, run)
        summary = self._summarise(fitted.centroids, scan, cfg, progress)
        # Number the segments by their size among all rows (the sample's order may differ).
        order = canonical_permutation(fitted.centroids, summary.sizes)
        centroids = np.ascontiguousarray(fitted.centroids[order])
        return Partition(
            centroids=centroids,
            labels=assign_checked(scan.X, centroids).labels,
            summary=summary.permuted(order),
            details={
                "engine": "stream",
                "inertia_gap": fitted.inertia_gap,
                "fit_rows": fitted.fit_rows,
            },
        )

    def _summarise(
        self, centroids: np.ndarray, scan: Scan, cfg: FitConfig, progress: Progress
    ) -> SegmentSummary:
        """Passes 2 and 3: every row assigned, then its distance to its segment's mean."""
        sums = SegmentAccumulator(centroids)
        with progress.stage("Assigning every row (pass 2 of 3)", total=scan.n_rows) as stage:
            for frame in self._frames(cfg):
                X = _prepared(scan.plan, _checked(frame, scan.schema))
                assignment = assign_checked(X, centroids)
                sums.add(X, assignment.labels, assignment.distance)
                stage.advance(len(frame))
        with progress.stage("Evaluating on every row (pass 3 of 3)", total=scan.n_rows) as stage:
            for frame in self._frames(cfg):
                X = _prepared(scan.plan, _checked(frame, scan.schema))
                sums.add_spread(X, assign_checked(X, centroids).labels)
                stage.advance(len(frame))
        return sums.summary()

    evaluate = staticmethod(evaluate_from_summary)

    def close(self) -> None:
        """Nothing to release: every pass closes its reader."""
