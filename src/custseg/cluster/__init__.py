"""Clustering: K-means, the indices of a segmentation and the choice of k.

::

    fit_kmeans(X, k) -> KMeansFit             canonical order: segment 0 is the largest
    assign(X, centroids) -> Assignment        labels, distance, runner-up, margin
    choose_n_clusters(X, k_range) -> KSelection   every index per k and the recommendation
    evaluate_segmentation(X, labels, centroids) -> dict
"""

from __future__ import annotations

from .evaluation import evaluate_segmentation
from .kmeans import Assignment, KMeansFit, assign, fit_kmeans
from .knee import KneeResult, find_knee
from .selection import KCandidate, KSelection, choose_n_clusters
from .silhouette import SilhouetteResult, silhouette, silhouette_samples_exact
from .stability import bootstrap_stability

__all__ = [
    "Assignment",
    "KCandidate",
    "KMeansFit",
    "KSelection",
    "KneeResult",
    "SilhouetteResult",
    "assign",
    "bootstrap_stability",
    "choose_n_clusters",
    "evaluate_segmentation",
    "find_knee",
    "fit_kmeans",
    "silhouette",
    "silhouette_samples_exact",
]
