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
