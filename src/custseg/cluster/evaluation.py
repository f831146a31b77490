"""Quality of a segmentation: compactness, separation, sizes and (optionally) stability.

:func:`evaluate_segmentation` returns a plain dictionary, ready for the model file,
the report and ``metrics.json``:

``n_rows``, ``k``
    Rows evaluated and segments of the catalogue.
``inertia``
    Sum of squared distances of the rows to their segment's centroid.
``silhouette``, ``silhouette_per_segment``, ``silhouette_exact``,
``silhouette_sample_size``, ``silhouette_ci``, ``silhouette_confidence``
    Mean silhouette (exact up to ``max_exact`` rows, else estimated on a sample
    stratified by segment, with its size and bootstrap interval), and per segment.
``calinski_harabasz``, ``davies_bouldin`` and every other registered index
    One key per index of :func:`custseg.cluster.indices.registered_indices`, read when
    the evaluation runs; ``None`` with fewer than two occupied segments.
``sizes``, ``shares``
    Rows and share of rows per segment (``k`` entries, empty segments included).
``segments``
    Per segment: ``id``, ``size``, ``share``, ``silhouette``, ``inertia`` and
    ``mean_distance`` (root mean squared distance to the centroid).
``stability_ari``, ``stability_min``, ``stability_source``
    Bootstrap stability: passed in (computed by the selection: ``"selection"``),
    recomputed on request (``"recomputed"``), or ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._utils.checks import check_int
from .._utils.numeric import RandomState, as_labels, as_matrix, generator
from ..exceptions import ConfigError, DataError
from .indices import Measured, registered_indices
from .silhouette import (
    DEFAULT_MAX_EXACT,
    DEFAULT_N_BOOTSTRAP,
    DEFAULT_SAMPLE_SIZE,
    silhouette,
)
from .stability import bootstrap_stability

__all__ = ["evaluate_segmentation"]

_CHUNK_ROWS = 65_536


def evaluate_segmentation(
    X: Any,
    labels: Any,
    centroids: Any,
    *,
    random_state: RandomState = None,
    max_exact: int = DEFAULT_MAX_EXACT,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    stability: float | tuple[float, float] | None = None,
    n_resamples: int = 0,
    measured: Mapping[str, Measured] | None = None,
) -> dict[str, Any]:
    """Evaluate a segmentation of prepared rows.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Prepared numeric matrix (no NaN/inf).
    labels : array-like of int, shape (n_rows,)
        Segment of each row, ``0..k-1`` (as returned by ``segmenter.assign``).
    centroids : array-like of shape (k, n_features)
        Centroid of each segment.
    random_state : int, numpy.random.Generator or None
        Seed of the silhouette sample and of a recomputed stability.
    max_exact : int, default 50_000
        Rows up to which the silhouette is exact.
    sample_size : int, default 20_000
        Stratified sample of the silhouette estimate above ``max_exact``.
    n_bootstrap : int, default 200
        Bootstrap resamples of the silhouette interval.
    stability : float or (float, float), optional
        Stability computed elsewhere (the selection): mean ARI, or (mean, min).
    n_resamples : int, default 0
        When ``stability`` is not given and this is > 0, recompute the bootstrap
        stability with this many refits.
    measured : mapping of str to Measured, optional
        Indices already measured on exactly these rows and labels (by the choice of
        k: ``KSelection.measured[k]``); they are reused, not measured again.

    Returns
    -------
    dict
        JSON-ready plain data; keys are listed in the module docstring.

    Raises
    ------
    DataError
        If the shapes disagree, a label has no centroid, or ``X`` holds NaN/inf.
    ConfigError
        If an option is out of range.
    """
    matrix = as_matrix(X)
    n_rows = matrix.shape[0]
    ids = as_labels(labels, n_rows)
    centres = np.asarray(as_matrix(centroids, name="centroids"), dtype=np.float64)
    k = centres.shape[0]
    if centres.shape[1] != matrix.shape[1]:
        raise DataError(
            f"X has {matrix.shape[1]} features but the centroids have {centres.shape[1]}; "
            "pass the prepared matrix the centroids were fitted on"
        )
    if ids.size and int(ids.max()) >= k:
        raise DataError(
            f"labels hold segment {int(ids.max())} but there are k={k} centroids; "
            "labels should be 0..k-1"
        )
    n_resamples = check_int(n_resamples, "n_resamples", minimum=0)
    rng = generator(random_state)

    sizes = np.bincount(ids, minlength=k)
    segment_ss = _segment_inertia(matrix, ids, centres)
    occupied = int(np.count_nonzero(sizes))
    separable = 2 <= occupied <= n_rows - 1

    result: dict[str, Any] = {
        "n_rows": int(n_rows),
        "k": int(k),
        "inertia": float(segment_ss.sum()),
    }
    known = dict(measured or {})
    silhouette_known = known.get("silhouette")
    if separable and silhouette_known is not None and silhouette_known.evaluation:
        fields = dict(silhouette_known.evaluation)
        per_segment = list(fields["silhouette_per_segment"])
        fields["silhouette_per_segment"] = per_segment + [None] * (k - len(per_segment))
        result.update(fields)
    else:
        result.update(
            _silhouette_fields(matrix, ids, k, separable, max_exact, sample_size, n_bootstrap, rng)
        )
    for entry in registered_indices():
        if entry.name not in result:
            if not separable:
                result[entry.name] = None
            elif entry.name in known:
                result[entry.name] = _finite_or_none(known[entry.name].value)
            else:
                measured_here = entry.measure(matrix, [ids], rng, max_exact)[0].value
                result[entry.name] = _finite_or_none(measured_here)
    result["sizes"] = [int(s) for s in sizes]
    result["shares"] = [float(s / n_rows) for s in sizes]
    per_segment_sil = result["silhouette_per_segment"]
    result["segments"] = [
        {
            "id": c,
            "size": int(sizes[c]),
            "share": float(sizes[c] / n_rows),
            "silhouette": per_segment_sil[c],
            "inertia": float(segment_ss[c]),
            "mean_distance": float(np.sqrt(segment_ss[c] / sizes[c])) if sizes[c] else None,
        }
        for c in range(k)
    ]
    result.update(_stability_fields(matrix, ids, stability, n_resamples, separable, rng))
    return result


def _finite_or_none(value: float) -> float | None:
    # An index that is not defined on a labeling measures NaN; the JSON document says null.
    return float(value) if np.isfinite(value) else None


def _segment_inertia(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Within-segment sums of squared distances, from direct differences, in chunks."""
    totals = np.zeros(centroids.shape[0])
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        rows = np.asarray(X[start : start + _CHUNK_ROWS], dtype=np.float64)
        own = labels[start : start + _CHUNK_ROWS]
        squared = np.einsum("ij,ij->i", rows - centroids[own], rows - centroids[own])
        totals += np.bincount(own, weights=squared, minlength=centroids.shape[0])
    return totals


