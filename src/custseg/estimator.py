"""A scikit-learn compatible estimator around :func:`custseg.fit_segments`.

For those who want custseg inside a scikit-learn ``Pipeline`` or ``GridSearchCV``::

    from custseg import CustomerSegmenter
    seg = CustomerSegmenter(random_state=0).fit(frame)
    seg.labels_, seg.model_.segment_names()

``fit`` stores parameters only in ``__init__``, validates and computes in ``fit`` and
sets fitted attributes with a trailing underscore, as scikit-learn estimators do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .config import FitConfig, PrepConfig
from .exceptions import DataError
from .model import SegmentationModel
from .pipeline import fit_segments
from .scoring.scorer import PreparedRows, Scorer

__all__ = ["CustomerSegmenter"]


class CustomerSegmenter(ClusterMixin, TransformerMixin, BaseEstimator):
    """Explained K-means segmentation with custseg's preparation and choice of k.

    Parameters
    ----------
    n_clusters : int or None, default=None
        Number of segments; ``None`` chooses it in ``k_range``.
    k_range : tuple of int, default=(2, 10)
        Range of k tried when ``n_clusters`` is ``None``.
    random_state : int, default=0
        Seed of every random step.
    preparation : PrepConfig or None, default=None
        Preparation settings; defaults when ``None``.
    id_column : str or None, default=None
        Identifier column of the input frame; inferred when ``None``.
    playbook : str or None, default=None
        Playbook TOML file for names and strategies; the bundled one when ``None``.

    Attributes
    ----------
    model_ : SegmentationModel
        The fitted model (save it with :func:`custseg.save_model`).
    labels_ : ndarray of shape (n_samples,)
        Segment of each training row.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centroids in the prepared feature space.
    n_clusters_ : int
        Number of segments.
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        k_range: tuple[int, int] = (2, 10),
        random_state: int = 0,
        preparation: PrepConfig | None = None,
        id_column: str | None = None,
        playbook: str | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.random_state = random_state
        self.preparation = preparation
        self.id_column = id_column
        self.playbook = playbook

    def fit(self, X: Any, y: Any = None) -> CustomerSegmenter:
        """Fit the segmentation on ``X`` (a DataFrame, or an array of numeric features)."""
        frame = _as_frame(X)
        config = FitConfig(
            k=self.n_clusters,
            k_range=tuple(self.k_range),  # type: ignore[arg-type]
            random_state=self.random_state,
            id_column=self.id_column,
            playbook=self.playbook,
            preparation=self.preparation or PrepConfig(),
        )
        self.model_: SegmentationModel = fit_segments(frame, config=config)
        self._scorer = Scorer(self.model_)
        self.cluster_centers_ = self.model_.centroid_array
        self.n_clusters_ = self.model_.k
        self.labels_ = self.predict(frame)
        return self

    def _prepared(self, X: Any) -> PreparedRows:
        check_is_fitted(self, "model_")
        frame = _as_frame(X)
        self._scorer.check_columns(frame)
        prepared = self._scorer.prepare_frame(frame.reset_index(drop=True))
        prepared.raise_if_rejected(
            fix="custseg.score_customers sets such rows aside as rejects with their reason"
        )
        return prepared

    def predict(self, X: Any) -> np.ndarray:
        """Segment id of each row of ``X``."""
        prepared = self._prepared(X)
        return self._scorer.assign_prepared(prepared).labels

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row to every centroid, shape ``(n, n_clusters)``."""
        prepared = self._prepared(X).X
        diff = prepared[:, None, :] - self.cluster_centers_[None, :, :]
        return np.sqrt(np.einsum("nkd,nkd->nk", diff, diff))

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of the inertia of ``X`` (higher is better, as in scikit-learn)."""
        prepared = self._prepared(X)
        distance = self._scorer.assign_prepared(prepared).distance
        return -float(np.sum(distance**2))


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"X should be 2-dimensional, got shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
