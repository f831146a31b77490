"""Data for "The segments in two dimensions": customers on the first two principal components."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._utils.sampling import stratified_sample
from ._common import MIN_DRAWN_PER_SEGMENT, SegmentedRows

__all__ = ["projection"]

_MAX_DRAWN_POINTS = 5_000  # more points only blur the picture


def projection(
    rows: SegmentedRows, centroids: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
    """A sample of customers and the segment centres on the first two principal components.

    Parameters
    ----------
    rows : SegmentedRows
        The prepared rows of the table and their segments.
    centroids : numpy.ndarray
        The segment centres, in the prepared features.
    rng : numpy.random.Generator
        Draws the sample of customers, stratified by segment.

    Returns
    -------
    dict
        ``x``, ``y`` and ``labels`` of the drawn sample, ``centroids`` (k × 2),
        ``explained_variance_ratio`` (2), ``n_drawn`` and ``n_total``.
    """
    X, labels = rows.X, rows.labels
    mean = X.mean(axis=0)
    centred = X - mean
    if X.shape[1] < 2:
        components = np.eye(max(X.shape[1], 1), 2)[: X.shape[1]].T
        ratio = [1.0, 0.0]
    else:
        covariance = centred.T @ centred / max(X.shape[0] - 1, 1)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1][:2]
        components = eigenvectors[:, order].T
        # Eigenvectors have no sign; fix it (largest loading positive) so that the
        # picture does not flip between runs or machines.
        signs = np.sign(components[np.arange(2), np.argmax(np.abs(components), axis=1)])
        components *= np.where(signs == 0, 1.0, signs)[:, None]
        total = float(eigenvalues.clip(min=0).sum())
        ratio = [float(eigenvalues[i]) / total if total > 0 else 0.0 for i in order]
    drawn = stratified_sample(labels, _MAX_DRAWN_POINTS, rng, min_per_segment=MIN_DRAWN_PER_SEGMENT)
    points = centred[drawn] @ components.T
    centres = (centroids - mean) @ components.T
    return {
        "x": points[:, 0].round(4).tolist(),
        "y": points[:, 1].round(4).tolist(),
        "labels": labels[drawn].tolist(),
        "centroids": centres.tolist(),
        "explained_variance_ratio": ratio,
        "n_drawn": int(drawn.size),
        "n_total": int(labels.size),
    }
