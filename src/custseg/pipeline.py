"""From a customer table to a fitted, evaluated and explained :class:`SegmentationModel`.

:func:`fit_segments` is the one orchestration function of the package. Every step is a
plain call into a module with one job; this module only wires them together::

    infer_schema → check_rows → PreparationPlan.fit/transform → choose_n_clusters
    → fit_kmeans → (align_segments with a previous model) → evaluate_segmentation
    → assemble_model: profile_segments → segment_rules → name_segments
      → profile_outcomes → single_column_rules → SegmentationModel

The last step, :func:`custseg.engines.assemble.assemble_model`, is shared with the
stream and Spark engines (:func:`custseg.engines.fit_large`), which reach it from a pass
over every row of a file or a Spark table instead of a DataFrame in memory.

What the reader of a model should know before trusting it becomes a warning
(``SegmentationModel.warnings``), reported as soon as it is known through
``on_warning``: no identifier column (said right after the schema, before any fitting)
and segments one column reproduces alone (the leakage guard,
:mod:`custseg.explain.leakage`).

:func:`fit_to_folder` is what ``custseg fit`` does: fit, then write the model, its
metrics document (:func:`metrics_document`) and the report into one folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._utils.folders import atomic_folder, write_fit_marker
from ._utils.io import write_text_atomic
from ._utils.progress import NO_PROGRESS, Progress
from .cluster import evaluate_segmentation, fit_kmeans
from .cluster.indices import INDICES
from .config import FitConfig
from .engines.assemble import OnWarning, assemble_model, no_identifier_warning, select_k
from .exceptions import ConfigError, DataError
from .explain import load_playbook
from .model import SegmentationModel, load_model, save_model
from .prepare import (
    PreparationPlan,
    TableSchema,
    check_rows,
    infer_schema,
)
from .engines.lineage import align_segments

__all__ = ["FitOutput", "fit_segments", "fit_to_folder", "metrics_document"]

# Above this many rows the final K-means is fitted on a sample and every row is then
# assigned: a few thousand rows per centroid reach an inertia within 1-3% of the full fit.
_AUTO_FIT_SAMPLE_ROWS = 200_000
_AUTO_FIT_SAMPLE_SIZE = 100_000


def fit_segments(
    data: pd.DataFrame,
    *,
    k: int | None = None,
    k_range: tuple[int, int] | None = None,
    random_state: int | None = None,
    config: FitConfig | None = None,
    training: Mapping[str, Any] | None = None,
    progress: Progress = NO_PROGRESS,
    previous: SegmentationModel | str | os.PathLike[str] | None = None,
    on_warning: OnWarning | None = None,
) -> SegmentationModel:
    """Fit an explained K-means segmentation of a customer table.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer: an identifier column and behavioural columns.
    k : int or None, default=None
        Number of segments. ``None`` uses ``config.k`` or the recommended k.
    k_range : tuple of int or None, default=None
        ``(min, max)`` k tried when choosing k; overrides ``config.k_range``.
    random_state : int or None, default=None
        Seed of every random step; overrides ``config.random_state``.
    config : FitConfig or None, default=None
        All settings; :class:`FitConfig` defaults when ``None``.
    training : mapping or None, default=None
        What the data is (source, query, manifest sha256), stored in the model.
    progress : Progress, default=NO_PROGRESS
        Receives progress of the long steps.
    previous : SegmentationModel, path or None, default=None
        The model this one replaces: segments that continue previous ones keep their
        ids and names, and the model's ``lineage`` records the matched, new and retired
        segments (see :func:`custseg.engines.lineage.align_segments`).
    on_warning : callable or None, default=None
        Called with each warning (``{"kind": ..., "message": ...}``) as soon as it is
        known: the missing identifier right after the columns are read, before any
        fitting. Every warning is also in ``model.warnings``.

    Returns
    -------
    SegmentationModel
        The model, with metrics, k selection, profiles (``profiles["outcomes"]``: the
        mean of every outcome column per segment), rules, names, strategies and
        warnings.

    Raises
    ------
    DataError
        If the table has too few rows, no usable feature or unusable values.
    SchemaError
        If an override names an unknown column or the identifier repeats.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data should be a pandas DataFrame, got {type(data).__name__}; read files with"
            " custseg.sources.read_table"
        )
    cfg = (config or FitConfig()).with_overrides(
        k=k,
        k_range=tuple(k_range) if k_range is not None else None,
        random_state=random_state,
    )
    if len(data) == 0:
        raise DataError("the table has no rows; check the query or the input file")
    # A playbook given by the user is read (and refused) before any work.
    playbook = load_playbook(cfg.playbook) if cfg.playbook is not None else None
    return _fit(
        data, cfg, playbook, dict(training or {}), progress, _previous_model(previous), on_warning
    )


