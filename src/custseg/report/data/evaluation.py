"""Data for the "Evaluation" section: the silhouette plot and the table of quality measures.

The table has one row per registered index (:func:`custseg.cluster.indices.registered_indices`,
read when the report is built: label, direction and description come from the entry),
each measured on this table with the index's own computation and shown beside the value
the model stored at training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._utils.sampling import stratified_sample
from ...cluster.indices import KIndex, registered_indices
from ...model import SegmentationModel
from ._common import MIN_DRAWN_PER_SEGMENT, SegmentedRows

__all__ = ["quality_metrics", "silhouette_data"]

_MAX_SILHOUETTE_PLOTTED = 4_000  # bars in the silhouette plot
_SILHOUETTE_MAX_EXACT = 20_000  # exact per-customer silhouette up to this many rows
_SILHOUETTE_SAMPLE = 10_000  # stratified sample beyond it


def silhouette_data(rows: SegmentedRows, rng: np.random.Generator, seed: int) -> dict[str, Any]:
    """The silhouette of the segmentation of this table, overall, per segment and per customer.

    Parameters
    ----------
    rows : SegmentedRows
        The prepared rows of the table and their segments.
    rng : numpy.random.Generator
        Draws the customers plotted, stratified by segment.
    seed : int
        Seed of the silhouette estimate beyond 20,000 rows.

    Returns
    -------
    dict
        ``value``, ``exact``, ``sample_size``, ``ci_low``, ``ci_high``, ``per_segment``,
        ``values_by_segment`` (plotted sample, sorted, largest first) and ``n_plotted``.
    """
    from ...cluster.silhouette import silhouette, silhouette_samples_exact

    X, labels, k = rows.X, rows.labels, rows.k
    present = np.unique(labels)
    if present.size < 2:
        # One occupied segment: the silhouette is undefined (no "other" segment).
        return {
            "value": None,
            "exact": True,
            "sample_size": int(labels.size),
            "ci_low": None,
            "ci_high": None,
            "per_segment": [None] * k,
            "values_by_segment": [[] for _ in range(k)],
            "n_plotted": 0,
        }
    result = silhouette(
        X,
        labels,
        max_exact=_SILHOUETTE_MAX_EXACT,
        sample_size=_SILHOUETTE_SAMPLE,
        random_state=seed,
    )
    plotted = stratified_sample(
        labels, _MAX_SILHOUETTE_PLOTTED, rng, min_per_segment=MIN_DRAWN_PER_SEGMENT
    )
    if result.exact and result.samples is not None:
        values = np.asarray(result.samples, dtype=np.float64)[plotted]
    else:
        # Large table: the plot shows exact silhouettes within a stratified sample,
        # the same kind of estimate as the reported value.
        values = np.asarray(silhouette_samples_exact(X[plotted], labels[plotted]))
    plotted_labels = labels[plotted]
    per_segment = list(result.per_segment) + [None] * (k - len(result.per_segment))
    return {
        "value": result.value,
        "exact": bool(result.exact),
        "sample_size": int(result.sample_size),
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "per_segment": per_segment[:k],
        "values_by_segment": [
            np.sort(values[plotted_labels == s])[::-1].round(4).tolist() for s in range(k)
        ],
        "n_plotted": int(plotted.size),
    }


def quality_metrics(
    model: SegmentationModel, rows: SegmentedRows, silhouette: dict[str, Any], seed: int
) -> list[dict[str, Any]]:
    """The rows of the evaluation table: each measure on this table and at training.

    Parameters
    ----------
    model : SegmentationModel
        The fitted model (centroids, training metrics, training segment shares).
    rows : SegmentedRows
        The prepared rows of the table and their segments.
    silhouette : dict
        As returned by :func:`silhouette_data` (its value is not measured again).
    seed : int
        Seed of an added index that samples (the built-in others are exact).

    Returns
    -------
    list of dict
        ``name``, ``unit`` (``count``, ``number`` or ``share``), ``value``, ``training``,
        ``detail`` and ``explanation``: the customers segmented, one row per registered
        index (its label, in registry order), inertia, stability and the smallest share.
    """
    trained = model.metrics or {}
    sizes = rows.sizes
    here = _indices_here(rows, {"silhouette": silhouette["value"]}, seed)
    details = {"silhouette": _silhouette_detail(silhouette)}
    residuals = rows.X - model.centroid_array[rows.labels]
    return [
        _measure(
            "Customers segmented",
            int(rows.labels.size),
            model.training["rows"],
            "rows of the table placed in a segment",
            unit="count",
        ),
        *(
            _measure(
                entry.label,
                here[entry.name],
                _training_metric(trained, entry.name),
                _index_explanation(entry),
                detail=details.get(entry.name, ""),
            )
            for entry in registered_indices()
        ),
        _measure(
            "Inertia",
            float(np.einsum("ij,ij->", residuals, residuals)),
            _training_metric(trained, "inertia"),
            "total squared distance of customers to their segment's centre in the prepared"
            " features; grows with the number of customers",
        ),
        _measure(
            "Stability (ARI)",
            None,
            _training_metric(trained, "stability_ari"),
            "0 to 1: agreement of the segments refitted on resampled data (measured at training)",
        ),
        _measure(
            "Smallest segment share",
            float(sizes.min() / sizes.sum()),
            min((s.share for s in model.segments), default=None),
            "share of customers in the smallest segment; tiny segments are hard to act on",
            unit="share",
        ),
    ]


def _measure(
    name: str,
    value: Any,
    training: Any,
    explanation: str,
    *,
    unit: str = "number",
    detail: str = "",
) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "value": value,
        "training": training,
        "detail": detail,
        "explanation": explanation,
    }


def _training_metric(metrics: dict[str, Any], key: str) -> Any:
    value = metrics.get(key)
    if isinstance(value, dict):
        value = value.get("value")
    return value


def _indices_here(
    rows: SegmentedRows, known: dict[str, float | None], seed: int
) -> dict[str, float | None]:
    """Every registered index on this table; those in ``known`` are not measured again."""
    occupied = int(np.count_nonzero(rows.sizes))
    separable = 2 <= occupied < rows.labels.size
    rng = np.random.default_rng(seed)
    out: dict[str, float | None] = {}
    for entry in registered_indices():
        if entry.name in known:
            out[entry.name] = known[entry.name]
        elif not separable:
            out[entry.name] = None
        else:
            value = entry.measure(rows.X, [rows.labels], rng, _SILHOUETTE_MAX_EXACT)[0].value
            out[entry.name] = float(value) if np.isfinite(value) else None
    return out


def _index_explanation(entry: KIndex) -> str:
    better = f"{entry.direction} is better"
    return f"{entry.description}; {better}" if entry.description else better


def _silhouette_detail(silhouette: dict[str, Any]) -> str:
    if silhouette["value"] is None or silhouette["exact"]:
        return ""
    estimated = f"estimated on {silhouette['sample_size']:,} customers"
    if silhouette["ci_low"] is None or silhouette["ci_high"] is None:
        return estimated
    return f"{estimated}, 95% interval {silhouette['ci_low']:.3f} to {silhouette['ci_high']:.3f}"
