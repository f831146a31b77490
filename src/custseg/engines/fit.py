"""The one fit: an engine's steps, in order, between one beginning and one end.

:func:`run_fit` is every fit custseg makes (``fit_segments``, ``custseg fit`` with any
``--engine``): the playbook is read and the missing identifier said before any work,
the engine scans the table (:meth:`~custseg.engines.protocol.Engine.scan`), k is chosen
by the one sweep on the rows in memory (:func:`select_k`), the engine fits and
evaluates, the segments continue those of a previous model (:mod:`.lineage`), and the
model is assembled (:func:`~custseg.engines.assemble.assemble_model`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._utils.numeric import RandomState, generator
from .._utils.progress import NO_PROGRESS, Progress
from ..cluster.selection import KSelection, choose_n_clusters
from ..config import FitConfig
from ..exceptions import DataError
from ..explain import load_playbook
from ..model import SegmentationModel
from ..prepare import TableSchema
from .assemble import OnWarning, assemble_model, no_identifier_warning
from .lineage import Lineage, align_segments
from .protocol import Engine, FitRun, Partition, Scan

__all__ = ["FitResult", "k_values", "run_fit", "select_k"]


class FitResult(NamedTuple):
    """A fitted model and the raw rows it was explained on (for the report).

    ``rows`` is the whole table for the in-memory engine, a uniform sample otherwise.
    """

    model: SegmentationModel
    rows: pd.DataFrame


def run_fit(
    engine: Engine,
    cfg: FitConfig,
    *,
    training: dict[str, Any] | None = None,
    progress: Progress = NO_PROGRESS,
    previous: SegmentationModel | None = None,
    on_warning: OnWarning | None = None,
) -> FitResult:
    """Fit a segmentation with ``engine`` (see the module docstring).

    Parameters
    ----------
    engine : Engine
        Reads the table (:mod:`custseg.engines.protocol`); closed on return.
    cfg : FitConfig
        All settings.
    training : dict or None, default=None
        What the data is (source, query, sha256), stored in the model.
    progress : Progress, default=NO_PROGRESS
        Receives the progress of the long steps.
    previous : SegmentationModel or None, default=None
        The model this one replaces: continuing segments keep their ids and names.
    on_warning : callable or None, default=None
        Receives each warning as soon as it is known.

    Returns
    -------
    FitResult
    """
    # A playbook given by the user is read (and refused) before any work.
    playbook = load_playbook(cfg.playbook) if cfg.playbook is not None else None
    warnings: list[dict[str, Any]] = []

    def seen(schema: TableSchema) -> None:
        if not schema.features:
            if schema.descriptors:
                # Only who the customers are: demographic segments are the user's call.
                raise DataError(
                    f"the table has no behaviour column, only descriptors"
                    f" ({', '.join(schema.descriptors[:5])}); cluster on them with"
                    " cluster_descriptors=True (--cluster-descriptors) or add behavioural columns"
                )
            ignored = "; ".join(f"{c.name}: {c.reason}" for c in schema.columns[:5])
            raise DataError(
                f"the table has no usable feature column ({ignored}); name the behaviour"
                " columns with features=[...] (--features) or add behavioural columns"
            )
        if schema.id_column is None:
            # Said at once, before any fitting: the user may stop and name the key.
            warnings.append(no_identifier_warning())
            if on_warning is not None:
                on_warning(warnings[-1])

    run = FitRun(cfg, generator(cfg.random_state), progress, seen)
    try:
        scan = engine.scan(run)
        selection, k = select_k(scan.X, cfg, scan.n_rows, cfg.random_state, progress)
        partition = engine.fit(k, scan, selection, run)
    finally:
        engine.close()
    partition = replace(partition, stability=_stability(selection, k))
    lineage = None
    if previous is not None:
        with progress.stage("Aligning the segments with the previous model", total=None):
            lineage, partition = _continue(previous, scan, partition)
    with progress.stage("Evaluating and explaining the segments", total=None):
        metrics = engine.evaluate(partition, scan, run)
        metrics.update(partition.details)
        metrics.update(_segment_stability(selection, k, partition))
        model = assemble_model(
            data=scan.rows,
            checked=scan.checked,
            schema=scan.schema,
            plan=scan.plan,
            labels=partition.labels,
            centroids=partition.centroids,
            sizes=partition.sizes,
            prepared=scan.X,
            metrics=metrics,
            selection=_selection_record(selection, scan),
            cfg=cfg,
            playbook=playbook,
            training={
                "rows": int(scan.n_rows),
                "columns": int(scan.n_columns),
                **_explained_on(scan),
                **(training or {}),
                **scan.training,
            },
            lineage=lineage,
            warnings=warnings,
            warn=on_warning,
        )
    return FitResult(model, scan.rows)


def k_values(cfg: FitConfig, n_rows: int) -> list[int]:
    """The k swept: the configured range (and ``cfg.k``) that ``n_rows`` allow.

    Raises
    ------
    DataError
        If there are fewer rows than ``cfg.k`` or too few to try the smallest k.
    """
    lo, hi = cfg.k_range
    if cfg.k is not None and cfg.k > n_rows:
        raise DataError(
            f"n_rows={n_rows} should be >= k={cfg.k}; ask for fewer segments or more customers"
        )
    if lo > n_rows - 1:
        raise DataError(
            f"n_rows={n_rows} is too few to try k from {lo}; at least {lo + 1} customers are needed"
        )
    values = list(range(lo, min(hi, n_rows - 1) + 1))
    if cfg.k is not None and cfg.k not in values and cfg.k >= 2:
        values = sorted({*values, cfg.k})
    return values


def select_k(
    rows: np.ndarray,
    cfg: FitConfig,
    n_rows: int,
    random_state: RandomState,
    progress: Progress,
) -> tuple[KSelection | None, int]:
    """The k sweep of the configured range on prepared ``rows``, and the k to fit.

    ``n_rows`` counts the rows of the whole table (``rows`` may be a sample of it). The
    k to fit is ``cfg.k`` when set, else the recommended one; no sweep runs when the
    table allows no k (one segment).
    """
    ks = k_values(cfg, n_rows)
    selection = None
    if ks:
        selection = choose_n_clusters(
            rows,
            k_range=ks,
            n_init=cfg.n_init,
            n_resamples=cfg.n_resamples,
            max_resamples=cfg.max_resamples,
            sample_size=cfg.selection_sample if rows.shape[0] > cfg.selection_sample else None,
            silhouette_max_exact=cfg.silhouette_max_exact,
            random_state=random_state,
            progress=progress,
        )
    k = cfg.k if cfg.k is not None else (selection.recommended_k if selection else 1)
    return selection, k


def _stability(selection: KSelection | None, k: int) -> tuple[float, float] | None:
    if selection is None or all(c.k != k for c in selection.candidates):
        return None
    candidate = selection.candidate(k)
    return candidate.stability_ari, candidate.stability_min


def _segment_stability(
    selection: KSelection | None, k: int, partition: Partition
) -> dict[str, Any]:
    """Every final segment's stability, from the sweep's refits of ``k`` (metrics keys).

    Read on the rows the sweep compared (the rows in memory, or the driver's sample of
    the stream and Spark engines), assigned to the final centroids in their final
    numbering.
    """
    found = selection.segment_stability(k, partition.centroids) if selection else None
    if found is None:
        return {}
    return {
        "segment_stability": found.to_records(),
        "segment_stability_resamples": found.n_resamples,
    }


def _explained_on(scan: Scan) -> dict[str, Any]:
    if not scan.sampled:
        return {}
    return {"explained_on": {"rows": int(len(scan.rows)), "sample": "uniform"}}


def _selection_record(selection: KSelection | None, scan: Scan) -> KSelection | None:
    """The sweep as the model keeps it: without the fits of every k (labels of every row)."""
    if selection is None:
        return None
    explanation = f"{selection.explanation} {scan.note}" if scan.note else selection.explanation
    return replace(selection, explanation=explanation, fits={}, measured={}, refits={})


def _continue(
    previous: SegmentationModel, scan: Scan, partition: Partition
) -> tuple[Lineage, Partition]:
    """The partition renumbered after the segments of ``previous`` it continues."""
    lineage = align_segments(previous, scan.rows, partition.labels)
    summary = partition.summary
    if summary is not None:
        # lineage.order[j] is the final id of fitted segment j: final i comes from argsort.
        summary = summary.permuted(np.argsort(lineage.order))
    renumbered = replace(
        partition,
        centroids=lineage.reorder(partition.centroids),
        labels=lineage.relabel(partition.labels),
        summary=summary,
        # Measured per segment in the fitted numbering: measured again in the new one.
        measured=None,
    )
    return lineage, renumbered
