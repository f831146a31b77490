"""The indices that judge a segmentation, registered once.

Each :class:`KIndex` names an index, says which direction is better and how to compute
it on prepared rows. The choice of k (:mod:`custseg.cluster.selection`) measures every
registered index for every k and lets those with ``votes=True`` vote; the evaluation of
the final fit (:mod:`custseg.cluster.evaluation`), the metrics document, the command
line's summary and the report's figures read the same registry. Adding an index is one
entry in :data:`INDICES`.

Every ``compute`` takes the prepared rows and several labelings of them (one per k) so
that an index can share work between them (the silhouette shares one pass over the
pairwise distances), and returns one :class:`Measured` per labeling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .silhouette import silhouette_many

__all__ = ["INDICES", "KIndex", "Measured", "index", "voting_indices"]


@dataclass(frozen=True)
class Measured:
    """One index value of one labeling, with details to store beside it.

    ``details`` keys are stored next to the index in candidates and metrics (for
    instance ``silhouette_exact`` and ``silhouette_ci`` for an estimated silhouette).
    ``evaluation`` holds what :func:`custseg.cluster.evaluation.evaluate_segmentation`
    reports for this index (the silhouette per segment...), so that the evaluation of
    a fit the sweep already measured reuses it instead of measuring it again.
    """

    value: float
    details: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)


Compute = Callable[[np.ndarray, Sequence[np.ndarray], np.random.Generator, int], list[Measured]]


@dataclass(frozen=True)
class KIndex:
    """One registered index.

    Attributes
    ----------
    name : str
        Key in candidates, metrics, the model and ``metrics.json``.
    label : str
        Human name, for tables and figure titles.
    direction : {"higher", "lower"}
        Which values are better.
    words : str
        How the explanation of a recommendation names its vote ("the best silhouette").
    compute : callable
        ``(X, labelings, rng, max_exact) -> list[Measured]``; ``max_exact`` is the row
        count up to which an index must be exact (only the silhouette estimates).
    votes : bool
        Whether the index votes in the choice of k.
    """

    name: str
    label: str
    direction: Literal["higher", "lower"]
    words: str
    compute: Compute
    votes: bool = True

    @property
    def title(self) -> str:
        """``"Silhouette (higher is better)"``: the title of its figure panel."""
        return f"{self.label} ({self.direction} is better)"

    def best(self, values: Mapping[int, float]) -> int | None:
        """The key (a k) with the best finite value; ``None`` when none is finite.

        Ties go to the first key in iteration order.
        """
        finite = {k: v for k, v in values.items() if np.isfinite(v)}
        if not finite:
            return None
        if self.direction == "higher":
            return max(finite, key=lambda k: finite[k])
        return min(finite, key=lambda k: finite[k])

    def describe(self) -> dict[str, Any]:
        """Plain data for reports: name, label, direction, title and whether it votes."""
        return {
            "name": self.name,
            "label": self.label,
            "direction": self.direction,
            "title": self.title,
            "votes": self.votes,
        }


def _silhouettes(
    X: np.ndarray, labelings: Sequence[np.ndarray], rng: np.random.Generator, max_exact: int
) -> list[Measured]:
    results = silhouette_many(X, list(labelings), max_exact=max_exact, random_state=rng)
    out = []
    for result in results:
        interval = (
            [result.ci_low, result.ci_high]
            if result.ci_low is not None and result.ci_high is not None
            else None
        )
        details = {"silhouette_exact": result.exact, "silhouette_ci": interval}
        evaluation = {
            "silhouette": result.value,
            "silhouette_per_segment": list(result.per_segment),
            "silhouette_sample_size": result.sample_size,
            "silhouette_confidence": result.confidence,
            **details,
        }
        out.append(Measured(result.value, details, evaluation))
    return out


def _per_labeling(
    score: Callable[[np.ndarray, np.ndarray], float],
) -> Compute:
    def compute(
        X: np.ndarray, labelings: Sequence[np.ndarray], rng: np.random.Generator, max_exact: int
    ) -> list[Measured]:
        out = []
        for labels in labelings:
            # Both indices need at least two occupied segments.
            if np.unique(labels).shape[0] < 2:
                out.append(Measured(float("nan")))
                continue
            value = float(score(X, labels))
            out.append(Measured(value, evaluation={"value": value}))
        return out

    return compute


class _Segments:
    """Per-segment means and distances of the rows to them, in one pass over the rows.

    What scikit-learn's ``calinski_harabasz_score`` and ``davies_bouldin_score``
    compute segment by segment (same formulas, same conventions, results equal to
    1e-9), without a pairwise-distance call per segment: 0.2 s less per sweep of the
    bundled sample.
    """

    def __init__(self, X: np.ndarray, labels: np.ndarray) -> None:
        codes = np.asarray(labels, dtype=np.int64)
        counts = np.bincount(codes)
        if not counts.all():  # empty segments do not count, as in scikit-learn
            _, codes, counts = np.unique(codes, return_inverse=True, return_counts=True)
        k = counts.shape[0]
        sums = np.column_stack([np.bincount(codes, X[:, j], k) for j in range(X.shape[1])])
        self.counts = counts.astype(np.float64)
        self.means = sums / self.counts[:, None]
        diff = X - self.means[codes]
        self.squared = np.einsum("ij,ij->i", diff, diff)
        self.codes = codes
        self.n_rows, self.k = X.shape[0], counts.shape[0]
        self.overall = np.asarray(X, dtype=np.float64).mean(axis=0)


def _calinski_harabasz(X: np.ndarray, labels: np.ndarray) -> float:
    seg = _Segments(X, labels)
    extra = float(np.dot(seg.counts, ((seg.means - seg.overall) ** 2).sum(axis=1)))
    intra = float(seg.squared.sum())
    if intra == 0.0:
        return 1.0
    return extra * (seg.n_rows - seg.k) / (intra * (seg.k - 1.0))


def _davies_bouldin(X: np.ndarray, labels: np.ndarray) -> float:
    seg = _Segments(X, labels)
    intra = np.bincount(seg.codes, np.sqrt(seg.squared), seg.k) / seg.counts
    gaps = seg.means[:, None, :] - seg.means[None, :, :]
    between = np.sqrt(np.einsum("ijk,ijk->ij", gaps, gaps))
    if np.allclose(intra, 0.0) or np.allclose(between, 0.0):
        return 0.0
    between[between == 0] = np.inf
    return float(np.mean(np.max((intra[:, None] + intra[None, :]) / between, axis=1)))


INDICES: tuple[KIndex, ...] = (
    KIndex(
        "silhouette",
        "Silhouette",
        "higher",
        "the best silhouette",
        _silhouettes,
    ),
    KIndex(
        "calinski_harabasz",
        "Calinski–Harabasz",
        "higher",
        "the best Calinski-Harabasz index",
        _per_labeling(_calinski_harabasz),
    ),
    KIndex(
        "davies_bouldin",
        "Davies–Bouldin",
        "lower",
        "the best (lowest) Davies-Bouldin index",
        _per_labeling(_davies_bouldin),
    ),
)
"""Every index, in the order tables and figures show them."""


def voting_indices() -> list[KIndex]:
    """The registered indices that vote in the choice of k."""
    return [i for i in INDICES if i.votes]


def index(name: str) -> KIndex:
    """The registered index called ``name``.

    Raises
    ------
    KeyError
        If no index has that name.
    """
    for entry in INDICES:
        if entry.name == name:
            return entry
    raise KeyError(f"no index named {name!r}; registered: {[i.name for i in INDICES]}")
