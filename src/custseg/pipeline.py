"""From a customer table to a fitted, evaluated and explained :class:`SegmentationModel`.

:func:`fit_segments` fits a DataFrame in memory; :func:`fit_to_folder` is what
``custseg fit`` does: fit with the chosen engine, then write the model, its metrics
document (:func:`metrics_document`) and the report into one folder. Both run the one fit
of :func:`custseg.engines.run_fit`::

    engine.scan (infer_schema → check_rows → PreparationPlan) → select_k (choose_n_clusters)
    → engine.fit (K-means) → (align_segments with a previous model) → engine.evaluate
    → assemble_model: profile_segments → segment_rules → name_segments
      → profile_outcomes → single_column_rules → SegmentationModel

What the reader of a model should know before trusting it becomes a warning
(``SegmentationModel.warnings``), reported as soon as it is known through
``on_warning``: no identifier column (said right after the schema, before any fitting)
and segments one column reproduces alone (the leakage guard,
:mod:`custseg.explain.leakage`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._utils.checks import check_frame
from ._utils.folders import atomic_folder, write_fit_marker
from ._utils.io import write_text_atomic
from ._utils.progress import NO_PROGRESS, Progress
from .cluster.indices import registered_indices
from .config import FitConfig
from .engines import open_engine, run_fit
from .engines.assemble import OnWarning
from .engines.memory import MemoryEngine
from .exceptions import ConfigError, DataError
from .explain.audit import audit_summary
from .model import SegmentationModel, load_model, save_model

__all__ = ["FitOutput", "fit_segments", "fit_to_folder", "metrics_document"]


def fit_segments(
    data: pd.DataFrame,
    *,
    k: int | None = None,
    k_range: tuple[int, int] | None = None,
    random_state: int | None = None,
    id_column: str | None = None,
    features: Sequence[str] | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    descriptors: Sequence[str] | None = None,
    cluster_descriptors: bool | None = None,
    keep_redundant: bool | None = None,
    playbook: str | os.PathLike[str] | None = None,
    config: FitConfig | None = None,
    training: Mapping[str, Any] | None = None,
    progress: Progress = NO_PROGRESS,
    previous: SegmentationModel | str | os.PathLike[str] | None = None,
    on_warning: OnWarning | None = None,
    **settings: Any,
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
    id_column : str or None, default=None
        The customer identifier (``--id-column``); overrides ``config.id_column``.
    features, include : sequence of str or None, default=None
        Use exactly these columns as features (``--features``; ``include`` is another
        name for it): names or glob patterns. A descriptor named here is clustered on.
    exclude : sequence of str or None, default=None
        Columns never to use (``--exclude``): names or glob patterns.
    descriptors : sequence of str or None, default=None
        More columns that describe who the customer is (``--descriptors``): profiled
        per segment, not clustered on.
    cluster_descriptors : bool or None, default=None
        Cluster on the descriptor columns too (``--cluster-descriptors``): demographic
        segments. Each of these options overrides the field of ``config`` of its name.
    keep_redundant : bool or None, default=None
        Cluster every column, also when several encode one fact (``--keep-redundant``;
        ``config.preparation.keep_redundant``, see docs/preparation.md).
    playbook : str, path or None, default=None
        Playbook file or shipped key (``--playbook``); overrides ``config.playbook``.
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
    **settings
        Any other field of :class:`FitConfig` or :class:`PrepConfig` (``n_resamples=10``,
        ``skew="yeo-johnson"``, ``pca=0.9``...), overriding ``config``'s; ``None``
        leaves a field as it is (see :meth:`FitConfig.with_overrides`).

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
    ConfigError
        If an option is not valid or not a setting, or ``features`` and ``include`` are
        both given.

    Examples
    --------
    >>> model = fit_segments(frame, exclude=["Avg_Open_To_Buy"], k=4)  # doctest: +SKIP
    >>> model = fit_segments(frame, cluster_descriptors=True)  # doctest: +SKIP
    """
    check_frame(data, "data")
    if features is not None and include is not None:
        raise ConfigError(
            "features= and include= name the same setting; pass the columns to one of them"
        )
    cfg = (config or FitConfig()).with_overrides(
        k=k,
        k_range=tuple(k_range) if k_range is not None else None,
        random_state=random_state,
        id_column=id_column,
        features=features if features is not None else include,
        exclude=exclude,
        descriptors=descriptors,
        cluster_descriptors=cluster_descriptors,
        keep_redundant=keep_redundant,
        playbook=playbook,
        **settings,
    )
    if len(data) == 0:
        raise DataError("the table has no rows; check the query or the input file")
    return run_fit(
        MemoryEngine(data),
        cfg,
        training=dict(training or {}),
        progress=progress,
        previous=_previous_model(previous),
        on_warning=on_warning,
    ).model


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
    # Refused before the folder is touched: an unknown engine, or data it cannot read.
    fitter = open_engine(engine, data, spark_master=spark_master)
    # The folder is written as a whole: a staging folder replaces it in one rename, so
    # a crash, a full disk or a second fit never leaves files of two runs side by side.
    with atomic_folder(folder) as staging:
        fitted = run_fit(
            fitter,
            config or FitConfig(),
            training=dict(training or {}),
            progress=progress,
            previous=_previous_model(previous),
            on_warning=on_warning,
        )
        model = fitted.model
        document = metrics_document(model)
        save_model(model, staging / "model.json")
        write_text_atomic(
            staging / "metrics.json", json.dumps(document, indent=2, allow_nan=False) + "\n"
        )
        names = ["model.json", "metrics.json"]
        if report:
            # figures and templates: loaded only when asked
            from .report.write import write_report_files

            written = write_report_files(model, fitted.rows, staging, progress=progress)
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


