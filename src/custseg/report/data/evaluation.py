"""Data for the "Evaluation" section: the silhouette plot and the table of quality measures."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._utils.sampling import stratified_sample
from ...model import SegmentationModel
from ._common import MIN_DRAWN_PER_SEGMENT

__all__ = ["quality_metrics", "silhouette_data"]

_MAX_SILHOUETTE_PLOTTED = 4_000  # bars in the silhouette plot
_SILHOUETTE_MAX_EXACT = 20_000  # exact per-customer silhouette up to this many rows
_SILHOUETTE_SAMPLE = 10_000  # stratified sample beyond it


def silhouette_data(
    X: np.ndarray, labels: np.ndarray, k: int, rng: np.random.Generator, seed: int
) -> dict[str, Any]:
    """The silhouette of the segmentation of this table, overall, per segment and per customer.

    Parameters
    ----------
    X : numpy.ndarray
        The prepared rows.
    labels : numpy.ndarray
        Segment of each row.
    k : int
        Number of segments of the model (some may be empty on this table).
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


def _training_metric(metrics: dict[str, Any], key: str) -> Any:
    value = metrics.get(key)
    if isinstance(value, dict):
        value = value.get("value")
    return value


def quality_metrics(
    model: SegmentationModel,
    X: np.ndarray,
    labels: np.ndarray,
    sizes: np.ndarray,
    silhouette: dict[str, Any],
) -> list[dict[str, Any]]:
    """The rows of the evaluation table: each measure on this table and at training.

    Parameters
    ----------
    model : SegmentationModel
        The fitted model (centroids, training metrics, training segment shares).
    X : numpy.ndarray
        The prepared rows.
    labels : numpy.ndarray
        Segment of each row.
    sizes : numpy.ndarray
        Customers of this table in each segment.
    silhouette : dict
        As returned by :func:`silhouette_data`.

    Returns
    -------
    list of dict
        ``name``, ``unit`` (``count``, ``number`` or ``share``), ``value``, ``training``,
        ``detail`` and ``explanation``.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    trained = model.metrics or {}
    occupied = int((sizes > 0).sum())
    separable = 2 <= occupied < labels.size
    ch = float(calinski_harabasz_score(X, labels)) if separable else None
    db = float(davies_bouldin_score(X, labels)) if separable else None
    centroids = model.centroid_array
    inertia = float(((X - centroids[labels]) ** 2).sum())
    detail = ""
    if silhouette["value"] is not None and not silhouette["exact"]:
        detail = (
            f"estimated on {silhouette['sample_size']:,} customers, 95% interval "
            f"{silhouette['ci_low']:.3f} to {silhouette['ci_high']:.3f}"
            if silhouette["ci_low"] is not None and silhouette["ci_high"] is not None
            else f"estimated on {silhouette['sample_size']:,} customers"
        )
    smallest = float(sizes.min() / sizes.sum())
    return [
        {
            "name": "Customers segmented",
            "unit": "count",
            "value": int(labels.size),
            "training": model.training.get("rows"),
            "detail": "",
            "explanation": "rows of the table placed in a segment",
        },
        {
            "name": "Silhouette",
            "unit": "number",
            "value": silhouette["value"],
            "training": _training_metric(trained, "silhouette"),
            "detail": detail,
            "explanation": "−1 to 1: how much closer customers are to their own segment than"
            " to the next one; above 0.25 segments are distinct, above 0.5 clearly apart",
        },
        {
            "name": "Calinski–Harabasz",
            "unit": "number",
            "value": ch,
            "training": _training_metric(trained, "calinski_harabasz"),
            "detail": "",
            "explanation": "spread between segments relative to spread within them; higher"
            " is better, compare only for the same data",
        },
        {
            "name": "Davies–Bouldin",
            "unit": "number",
            "value": db,
            "training": _training_metric(trained, "davies_bouldin"),
            "detail": "",
            "explanation": "average overlap of each segment with its most similar one;"
            " lower is better, 0 means no overlap",
        },
        {
            "name": "Inertia",
            "unit": "number",
            "value": inertia,
            "training": _training_metric(trained, "inertia"),
            "detail": "",
            "explanation": "total squared distance of customers to their segment's centre"
            " in the prepared features; grows with the number of customers",
        },
        {
            "name": "Stability (ARI)",
            "unit": "number",
            "value": None,
            "training": _training_metric(trained, "stability_ari"),
            "detail": "",
            "explanation": "0 to 1: agreement of the segments refitted on resampled data"
            " (measured at training)",
        },
        {
            "name": "Smallest segment share",
            "unit": "share",
            "value": smallest,
            "training": min((s.share for s in model.segments), default=None),
            "detail": "",
            "explanation": "share of customers in the smallest segment; tiny segments are"
            " hard to act on",
        },
    ]
