"""Indices of all rows from per-segment sums equal scikit-learn's on the rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from custseg.cluster.indices import index
from custseg.cluster.kmeans import assign
from custseg.cluster.summaries import (
    SegmentAccumulator,
    SegmentSummary,
    canonical_permutation,
    evaluation_from_summary,
)


def of_all_rows(name: str, summary: SegmentSummary) -> float | None:
    """The registered index ``name`` from per-segment sums."""
    from_summary = index(name).from_summary
    assert from_summary is not None
    return from_summary(summary)


def test_chunked_sums_give_scikit_learns_indices() -> None:
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(loc, 1.0, size=(n, 4)) for loc, n in ((0, 900), (5, 400), (9, 50))])
    X += 1e3  # away from the origin: the merged sums must not cancel
    centroids = np.array([X[:900].mean(0), X[900:1300].mean(0) + 0.3, X[1300:].mean(0)])
    accumulator = SegmentAccumulator(centroids)
    chunks = np.array_split(np.arange(len(X)), 7)
    for rows in chunks:
        fitted = assign(X[rows], centroids)
        accumulator.add(X[rows], fitted.labels, fitted.distance)
    for rows in chunks:
        accumulator.add_spread(X[rows], assign(X[rows], centroids).labels)
    summary = accumulator.summary()
    labels = assign(X, centroids).labels
    assert summary.sizes.tolist() == np.bincount(labels).tolist()
    assert of_all_rows("calinski_harabasz", summary) == pytest.approx(
        calinski_harabasz_score(X, labels), rel=1e-7
    )
    assert of_all_rows("davies_bouldin", summary) == pytest.approx(
        davies_bouldin_score(X, labels), rel=1e-9
    )
    distance = assign(X, centroids).distance
    assert summary.inertia.sum() == pytest.approx(distance @ distance, rel=1e-12)

    order = canonical_permutation(centroids, summary.sizes)
    assert order.tolist() == [0, 1, 2]
    metrics = evaluation_from_summary(
        summary, centroids, X[::3], labels[::3], random_state=0, max_exact=50_000
    )
    assert metrics["sizes"] == [900, 400, 50] and metrics["n_rows"] == 1350
    assert metrics["calinski_harabasz"] == of_all_rows("calinski_harabasz", summary)
    assert metrics["silhouette_exact"] is True and metrics["evaluated_on"]["sample_rows"] == 450
    assert [s["size"] for s in metrics["segments"]] == [900, 400, 50]