@dataclass(frozen=True)
class FitOutput:
    """What :func:`fit_to_folder` fitted and wrote.

    Attributes
    ----------
    model : SegmentationModel
        The fitted model, as saved in ``model.json``.
    metrics : dict
        The metrics document saved in ``metrics.json`` (see :func:`metrics_document`).
    files : dict of str to pathlib.Path
        Every written file, keyed by its path relative to the folder: ``model.json``,
        ``metrics.json`` and, with the report, ``report.html``, ``summary.md``,
        ``profiles.csv`` and ``figures/<name>.png``.
    """

    model: SegmentationModel
    metrics: dict[str, Any]
    files: dict[str, Path]


def fit_to_folder(
    data: pd.DataFrame | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    config: FitConfig | None = None,
    training: Mapping[str, Any] | None = None,
    report: bool = True,
    progress: Progress = NO_PROGRESS,
    engine: str = "memory",
    spark_master: str | None = None,
    previous: SegmentationModel | str | os.PathLike[str] | None = None,
    on_warning: OnWarning | None = None,
) -> FitOutput:
    """Fit a segmentation and write the model, its metrics and its report to a folder.

    This is what ``custseg fit`` and ``custseg demo`` write. Every file is written
    atomically (a reader never sees half a file); files of an earlier fit in the
    folder are replaced.

    Parameters
    ----------
    data : pandas.DataFrame, str or path-like
        One row per customer (see :func:`fit_segments`); with ``engine="stream"`` a
        CSV or Parquet file, with ``engine="spark"`` a Parquet dataset or table name.
    out : str or path-like
        Destination folder, created if needed.
    config : FitConfig or None, default=None
        All settings; :class:`FitConfig` defaults when ``None``.
    training : mapping or None, default=None
        What the data is (source, query, sha256 of the file), stored in the model.
    report : bool, default=True
        Also write ``report.html``, ``summary.md``, ``profiles.csv`` and ``figures/``
        with :func:`custseg.report.write_report` (on ``data``).
    progress : Progress, default=NO_PROGRESS
        Receives the progress of the fit and of the report.
    engine : {"memory", "stream", "spark"}, default="memory"
        ``memory``: :func:`fit_segments` on the table in memory; ``stream`` and
        ``spark``: :func:`custseg.engines.fit_large` (bounded memory, or Spark; the
        report then reads the uniform sample the segments were explained on).
    spark_master : str or None, default=None
        Spark master of the ``spark`` engine (``local[2]``, ``spark://host:7077``...).
    previous : SegmentationModel, path or None, default=None
        The model this one replaces (see :func:`fit_segments`).
    on_warning : callable or None, default=None
        Receives each warning as soon as it is known (see :func:`fit_segments`).

    Returns
    -------
    FitOutput
        The model, the metrics document and the written files.

    Raises
    ------
    ConfigError
        If ``out`` is a file or the folder cannot be created; also invalid settings.
    DataError, SchemaError
        As :func:`fit_segments`.

    Examples
    --------
    >>> from custseg.sources import read_table, sample_path
    >>> frame = read_table(sample_path())
    >>> output = fit_to_folder(frame, "segments", report=False)  # doctest: +SKIP
    >>> sorted(output.files)  # doctest: +SKIP
    ['metrics.json', 'model.json']
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"out={os.fspath(out)!r} (--out) is a file; give a folder such as segments/"
        )
    # The folder is written as a whole: a staging folder replaces it in one rename, so
    # a crash, a full disk or a second fit never leaves files of two runs side by side.
    with atomic_folder(folder) as staging:
        if engine == "memory":
            if not isinstance(data, pd.DataFrame):
                raise ConfigError(
                    "engine='memory' fits a DataFrame; read the file first or use 'stream'"
                )
            model = fit_segments(
                data,
                config=config,
                training=training,
                progress=progress,
                previous=previous,
                on_warning=on_warning,
            )
        else:
            from .engines import fit_large

            if isinstance(data, pd.DataFrame):
                raise ConfigError(f"engine={engine!r} reads a file or a table, not a DataFrame")
            model, data = fit_large(
                data,
                engine=engine,
                config=config,
                training=dict(training or {}),
                spark_master=spark_master,
                progress=progress,
                previous=_previous_model(previous),
                on_warning=on_warning,
            )
        document = metrics_document(model)
        save_model(model, staging / "model.json")
        write_text_atomic(
            staging / "metrics.json", json.dumps(document, indent=2, allow_nan=False) + "\n"
        )
        names = ["model.json", "metrics.json"]
        if report:
            # figures and templates: loaded only when asked
            from .report.write import write_report_files

            written = write_report_files(model, data, staging, progress=progress)
            names += [name for name in written if name not in names]
        write_fit_marker(staging, names)
    files = {name: folder / name for name in names}
    return FitOutput(model=model, metrics=document, files=files)


def _previous_model(
    previous: SegmentationModel | str | os.PathLike[str] | None,
) -> SegmentationModel | None:
    if previous is None or isinstance(previous, SegmentationModel):
        return previous
    return load_model(previous)


def _fit(
    data: pd.DataFrame,
    cfg: FitConfig,
    playbook: Any,
    training: dict[str, Any],
    progress: Progress,
    previous: SegmentationModel | None = None,
    on_warning: OnWarning | None = None,
) -> SegmentationModel:
    seed = cfg.random_state
    warnings: list[dict[str, Any]] = []

    schema = infer_schema(
        data,
        id_column=cfg.id_column,
        features=list(cfg.features) if cfg.features is not None else None,
        exclude=list(cfg.exclude),
    )
    if schema.id_column is None:
        # Said at once, before any fitting: the user may stop and name the key.
        warnings.append(no_identifier_warning())
        if on_warning is not None:
            on_warning(warnings[-1])
    checked = check_rows(data, schema)
    checked.raise_if_rejected(
        fix="clean or filter them in the query or the file, or leave the column out (exclude)"
    )
    with progress.stage("Preparing features", total=None):
        plan, X = PreparationPlan.fit_transform(checked, schema, cfg.preparation)
    n_rows = X.shape[0]
    selection, k = select_k(X, cfg, n_rows, seed, progress)

    fit_sample = cfg.fit_sample
    if fit_sample is None and n_rows > _AUTO_FIT_SAMPLE_ROWS:
        fit_sample = _AUTO_FIT_SAMPLE_SIZE
    measured = None
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
        with progress.stage(f"Fitting K-means with k={k}", total=None):
            fitted = fit_kmeans(
                X,
                k,
                n_init=cfg.n_init,
                random_state=seed,
                sample_size=fit_sample if fit_sample is not None and fit_sample < n_rows else None,
            )
    labels, centroids = fitted.labels, np.asarray(fitted.centroids, dtype=np.float64)
    lineage = None
    if previous is not None:
        # Renumber before anything is computed per segment: the previous ids and names.
        with progress.stage("Aligning the segments with the previous model", total=None):
            lineage = align_segments(previous, data, labels)
        labels, centroids = lineage.relabel(labels), lineage.reorder(centroids)

    with progress.stage("Evaluating and explaining the segments", total=None):
        stability = None
        if selection is not None and k in selection.fits:
            candidate = selection.candidate(k)
            stability = (candidate.stability_ari, candidate.stability_min)
        metrics = evaluate_segmentation(
            X,
            labels,
            centroids,
            max_exact=cfg.silhouette_max_exact,
            random_state=seed,
            stability=stability,
            measured=measured,
        )
        metrics["engine"] = fitted.engine
        metrics["inertia_gap"] = fitted.inertia_gap
        return assemble_model(
            data=data,
            checked=checked,
            schema=schema,
            plan=plan,
            labels=labels,
            centroids=centroids,
            sizes=np.bincount(labels, minlength=k),
            prepared=X,
            metrics=metrics,
            selection=selection.to_dict() if selection is not None else {},
            cfg=cfg,
            playbook=playbook,
            training={"rows": int(n_rows), "columns": int(data.shape[1]), **training},
            lineage=lineage,
            warnings=warnings,
            warn=on_warning,
        )


def metrics_document(model: SegmentationModel) -> dict[str, Any]:
    """The ``metrics.json`` document of a model: the fit's indices and the k selection.

    Keys: ``k``, ``inertia``, one key per registered index
    (:data:`custseg.cluster.indices.INDICES`: ``silhouette``, ``calinski_harabasz``,
    ``davies_bouldin``) and ``indices`` describing them, the silhouette's details,
    ``stability_ari``, ``sizes`` and ``k_selection`` (one entry per k tried, with the same
    indices), plus the recommendation, the preparation decisions and the playbook that
    named the segments with its match on the columns (``playbook``).
    """
    metrics = model.metrics
    selection = model.k_selection or {}
    return {
        "k": model.k,
        "inertia": metrics.get("inertia"),
        **{entry.name: metrics.get(entry.name) for entry in INDICES},
        "indices": [entry.describe() for entry in INDICES],
        "silhouette_per_segment": metrics.get("silhouette_per_segment"),
        "silhouette_exact": metrics.get("silhouette_exact"),
        "silhouette_sample_size": metrics.get("silhouette_sample_size"),
        "silhouette_ci": metrics.get("silhouette_ci"),
        "stability_ari": metrics.get("stability_ari"),
        "sizes": [s.size for s in model.segments],
        "shares": [s.share for s in model.segments],
        "segments": [s.name for s in model.segments],
        "k_selection": selection.get("candidates", []),
        "recommended_k": selection.get("recommended_k"),
        "knee": selection.get("knee"),
        "recommendation": selection.get("explanation"),
        "columns": TableSchema.from_dict(model.schema).describe(),
        "preparation": model.preparation.get("decisions", []),
        "engine": metrics.get("engine"),
        "inertia_gap": metrics.get("inertia_gap"),
        "stability_min": metrics.get("stability_min"),
        "playbook": model.playbook,
    }
