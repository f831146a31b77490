"""Clustering: K-means, the indices of a segmentation and the choice of k.

::

    fit_kmeans(X, k) -> KMeansFit             canonical order: segment 0 is the largest
    assign(X, centroids) -> Assignment        labels, distance, runner-up, margin
    choose_n_clusters(X, k_range) -> KSelection   every index per k and the recommendation
    evaluate_segmentation(X, labels, centroids) -> dict
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .evaluation import evaluate_segmentation
    from .kmeans import Assignment, KMeansFit, assign, fit_kmeans
    from .knee import KneeResult, find_knee
    from .selection import KCandidate, KSelection, choose_n_clusters
    from .silhouette import SilhouetteResult, silhouette, silhouette_samples_exact
    from .stability import bootstrap_stability

# Submodules load on first use: scoring needs the assignment, not the k sweep.
_EXPORTS = {
    "evaluate_segmentation": "evaluation",
    "Assignment": "kmeans",
    "KMeansFit": "kmeans",
    "assign": "kmeans",
    "fit_kmeans": "kmeans",
    "KneeResult": "knee",
    "find_knee": "knee",
    "KCandidate": "selection",
    "KSelection": "selection",
    "choose_n_clusters": "selection",
    "SilhouetteResult": "silhouette",
    "silhouette": "silhouette",
    "silhouette_samples_exact": "silhouette",
    "bootstrap_stability": "stability",
}
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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
