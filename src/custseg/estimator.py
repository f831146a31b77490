"""A scikit-learn compatible estimator around :func:`custseg.fit_segments`.

For those who want custseg inside a scikit-learn ``Pipeline`` or ``GridSearchCV``::

    from custseg import CustomerSegmenter
    seg = CustomerSegmenter(random_state=0, exclude=["score_*"]).fit(frame)
    seg.labels_, seg.model_.segment_names()

``__init__`` only stores parameters; ``fit`` validates, computes and sets fitted
attributes with a trailing underscore, as scikit-learn estimators do, and the estimator
passes ``sklearn.utils.estimator_checks.check_estimator``.

Input: a pandas DataFrame goes through custseg's own column roles (identifier, text
categories, dates, outcome columns); anything else is validated by scikit-learn as a
dense numeric matrix (gaps allowed, imputed by the preparation; infinities, sparse and
complex input refused) whose columns are called ``x0``, ``x1``, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .config import FitConfig, PrepConfig
from .model import SegmentationModel
from .pipeline import fit_segments
from .scoring.rows import PreparedRows
from .scoring.scorer import Scorer

__all__ = ["CustomerSegmenter"]

# k = 2 needs three rows to be chosen among others; a fixed k needs k rows.
_MIN_FIT_ROWS = 2


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
    features : sequence of str or None, default=None
        Use exactly these columns (names or glob patterns such as ``"Mnt*"``) as
        features; ``None`` infers them.
    exclude : sequence of str or None, default=None
        Columns (names or glob patterns such as ``"score_*"``) never used.
    playbook : str or None, default=None
        Playbook TOML file for names and strategies; the bundled one when ``None``.
    cluster_descriptors : bool, default=False
        Cluster on the columns that say who the customer is (age, gender, region...);
        by default they are profiled per segment only.

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
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen in ``fit``, when ``X`` was a DataFrame with string names.
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        k_range: tuple[int, int] = (2, 10),
        random_state: int = 0,
        preparation: PrepConfig | None = None,
        id_column: str | None = None,
        features: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        playbook: str | None = None,
        cluster_descriptors: bool = False,
    ) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.random_state = random_state
        self.preparation = preparation
        self.id_column = id_column
        self.features = features
        self.exclude = exclude
        self.playbook = playbook
        self.cluster_descriptors = cluster_descriptors

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Gaps are imputed by the preparation plan; sparse matrices are refused.
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = False
        # Every random step is seeded by random_state.
        tags.non_deterministic = False
        return tags

    def fit(self, X: Any, y: Any = None) -> CustomerSegmenter:
        """Fit the segmentation on ``X`` (a DataFrame, or a numeric matrix).

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            One row per customer.
        y : ignored
            Not used; present for scikit-learn's API.

        Returns
        -------
        CustomerSegmenter
            The fitted estimator.
        """
        frame = self._frame(X, reset=True)
        config = FitConfig(
            k=self.n_clusters,
            k_range=tuple(self.k_range),  # type: ignore[arg-type]
            random_state=self.random_state,
            id_column=self.id_column,
            features=None if self.features is None else _names(self.features),
            exclude=() if self.exclude is None else _names(self.exclude),
            playbook=self.playbook,
            cluster_descriptors=self.cluster_descriptors,
            preparation=self.preparation or PrepConfig(),
        )
        self.model_: SegmentationModel = fit_segments(frame, config=config)
        self._scorer = Scorer(self.model_)
        self.cluster_centers_ = self.model_.centroid_array
        self.n_clusters_ = self.model_.k
        self.labels_ = self._scorer.assign_prepared(self._prepare(frame)).labels
        return self

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """``X`` validated as scikit-learn requires, as a DataFrame for custseg."""
        minimum = _MIN_FIT_ROWS if reset else 1
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[1] == 0:
                raise ValueError(f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required")
            if X.shape[0] < minimum:
                raise ValueError(
                    f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a"
                    f" minimum of {minimum} is required; n_samples={X.shape[0]}"
                )
            return X.reset_index(drop=True)
        array = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=False,
            dtype="numeric",
            ensure_all_finite="allow-nan",
            ensure_min_samples=minimum,
        )
        names = [f"x{i}" for i in range(array.shape[1])]
        return pd.DataFrame(np.asarray(array, dtype=np.float64), columns=names)

    def _prepare(self, frame: pd.DataFrame) -> PreparedRows:
        self._scorer.check_columns(frame)
        prepared = self._scorer.prepare_frame(frame)
        prepared.raise_if_rejected(
            fix="custseg.score_customers sets such rows aside as rejects with their reason"
        )
        return prepared

    def _prepared(self, X: Any) -> PreparedRows:
        check_is_fitted(self, "model_")
        return self._prepare(self._frame(X, reset=False))

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


def _names(value: Sequence[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
