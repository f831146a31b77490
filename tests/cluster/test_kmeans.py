"""K-means fitting, canonical numbering and the one assignment function."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import skew
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from custseg.cluster.kmeans import assign, auto_sample_size, fit_kmeans
from custseg.exceptions import ConfigError, DataError
from custseg.sources import sample_path


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    # Unequal sizes so that the canonical order is visible: 1200 > 900 > 600 > 300.
    X, y = make_blobs(
        n_samples=[300, 1200, 600, 900], n_features=5, cluster_std=0.5, random_state=2
    )
    return X, y


@pytest.fixture(scope="module")
def cc_matrix() -> np.ndarray:
    """CC_GENERAL prepared simply: median impute, log1p of skewed columns, scaling."""
    values = pd.read_csv(sample_path()).drop(columns=["CUST_ID"]).to_numpy(dtype=np.float64)
    values = np.where(np.isnan(values), np.nanmedian(values, axis=0), values)
    for j in range(values.shape[1]):
        if skew(values[:, j]) > 1.0 and (values[:, j] >= 0).all():
            values[:, j] = np.log1p(values[:, j])
    return (values - values.mean(axis=0)) / values.std(axis=0)


def brute_force(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    return np.sqrt(((X[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))


def test_fit_recovers_blobs_in_canonical_order(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    fit = fit_kmeans(X, 4, random_state=0)
    assert fit.engine == "lloyd"
    assert adjusted_rand_score(y, fit.labels) == 1.0
    assert fit.sizes == [1200, 900, 600, 300]
    assert fit.n_rows == fit.fit_rows == 3000
    nearest = brute_force(X, fit.centroids).min(axis=1)
    assert fit.inertia == pytest.approx(float((nearest**2).sum()))
    # the largest segment is blob 1 (1200 rows): its centroid is that blob's mean
    np.testing.assert_allclose(fit.centroids[0], X[y == 1].mean(axis=0), atol=1e-8)


def test_same_seed_same_numbering_and_labels(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    first = fit_kmeans(X, 6, random_state=11)
    second = fit_kmeans(X, 6, random_state=11)
    np.testing.assert_array_equal(first.centroids, second.centroids)
    np.testing.assert_array_equal(first.labels, second.labels)
    assert first.sizes == sorted(first.sizes, reverse=True)


def test_equal_sizes_are_ordered_by_centroid_coordinates() -> None:
    # Four identical-size groups on a square: ties broken by x then y.
    corners = np.array([[5.0, 5.0], [0.0, 5.0], [5.0, 0.0], [0.0, 0.0]])
    offsets = np.random.default_rng(0).normal(0, 0.1, size=(50, 2))
    X = np.vstack([corner + offsets for corner in corners])
    fit = fit_kmeans(X, 4, random_state=3)
    assert fit.sizes == [50, 50, 50, 50]
    np.testing.assert_allclose(fit.centroids, corners[[3, 1, 2, 0]] + offsets.mean(axis=0))


def test_fitted_labels_are_exactly_assign_after_a_json_round_trip(
    cc_matrix: np.ndarray,
) -> None:
    fit = fit_kmeans(cc_matrix, 7, random_state=0)
    stored = json.loads(json.dumps(fit.to_dict()))["centroids"]
    again = assign(cc_matrix, stored)
    np.testing.assert_array_equal(again.labels, fit.labels)
    np.testing.assert_array_equal(again.distance, fit.assignment.distance)
    assert fit.inertia == pytest.approx(float(np.dot(again.distance, again.distance)))


def test_assign_matches_brute_force_with_runner_up_and_margin(cc_matrix: np.ndarray) -> None:
    centroids = cc_matrix[[5, 500, 1000, 4000, 8000]]
    result = assign(cc_matrix, centroids)
    distances = brute_force(cc_matrix, centroids)
    order = np.argsort(distances, axis=1, kind="stable")
    np.testing.assert_array_equal(result.labels, order[:, 0])
    np.testing.assert_array_equal(result.runner_up, order[:, 1])
    # |x|^2 - 2x.c + |c|^2 loses about sqrt(eps) * |x| near 0 (rows 5, 500... are
    # centroids themselves: 4e-8 instead of 0), and nothing elsewhere
    own = distances[np.arange(len(order)), order[:, 0]]
    np.testing.assert_allclose(result.distance, own, rtol=1e-9, atol=1e-6)
    second = distances[np.arange(len(order)), order[:, 1]]
    np.testing.assert_allclose(result.margin, second - result.distance, rtol=1e-9, atol=1e-6)
    assert (result.margin >= 0).all()
    assert result.labels.dtype == np.int64 and result.runner_up.dtype == np.int64


def test_assign_is_bit_identical_whatever_the_batch(cc_matrix: np.ndarray) -> None:
    centroids = fit_kmeans(cc_matrix, 5, random_state=1).centroids
    whole = assign(cc_matrix, centroids)
    for start, stop in ((0, 1), (17, 18), (4095, 4097), (100, 5000), (8000, 8950)):
        part = assign(cc_matrix[start:stop], centroids)
        np.testing.assert_array_equal(part.labels, whole.labels[start:stop])
        np.testing.assert_array_equal(part.distance, whole.distance[start:stop])
        np.testing.assert_array_equal(part.margin, whole.margin[start:stop])


def test_ties_go_to_the_lowest_id_and_one_segment_has_no_runner_up() -> None:
    X = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    twins = np.array([[2.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    result = assign(X, twins)
    assert result.labels.tolist() == [1, 1, 0]
    assert result.runner_up.tolist() == [2, 2, 1]
    assert result.margin[:2].tolist() == [0.0, 0.0]
    single = assign(X, [[0.0, 0.0]])
    assert single.labels.tolist() == [0, 0, 0]
    assert single.runner_up.tolist() == [-1, -1, -1]
    assert np.isinf(single.margin).all()
    np.testing.assert_allclose(single.distance, [0.0, 1.0, 3.0])


def test_float32_input_gives_the_same_labels(cc_matrix: np.ndarray) -> None:
    centroids = fit_kmeans(cc_matrix, 4, random_state=0).centroids
    as32 = cc_matrix.astype(np.float32)
    np.testing.assert_array_equal(
        assign(as32, centroids).labels, assign(as32.astype(np.float64), centroids).labels
    )


def test_sample_engine_is_close_to_a_full_fit(cc_matrix: np.ndarray) -> None:
    full = fit_kmeans(cc_matrix, 5, random_state=0)
    sampled = fit_kmeans(cc_matrix, 5, random_state=0, sample_size=3000)
    assert sampled.engine == "sample"
    assert sampled.fit_rows == 3000 and sampled.n_rows == cc_matrix.shape[0]
    assert sampled.labels.shape == (cc_matrix.shape[0],)
    assert sampled.inertia_gap is not None and 0 <= sampled.inertia_gap < 0.03
    assert sampled.inertia <= full.inertia * 1.03
    np.testing.assert_array_equal(assign(cc_matrix, sampled.centroids).labels, sampled.labels)


def test_auto_sample_size_is_a_few_thousand_rows_per_centroid() -> None:
    assert auto_sample_size(1_000_000, 8) == 24_000
    assert auto_sample_size(1_000_000, 2) == 10_000
    assert auto_sample_size(5_000, 8) == 5_000
    fit = fit_kmeans(np.random.default_rng(0).normal(size=(12_000, 3)), 2, sample_size="auto")
    assert fit.engine == "sample" and fit.fit_rows == 10_000


def test_minibatch_only_above_the_threshold_and_reports_its_gap(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = blobs
    assert fit_kmeans(X, 4, random_state=0, minibatch_threshold=3000).engine == "lloyd"
    fit = fit_kmeans(X, 4, random_state=0, minibatch_threshold=2999)
    assert fit.engine == "minibatch"
    assert fit.inertia_gap is not None and 0 <= fit.inertia_gap < 0.01
    assert adjusted_rand_score(y, fit.labels) == 1.0
    np.testing.assert_array_equal(assign(X, fit.centroids).labels, fit.labels)


def test_inertia_is_as_good_as_scikit_learn(cc_matrix: np.ndarray) -> None:
    ours = fit_kmeans(cc_matrix, 6, n_init=4, random_state=0).inertia
    reference = KMeans(6, n_init=4, random_state=0).fit(cc_matrix).inertia_
    assert ours <= reference * 1.01


def test_fit_is_json_ready(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    payload = fit_kmeans(X, 3, random_state=0, sample_size=1000).to_dict()
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert payload["k"] == 3 and payload["engine"] == "sample"
    small = assign(X[:3], fit_kmeans(X, 1, random_state=0).centroids).to_dict()
    assert json.loads(json.dumps(small, allow_nan=False)) == small


def test_errors_quote_the_offending_values() -> None:
    X = np.zeros((3, 2))
    with pytest.raises(DataError, match=r"n_rows=3 should be >= k=8"):
        fit_kmeans(X, 8)
    with pytest.raises(ConfigError, match=r"k=0 should be an integer >= 1"):
        fit_kmeans(X, 0)
    with pytest.raises(ConfigError, match=r"engine='spark'"):
        fit_kmeans(X, 2, engine="spark")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"sample_size=1 should be >= k=2"):
        fit_kmeans(X, 2, sample_size=1)
    bad = np.ones((5000, 2))
    bad[4321, 1] = np.inf
    with pytest.raises(DataError, match=r"inf at row 4321, column 1") as info:
        fit_kmeans(bad, 2)
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match=r"inf at row 4321, column 1"):
        assign(bad, [[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(DataError, match=r"X has 2 features but the centroids have 3"):
        assign(X, np.zeros((2, 3)))
    with pytest.raises(DataError, match=r"dtype <U1"):
        fit_kmeans(np.array([["a", "b"]]), 1)
