"""Evaluation of a segmentation: indices agree with scikit-learn, sizes, stability."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from custseg.cluster.evaluation import evaluate_segmentation
from custseg.cluster.kmeans import fit_kmeans
from custseg.exceptions import ConfigError, DataError


@pytest.fixture(scope="module")
def fitted() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, _ = make_blobs(n_samples=[900, 600, 300], n_features=5, cluster_std=2.0, random_state=1)
    fit = fit_kmeans(X, 3, random_state=0)
    return X, fit.labels, fit.centroids


def test_indices_agree_with_scikit_learn(
    fitted: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, labels, centroids = fitted
    metrics = evaluate_segmentation(X, labels, centroids, random_state=0)
    assert metrics["n_rows"] == 1800 and metrics["k"] == 3
    assert metrics["silhouette"] == pytest.approx(silhouette_score(X, labels), abs=1e-10)
    assert metrics["silhouette_exact"] is True
    assert metrics["silhouette_sample_size"] == 1800 and metrics["silhouette_ci"] is None
    assert metrics["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels))
    assert metrics["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels))
    expected_inertia = float(((X - centroids[labels]) ** 2).sum())
    assert metrics["inertia"] == pytest.approx(expected_inertia, rel=1e-12)
    assert metrics["sizes"] == [900, 600, 300]
    assert metrics["shares"] == pytest.approx([0.5, 1 / 3, 1 / 6])
    segments = metrics["segments"]
    assert [s["id"] for s in segments] == [0, 1, 2]
    assert sum(s["inertia"] for s in segments) == pytest.approx(metrics["inertia"])
    assert segments[2]["mean_distance"] == pytest.approx(
        np.sqrt(((X[labels == 2] - centroids[2]) ** 2).sum(axis=1).mean())
    )
    assert [s["silhouette"] for s in segments] == metrics["silhouette_per_segment"]


def test_is_json_ready(fitted: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, labels, centroids = fitted
    metrics = evaluate_segmentation(X, labels, centroids, random_state=0, n_resamples=2)
    assert json.loads(json.dumps(metrics, allow_nan=False)) == metrics


def test_stability_is_passed_in_recomputed_or_absent(
    fitted: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, labels, centroids = fitted
    given = evaluate_segmentation(X, labels, centroids, stability=(0.97, 0.91))
    assert (given["stability_ari"], given["stability_min"]) == (0.97, 0.91)
    assert given["stability_source"] == "selection"
    recomputed = evaluate_segmentation(X, labels, centroids, random_state=0, n_resamples=3)
    assert recomputed["stability_source"] == "recomputed"
    assert recomputed["stability_ari"] >= 0.95
    absent = evaluate_segmentation(X, labels, centroids)
    assert absent["stability_ari"] is None and absent["stability_source"] is None
    with pytest.raises(ConfigError, match=r"stability=\(1, 2, 3\)"):
        evaluate_segmentation(X, labels, centroids, stability=(1, 2, 3))  # type: ignore[arg-type]


def test_big_data_silhouette_is_estimated_with_interval(
    fitted: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, labels, centroids = fitted
    metrics = evaluate_segmentation(
        X, labels, centroids, max_exact=1000, sample_size=500, random_state=0
    )
    assert metrics["silhouette_exact"] is False
    low, high = metrics["silhouette_ci"]
    assert low <= metrics["silhouette"] <= high
    assert metrics["silhouette_confidence"] == 0.95
    assert abs(metrics["silhouette"] - silhouette_score(X, labels)) < 0.03


def test_empty_and_single_segments(fitted: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, labels, centroids = fitted
    # scoring new customers can leave a segment empty
    four = np.vstack([centroids, centroids[:1] + 100.0])
    metrics = evaluate_segmentation(X, labels, four)
    assert metrics["sizes"] == [900, 600, 300, 0]
    assert metrics["segments"][3]["silhouette"] is None
    assert metrics["segments"][3]["mean_distance"] is None
    alone = evaluate_segmentation(X, np.zeros(len(X), dtype=int), centroids[:1])
    assert alone["silhouette"] is None and alone["calinski_harabasz"] is None
    assert alone["sizes"] == [1800]


def test_errors_name_the_problem(fitted: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, labels, centroids = fitted
    with pytest.raises(DataError, match=r"labels hold segment 2 but there are k=2 centroids"):
        evaluate_segmentation(X, labels, centroids[:2])
    with pytest.raises(DataError, match=r"X has 5 features but the centroids have 4"):
        evaluate_segmentation(X, labels, centroids[:, :4])
    with pytest.raises(DataError, match=r"one label per row"):
        evaluate_segmentation(X, labels[:10], centroids)
