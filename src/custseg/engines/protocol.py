"""What an engine is: the steps every fit takes, whatever holds the rows.

A fit is five steps (:func:`custseg.engines.fit.run_fit` runs them in this order):

1. **statistics → plan, sample** (:meth:`Engine.scan`): the column roles, the checked
   rows, the preparation plan and the rows held in memory — every row for the
   in-memory engine, a uniform sample for the stream and Spark engines;
2. **sweep** (shared by every engine): k is chosen on the prepared rows in memory
   (:func:`custseg.cluster.choose_n_clusters`, itself on a sample of 20,000 rows above
   that size), so the engines differ in how they read rows, never in the rule;
3. **final fit** (:meth:`Engine.fit`): K-means with the chosen k, in memory, on the
   sample then streamed over every row, or by Lloyd's iterations in Spark over every row;
4. **evaluation** (:meth:`Engine.evaluate`): the registered indices; an engine that
   never holds every row hands over per-segment sums (a
   :class:`~custseg.cluster.summaries.SegmentSummary`), from which the indices that can
   compute themselves so do, the others on the sample;
5. **explanation** (shared, :func:`custseg.engines.assemble.assemble_model`).

Adding an engine is one class with :meth:`~Engine.scan`, :meth:`~Engine.fit`,
:meth:`~Engine.evaluate` and :meth:`~Engine.close`, and one entry in
:data:`custseg.engines.dispatch.ENGINES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .._utils.patterns import columns_matching
from .._utils.progress import Progress
from ..cluster import fit_kmeans
from ..cluster.indices import Measured
from ..cluster.kmeans import KMeansFit
from ..cluster.selection import KSelection
from ..cluster.summaries import SegmentSummary, evaluation_from_summary
from ..config import FitConfig
from ..explain import choose_playbook
from ..prepare import PreparationPlan, RowCheck, TableSchema, infer_schema
from ..prepare.grain import CountDistinct, check_customer_rows
from ..prepare.schema import clean_column_name
from .assemble import FIT_SAMPLE

__all__ = [
    "Engine",
    "FitRun",
    "Partition",
    "Scan",
    "SchemaSeen",
    "evaluate_from_summary",
    "fit_on_sample",
    "infer_fit_schema",
]

SchemaSeen = Callable[[TableSchema], None]
"""Called by :meth:`Engine.scan` as soon as the column roles are known (before any fit)."""


@dataclass(frozen=True)
class FitRun:
    """What every step of one fit reads: its settings, its random stream and its progress.

    ``seen`` is called by :meth:`Engine.scan` with the column roles as soon as they are
    known: the fit says a missing identifier, or stops on a table without features,
    before any work on the rows.
    """

    cfg: FitConfig
    rng: np.random.Generator
    progress: Progress
    seen: SchemaSeen


@dataclass(frozen=True)
class Scan:
    """What an engine's statistics pass hands to the rest of the fit.

    Attributes
    ----------
    schema, plan : TableSchema, PreparationPlan
        The column roles and the preparation, from statistics of every row.
    n_rows, n_columns : int
        Rows and columns of the whole table.
    rows : pandas.DataFrame
        The raw rows held in memory (every row, or a uniform sample), all usable, with
        a fresh index: the segments are explained on them.
    checked : RowCheck
        ``rows`` checked against ``schema``.
    X : numpy.ndarray
        ``rows`` prepared by ``plan``: k is chosen on them.
    training : dict
        What the engine adds to the model's ``training`` record (the engine's name,
        ``explained_on`` when ``rows`` is a sample...).
    note : str
        A sentence added to the explanation of the choice of k (how the rows were read).
    """

    schema: TableSchema
    plan: PreparationPlan
    n_rows: int
    n_columns: int
    rows: pd.DataFrame
    checked: RowCheck
    X: np.ndarray
    training: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def sampled(self) -> bool:
        """Whether :attr:`rows` is a sample of the table."""
        return len(self.rows) < self.n_rows


@dataclass(frozen=True)
class Partition:
    """The final fit, in the segments' canonical order (largest first).

    Attributes
    ----------
    centroids : numpy.ndarray, shape (k, d)
    labels : numpy.ndarray
        Segment of each row of :attr:`Scan.rows`.
    summary : SegmentSummary or None
        Per-segment sums over every row of the table, when the engine does not hold
        them all in memory (``None``: :attr:`Scan.rows` is the whole table).
    details : dict
        Engine figures stored in the metrics (``engine``, ``inertia_gap``,
        ``fit_rows``, ``spark_iterations``...).
    measured : mapping of str to Measured or None
        Indices the sweep already measured on exactly these rows and labels.
    stability : (float, float) or None
        The sweep's stability of this k (median and lowest ARI), when it was swept.
    """

    centroids: np.ndarray
    labels: np.ndarray
    summary: SegmentSummary | None = None
    details: dict[str, Any] = field(default_factory=dict)
    measured: Mapping[str, Measured] | None = None
    stability: tuple[float, float] | None = None

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def sizes(self) -> np.ndarray:
        """Rows per segment among every row of the table."""
        if self.summary is not None:
            return np.asarray(self.summary.sizes)
        return np.bincount(self.labels, minlength=self.k)


class Engine(Protocol):
    """One way of reading and fitting a table (see the module docstring)."""

    name: str

    def scan(self, run: FitRun) -> Scan:
        """Statistics of every row → the plan; the rows held in memory, prepared."""
        ...

    def fit(self, k: int, scan: Scan, selection: KSelection | None, run: FitRun) -> Partition:
        """K-means with ``k`` segments (``selection``: the sweep, whose fits may be reused)."""
        ...

    def evaluate(self, partition: Partition, scan: Scan, run: FitRun) -> dict[str, Any]:
        """The evaluation document of the partition (every registered index)."""
        ...

    def close(self) -> None:
        """Release what the engine holds (a Spark cache...); called once, always."""
        ...


def evaluate_from_summary(partition: Partition, scan: Scan, run: FitRun) -> dict[str, Any]:
    """The evaluation of an engine that summarises every row by segment.

    Sizes, inertia and the indices that compute themselves from per-segment sums are of
    every row; the others are measured on the sample (:attr:`Scan.X`).
    """
    assert partition.summary is not None
    return evaluation_from_summary(
        partition.summary,
        partition.centroids,
        scan.X,
        partition.labels,
        random_state=run.rng,
        max_exact=run.cfg.silhouette_max_exact,
        stability=partition.stability,
    )


def fit_on_sample(k: int, scan: Scan, run: FitRun) -> KMeansFit:
    """K-means++ (``n_init`` starts, Lloyd) on the rows in memory, at most ``fit_sample`` of
    them (:data:`~custseg.engines.assemble.FIT_SAMPLE` by default): the final fit of the
    stream engine, the start of the Spark engine's iterations over every row."""
    fit_rows = run.cfg.fit_sample or FIT_SAMPLE
    with run.progress.stage(f"Fitting K-means with k={k} on the sample", total=None):
        return fit_kmeans(
            scan.X,
            k,
            n_init=run.cfg.n_init,
            random_state=run.rng,
            sample_size=fit_rows if fit_rows < len(scan.X) else None,
        )