def metrics_document(model: SegmentationModel) -> dict[str, Any]:
    """The ``metrics.json`` document of a model: the fit's indices and the k selection.

    Keys: ``k``, ``inertia``, one key per registered index
    (:func:`custseg.cluster.indices.registered_indices`, read now: ``silhouette``,
    ``calinski_harabasz``, ``davies_bouldin`` and any added one) and ``indices``
    describing them, the silhouette's details,
    ``stability_ari``, ``segment_stability`` (each segment's mean Jaccard, its 95%
    half-width, band and refits), ``sizes`` and ``k_selection`` (one entry per k tried,
    with the same indices), plus the recommendation, the preparation decisions and the
    playbook that named the segments with its match on the columns (``playbook``), and
    the sensitive-attribute audit in short (``audit``: per protected column its Cramér's
    V and the flagged segments), and for a model fitted from transaction lines the
    roll-up (``transactions``: recipe, window, as-of date and the counts of lines read,
    used and left out by reason; ``None`` otherwise).
    """
    metrics = model.metrics
    selection = model.k_selection.to_dict() if model.k_selection is not None else {}
    indices = registered_indices()
    return {
        "k": model.k,
        "inertia": metrics.get("inertia"),
        **{entry.name: metrics.get(entry.name) for entry in indices},
        "indices": [entry.describe() for entry in indices],
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
        "columns": model.schema.describe(),
        "preparation": list(model.preparation.decisions),
        "engine": metrics.get("engine"),
        "inertia_gap": metrics.get("inertia_gap"),
        "stability_min": metrics.get("stability_min"),
        # per segment: segment_id, jaccard, half_width, band, resamples
        "segment_stability": metrics.get("segment_stability"),
        "playbook": model.playbook.to_dict(),
        "audit": audit_summary(model.profiles.get("audit")),
        "transactions": _rollup_summary(model.training.get("transactions")),
    }


def _rollup_summary(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """What metrics.json says of the roll-up (the model keeps the whole record)."""
    if record is None:
        return None
    keys = ("source", "recipe", "window", "window_start", "as_of", "as_of_rule", "counts")
    return {key: record.get(key) for key in keys}
