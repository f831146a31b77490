"""The scikit-learn compatible estimator."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.validation import NotFittedError

from custseg import CustomerSegmenter, load_model, save_model


def test_fit_predict_on_the_sample(_sample_frame_once, tmp_path):
    frame = _sample_frame_once.head(3000)
    seg = CustomerSegmenter(n_clusters=4, random_state=0).fit(frame)
    assert seg.n_clusters_ == 4
    assert seg.labels_.shape == (3000,)
    assert np.array_equal(seg.predict(frame), seg.labels_)
    distances = seg.transform(frame.head(50))
    assert distances.shape == (50, 4)
    assert np.array_equal(distances.argmin(axis=1), seg.labels_[:50])
    assert seg.score(frame) < 0
    # The fitted model is the same artefact the command line writes.
    path = save_model(seg.model_, tmp_path / "model.json")
    assert load_model(path).centroids == seg.model_.centroids


def test_arrays_and_clone_recover_blobs():
    X, truth = make_blobs(n_samples=1500, n_features=4, centers=3, random_state=0)
    seg = clone(CustomerSegmenter(k_range=(2, 6), random_state=0)).fit(X)
    assert seg.n_clusters_ == 3
    assert adjusted_rand_score(truth, seg.labels_) > 0.99
    assert seg.get_params()["k_range"] == (2, 6)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        CustomerSegmenter().predict(np.zeros((3, 2)))


def test_passes_scikit_learns_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    # A narrow k range keeps the 50 checks' fits quick; the checks are about the API.
    results = check_estimator(CustomerSegmenter(k_range=(2, 4)), on_skip=None, on_fail=None)
    failed = [f"{r['check_name']}: {r['exception']}" for r in results if r["status"] == "failed"]
    assert not failed, "\n".join(failed)
    assert len([r for r in results if r["status"] == "passed"]) >= 45


def test_tags_say_gaps_are_imputed_and_sparse_input_is_refused():
    from scipy import sparse
    from sklearn.utils import get_tags

    tags = get_tags(CustomerSegmenter())
    assert tags.input_tags.allow_nan and not tags.input_tags.sparse
    assert not tags.non_deterministic and tags.requires_fit
    X, _ = make_blobs(n_samples=300, n_features=3, centers=3, random_state=0)
    X[::17, 1] = np.nan  # gaps are imputed, as the tag says
    seg = CustomerSegmenter(n_clusters=3).fit(X)
    assert seg.n_features_in_ == 3 and seg.labels_.shape == (300,)
    with pytest.raises(TypeError, match="dense data is required"):
        CustomerSegmenter().fit(sparse.csr_matrix(np.nan_to_num(X)))
    with pytest.raises(ValueError, match="X has 2 features, but CustomerSegmenter is expecting 3"):
        seg.predict(X[:, :2])


def test_id_column_features_and_exclude_reach_the_schema():
    import pandas as pd

    rng = np.random.default_rng(0)
    X, _ = make_blobs(n_samples=400, n_features=3, centers=3, random_state=1)
    frame = pd.DataFrame(X, columns=["spend_a", "spend_b", "visits"])
    frame["ref"] = np.arange(400) * 7 + 11
    frame["score_churn"] = rng.random(400)
    frame["score_upsell"] = rng.random(400)
    seg = CustomerSegmenter(n_clusters=3, id_column="ref", exclude=["score_*"], random_state=0).fit(
        frame
    )
    roles = {c.name: c.role for c in seg.model_.schema.columns}
    assert roles == {
        "spend_a": "numeric",
        "spend_b": "numeric",
        "visits": "numeric",
        "ref": "id",
        "score_churn": "ignored",
        "score_upsell": "ignored",
    }
    assert list(seg.feature_names_in_) == list(frame.columns)
    only = CustomerSegmenter(n_clusters=3, features=["spend_*"]).fit(frame)
    assert only.model_.schema.id_column is None
    assert only.model_.schema.numeric == [
        "spend_a",
        "spend_b",
    ]
    assert only.get_params()["features"] == ["spend_*"]