def infer_fit_schema(
    frame: pd.DataFrame,
    cfg: FitConfig,
    *,
    what: str = "the table",
    count_distinct: CountDistinct | None = None,
) -> TableSchema:
    """The column roles of a fit's rows, with the settings' overrides.

    Transaction lines are refused first (unless ``cfg.segment_rows``): ``what`` names
    the rows in the message, ``count_distinct`` counts a customer column over the whole
    table when ``frame`` is a sample (:func:`custseg.prepare.grain.check_customer_rows`).
    Descriptors are those recognised (:mod:`custseg.prepare.descriptors`), those of
    ``cfg.descriptors`` and the columns matching the playbook's ``descriptors`` group.
    """
    if not cfg.segment_rows:
        check_customer_rows(
            frame, id_column=cfg.id_column, count_distinct=count_distinct, what=what
        )
    names = [clean_column_name(c) for c in frame.columns]
    playbook = choose_playbook(names, cfg.playbook).playbook
    listed = columns_matching(playbook.groups.get("descriptors", ()), names)
    return infer_schema(
        frame,
        id_column=cfg.id_column,
        features=list(cfg.features) if cfg.features is not None else None,
        exclude=list(cfg.exclude),
        descriptors=[*cfg.descriptors, *(n for n in listed if n not in cfg.descriptors)],
        cluster_descriptors=cfg.cluster_descriptors,
    )
