"""Silhouette: exact agreement with scikit-learn, bounded memory, stratified estimates."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples, silhouette_score

from custseg.cluster.silhouette import (
    silhouette,
    silhouette_many,
    silhouette_samples_exact,
)
from custseg.exceptions import ConfigError, DataError


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=1500, n_features=6, centers=4, cluster_std=2.5, random_state=3)
    y = y.astype(np.int64)
    y[0] = 4  # a one-row segment: s = 0 by convention
    return X, y


def test_samples_match_scikit_learn(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    ours = silhouette_samples_exact(X, y)
    np.testing.assert_allclose(ours, silhouette_samples(X, y), rtol=0, atol=1e-10)
    assert ours[0] == 0.0


@pytest.mark.parametrize("chunk_size", [1, 7, 256, 5000])
def test_block_size_does_not_change_the_result(
    blobs: tuple[np.ndarray, np.ndarray], chunk_size: int
) -> None:
    X, y = blobs
    X, y = X[:400], y[:400]
    np.testing.assert_allclose(
        silhouette_samples_exact(X, y, chunk_size=chunk_size),
        silhouette_samples(X, y),
        rtol=0,
        atol=1e-10,
    )


def test_far_from_origin_float32_and_string_labels_match() -> None:
    # Large offsets invite cancellation in |x|^2 - 2x.y + |y|^2; centring avoids it.
    X, y = make_blobs(n_samples=600, n_features=4, centers=3, random_state=1)
    shifted = (X + 1e5).astype(np.float32)
    names = np.array(["revolver", "transactor", "dormant"])[y]
    reference = silhouette_samples(shifted.astype(np.float64), names)
    np.testing.assert_allclose(silhouette_samples_exact(shifted, names), reference, atol=1e-5)


def test_duplicate_rows_follow_scikit_learn() -> None:
    # Two segments of identical rows: a = b = 0 for some rows (0/0 -> 0).
    X = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(silhouette_samples_exact(X, y), silhouette_samples(X, y), atol=1e-12)


def test_exact_result_has_score_and_per_segment_means(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = blobs
    result = silhouette(X, y)
    reference = silhouette_samples(X, y)
    assert result.exact
    assert result.value == pytest.approx(silhouette_score(X, y), abs=1e-10)
    assert result.sample_size == result.n_rows == X.shape[0]
    assert result.ci_low is None and result.ci_high is None
    for segment in range(5):
        assert result.per_segment[segment] == pytest.approx(reference[y == segment].mean())
    assert result.segment_sample_sizes == np.bincount(y).tolist()
    assert result.samples is not None and result.samples.shape == (X.shape[0],)


def test_absent_segment_ids_are_none(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = blobs
    moved = np.where(y == 3, 6, y)  # segment 3 now empty, 6 used
    result = silhouette(X, moved)
    assert result.per_segment[3] is None and result.per_segment[5] is None
    assert result.per_segment[6] == pytest.approx(silhouette(X, y).per_segment[3])
    assert result.value == pytest.approx(silhouette_score(X, moved))


def test_many_labelings_share_one_pass_and_agree(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = blobs
    rng = np.random.default_rng(0)
    labelings = [rng.integers(0, k, X.shape[0]) for k in (2, 3, 7)]
    results = silhouette_many(X, labelings)
    for labels, result in zip(labelings, results, strict=True):
        assert result.value == pytest.approx(silhouette_score(X, labels), abs=1e-10)


def test_memory_is_bounded_by_the_block_not_the_square() -> None:
    X, y = make_blobs(n_samples=6000, n_features=10, centers=5, random_state=0)
    silhouette_samples_exact(X[:50], y[:50])  # warm the lazy imports first
    tracemalloc.start()
    try:
        silhouette_samples_exact(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    full_matrix = 6000 * 6000 * 8  # 288 MB
    assert peak < full_matrix / 10


@pytest.fixture(scope="module")
def unbalanced() -> tuple[np.ndarray, np.ndarray]:
    # 6,030 rows, one segment of only 30: a plain 10% sample would hold about 3 of them.
    X, y = make_blobs(
        n_samples=[3000, 2000, 1000, 30],
        n_features=5,
        cluster_std=[3.0, 3.0, 3.0, 0.5],
        random_state=4,
    )
    return X, y.astype(np.int64)


def test_estimate_above_max_exact_is_stratified_with_interval(
    unbalanced: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = unbalanced
    exact = silhouette(X, y)
    estimate = silhouette(X, y, max_exact=2000, sample_size=600, min_per_segment=50, random_state=1)
    assert not estimate.exact
    assert estimate.samples is None
    assert estimate.n_rows == X.shape[0]
    # proportional: 600 x (3000, 2000, 1000) / 6030 = 298.5, 199.0, 99.5 -> 299, 199, 100;
    # the tiny segment's share (3.0) is raised to the minimum of 50, capped at its 30 rows
    assert estimate.segment_sample_sizes == [299, 199, 100, 30]
    assert estimate.sample_size == sum(estimate.segment_sample_sizes)
    assert estimate.ci_low is not None and estimate.ci_high is not None
    assert estimate.ci_low <= estimate.value <= estimate.ci_high
    assert estimate.confidence == 0.95 and estimate.n_bootstrap == 200
    assert abs(estimate.value - exact.value) < 0.03
    for est, ref in zip(estimate.per_segment, exact.per_segment, strict=True):
        assert est is not None and ref is not None
        assert abs(est - ref) < 0.06


def test_estimate_is_reproducible_and_interval_narrows_with_more_rows(
    unbalanced: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = unbalanced
    small = silhouette(X, y, max_exact=1000, sample_size=400, random_state=5)
    again = silhouette(X, y, max_exact=1000, sample_size=400, random_state=5)
    large = silhouette(X, y, max_exact=1000, sample_size=3000, random_state=5)
    assert small.to_dict() == again.to_dict()
    assert small.ci_low is not None and small.ci_high is not None
    assert large.ci_low is not None and large.ci_high is not None
    assert large.ci_high - large.ci_low < small.ci_high - small.ci_low


def test_result_is_json_ready(unbalanced: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = unbalanced
    for result in (
        silhouette(X[:500], y[:500]),
        silhouette(X, y, max_exact=1000, sample_size=400, random_state=0),
    ):
        payload = result.to_dict()
        assert json.loads(json.dumps(payload, allow_nan=False)) == payload
        assert "samples" not in payload


def test_errors_are_one_line_and_quote_the_value() -> None:
    X = np.arange(20, dtype=np.float64).reshape(10, 2)
    with pytest.raises(DataError, match="1 segment") as info:
        silhouette(X, np.zeros(10, dtype=int))
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="10 segment"):
        silhouette_samples_exact(X, np.arange(10))
    with pytest.raises(DataError, match="one label per row"):
        silhouette(X, [0, 1])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match="nan at row 3, column 1"):
        silhouette(bad, np.arange(10) % 2)
    with pytest.raises(DataError, match="-1"):
        silhouette(X, np.arange(10) % 2 - 1)
    with pytest.raises(ConfigError, match="confidence=1.5"):
        silhouette(X, np.arange(10) % 2, confidence=1.5)
    with pytest.raises(ConfigError, match="chunk_size=0"):
        silhouette_samples_exact(X, np.arange(10) % 2, chunk_size=0)


def test_the_exact_silhouettes_are_the_same_to_the_last_bit_on_any_number_of_cores(
    monkeypatch,
) -> None:
    # Threads follow the machine's cores, and float addition is not associative: the
    # distance sums must be split and added the same way whatever the thread count.
    import custseg.cluster.silhouette as module

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6))
    labels = rng.integers(0, 5, 3000)
    results = []
    for cores in (1, 2, 3, 8, 40):
        monkeypatch.setattr(module, "n_workers", lambda cores=cores: cores)
        results.append(silhouette_samples_exact(X, labels, chunk_size=128))
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])