def _silhouette_fields(
    X: np.ndarray,
    labels: np.ndarray,
    k: int,
    separable: bool,
    max_exact: int,
    sample_size: int,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    if not separable:
        # one occupied segment (or one row per segment): the silhouette is undefined
        return {
            "silhouette": None,
            "silhouette_per_segment": [None] * k,
            "silhouette_exact": True,
            "silhouette_sample_size": int(labels.shape[0]),
            "silhouette_ci": None,
            "silhouette_confidence": None,
        }
    result = silhouette(
        X,
        labels,
        max_exact=max_exact,
        sample_size=sample_size,
        n_bootstrap=n_bootstrap,
        random_state=rng,
    )
    per_segment = list(result.per_segment) + [None] * (k - len(result.per_segment))
    interval = (
        [result.ci_low, result.ci_high]
        if result.ci_low is not None and result.ci_high is not None
        else None
    )
    return {
        "silhouette": result.value,
        "silhouette_per_segment": per_segment,
        "silhouette_exact": result.exact,
        "silhouette_sample_size": result.sample_size,
        "silhouette_ci": interval,
        "silhouette_confidence": result.confidence,
    }


def _stability_fields(
    X: np.ndarray,
    labels: np.ndarray,
    stability: float | tuple[float, float] | None,
    n_resamples: int,
    separable: bool,
    rng: np.random.Generator,
) -> dict[str, Any]:
    if stability is not None:
        if isinstance(stability, tuple | list):
            if len(stability) != 2:
                raise ConfigError(
                    f"stability={stability!r} should be a mean ARI or a (mean, min) pair"
                )
            mean, low = float(stability[0]), float(stability[1])
        else:
            mean, low = float(stability), None
        return {"stability_ari": mean, "stability_min": low, "stability_source": "selection"}
    if n_resamples > 0 and separable:
        mean, low = bootstrap_stability(X, labels, n_resamples=n_resamples, random_state=rng)
        return {"stability_ari": mean, "stability_min": low, "stability_source": "recomputed"}
    return {"stability_ari": None, "stability_min": None, "stability_source": None}
