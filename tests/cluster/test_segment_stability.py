"""Per-segment stability (Hennig's clusterwise Jaccard) and the close-call rule of k.

Known answers on small traps: two tight groups far from a round cloud that K-means must
cut in two (the halves fall anywhere: unstable, the tight groups highly stable), and two
k that the criteria cannot tell apart (the smaller one, whatever the seed).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from custseg import fit_segments
from custseg.cluster.kmeans import fit_kmeans
from custseg.cluster.rule import KCandidate, apply_rule
from custseg.cluster.selection import choose_n_clusters
from custseg.cluster.stability import (
    SEGMENT_HALF_WIDTH,
    SEGMENT_MAX_RESAMPLES,
    SEGMENT_MIN_RESAMPLES,
    more_refits,
    resample_stability,
    segment_jaccard,
    segment_stability,
    stability_band,
)


def _cut_cloud(n_cloud: int = 600, dims: int = 6, seed: int = 0) -> np.ndarray:
    """Two tight groups far apart, and a round cloud with no structure (cut by k = 4)."""
    rng = np.random.default_rng(seed)
    # The tight groups sit on the diagonal: every column spreads alike, and the cloud
    # stays round once each column is scaled.
    return np.vstack(
        [
            rng.normal(12.0, 0.5, size=(150, dims)),
            rng.normal(-12.0, 0.5, size=(150, dims)),
            rng.normal(0.0, 3.0, size=(n_cloud, dims)),
        ]
    )


def test_segment_jaccard_matches_each_segment_with_its_best_counterpart() -> None:
    reference = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    # Renumbered (2 -> 0...), one row of segment 0 moved to segment 1's counterpart.
    refit = np.array([1, 1, 1, 2, 2, 2, 2, 2, 0, 0])
    jaccard = segment_jaccard(reference, refit, 3)
    assert jaccard == pytest.approx([3 / 4, 4 / 5, 1.0])
    # A segment without rows among the compared ones is not measured.
    assert np.isnan(segment_jaccard(np.array([0, 0, 2]), np.array([0, 0, 1]), 3)[1])


def test_bands_follow_hennig() -> None:
    assert [stability_band(v) for v in (0.3, 0.6, 0.74, 0.75, 0.85, 0.86, float("nan"))] == [
        "unstable",
        "doubtful",
        "doubtful",
        "fairly stable",
        "fairly stable",
        "highly stable",
        "not measured",
    ]


def test_a_cut_cloud_is_unstable_and_tight_groups_highly_stable() -> None:
    X = _cut_cloud()
    fit = fit_kmeans(X, 4, n_init=4, random_state=0, engine="lloyd")
    first = resample_stability(X, fit.labels, None, 4, np.random.default_rng(0), n_resamples=3)
    assert first.n_resamples == 3
    result = more_refits(first)
    # At least 20 refits, more until every segment is within ±0.03, 40 at most.
    assert SEGMENT_MIN_RESAMPLES <= result.n_resamples <= SEGMENT_MAX_RESAMPLES
    found = segment_stability(result, fit.centroids)
    assert found is not None and found.n_resamples == result.n_resamples
    assert result.n_resamples == SEGMENT_MAX_RESAMPLES or max(found.half_width) <= (
        SEGMENT_HALF_WIDTH
    )
    tight = [i for i in range(4) if fit.sizes[i] == 150]
    cut = [i for i in range(4) if i not in tight]
    assert len(tight) == 2
    assert all(found.jaccard[i] > 0.95 and found.bands[i] == "highly stable" for i in tight)
    assert all(found.jaccard[i] < 0.6 and found.bands[i] == "unstable" for i in cut)
    # Read against the same centroids in another numbering: the figures follow them.
    order = np.array([3, 2, 1, 0])
    again = segment_stability(result, fit.centroids[order])
    assert again is not None
    assert again.jaccard == pytest.approx(found.reordered(order).jaccard)


def test_without_refits_there_is_no_segment_stability() -> None:
    X = _cut_cloud(n_cloud=100)
    fit = fit_kmeans(X, 3, n_init=1, random_state=0)
    none = resample_stability(X, fit.labels, None, 3, np.random.default_rng(0), n_resamples=0)
    assert segment_stability(more_refits(none), fit.centroids) is None


def _cut_cloud_table() -> pd.DataFrame:
    X = _cut_cloud()
    columns = ["visits", "orders", "basket_value", "returns", "reviews", "support_calls"]
    frame = pd.DataFrame(X * 10 + 100, columns=columns)
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(frame))])
    return frame


def test_an_unstable_segment_is_marked_and_gets_no_strategies(tmp_path) -> None:
    from custseg.pipeline import metrics_document

    said: list[dict] = []
    model = fit_segments(_cut_cloud_table(), k=4, random_state=0, on_warning=said.append)
    bands = {s.id: s.stability_band for s in model.segments}
    unstable = [s for s in model.segments if s.stability_band == "unstable"]
    stable = [s for s in model.segments if s.stability_band == "highly stable"]
    assert len(unstable) == 2 and len(stable) == 2, bands
    assert all(s.strategies == [] for s in unstable)
    assert all(s.strategies for s in stable)
    assert all(s.stability is not None and s.stability < 0.6 for s in unstable)
    warned = [w for w in model.warnings if w["kind"] == "unstable_segment"]
    assert sorted(w["segment_id"] for w in warned) == sorted(s.id for s in unstable)
    assert all("unstable: read with care" in w["message"] for w in warned)
    assert [w for w in said if w["kind"] == "unstable_segment"] == warned
    # metrics.json carries one record per segment, in the segments' numbering.
    metrics = json.loads(json.dumps(metrics_document(model)))
    records = metrics["segment_stability"]
    assert [r["segment_id"] for r in records] == [s.id for s in model.segments]
    assert [r["band"] for r in records] == [s.stability_band for s in model.segments]
    assert all(r["resamples"] >= SEGMENT_MIN_RESAMPLES for r in records)


def test_close_calls_go_to_the_smaller_k_not_to_the_silhouette() -> None:
    def candidate(k: int, silhouette: float, ch: float, db: float) -> KCandidate:
        return KCandidate(
            k=k,
            inertia=1000.0 / k,
            indices={"silhouette": silhouette, "calinski_harabasz": ch, "davies_bouldin": db},
            stability_ari=0.97,
            stability_min=0.9,
            min_share=0.2,
            sizes=[100] * k,
        )

    # k = 5 has the (slightly) better silhouette; Calinski-Harabasz votes for 5,
    # Davies-Bouldin for 4: a tie the silhouette used to break by 0.004.
    candidates = [candidate(4, 0.401, 900.0, 0.60), candidate(5, 0.405, 1000.0, 0.70)]
    _, recommended, explanation = apply_rule(
        candidates, None, min_share=0.03, min_stability=0.9, stability_measured=True
    )
    assert recommended == 4
    assert (
        "k = 4 and k = 5 are within noise on stability and silhouette (silhouette 0.401"
        " and 0.405, within 5%; stability ARI 0.97 and 0.97) and tie on votes: the smaller"
        " k is recommended" in explanation
    )
    # Silhouettes 10% apart are not noise: the best silhouette still breaks the tie.
    candidates[1] = candidate(5, 0.45, 1000.0, 0.70)
    _, recommended, explanation = apply_rule(
        candidates, None, min_share=0.03, min_stability=0.9, stability_measured=True
    )
    assert recommended == 5 and "within noise" not in explanation


def test_the_only_eligible_k_is_not_praised_for_beating_others() -> None:
    def candidate(k: int, stability: float) -> KCandidate:
        return KCandidate(
            k=k,
            inertia=1000.0 / k,
            indices={"silhouette": 0.3, "calinski_harabasz": 500.0, "davies_bouldin": 1.0},
            stability_ari=stability,
            stability_min=stability - 0.1,
            min_share=0.1,
            sizes=[100] * k,
        )

    candidates = [candidate(3, 0.7), candidate(4, 0.95), candidate(5, 0.8)]
    decided, recommended, explanation = apply_rule(
        candidates, 4, min_share=0.03, min_stability=0.9, stability_measured=True
    )
    assert recommended == 4
    assert "k = 4 is the only k that is stable with segments of at least 3%." in explanation
    assert "has the" not in explanation and "points to" not in explanation
    assert all(c.votes == [] for c in decided)


def test_the_close_call_rule_gives_the_same_k_for_every_seed() -> None:
    # Four groups, two of them close: k = 3 (the pair merged) and k = 4 are both
    # stable, their silhouettes within 5%, and Calinski-Harabasz and Davies-Bouldin
    # disagree; no knee on two k.
    centers = [[6.62, 0.69], [7.03, 3.19], [4.5, 9.81], [0.64, 1.84]]
    X, _ = make_blobs(n_samples=300, centers=centers, cluster_std=0.465, random_state=37)
    chosen = []
    for seed in range(10):
        selection = choose_n_clusters(X, k_range=[3, 4], random_state=seed, n_resamples=3)
        chosen.append(selection.recommended_k)
        assert "are within noise on" in selection.explanation, selection.explanation
        # More resamples where they decide: both k's refits were continued.
        assert all(c.stability_resamples >= SEGMENT_MIN_RESAMPLES for c in selection.candidates)
    assert chosen == [3] * 10
