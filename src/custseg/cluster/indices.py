"""The indices that judge a segmentation: one registry, read at call time.

Each :class:`KIndex` names an index, says which direction is better and how to compute
it. The choice of k (:mod:`custseg.cluster.selection`) measures every registered index
for every k and lets those with ``votes=True`` vote; the evaluation of the final fit
(:mod:`custseg.cluster.evaluation`), the metrics document, the command line's summary
and the report read the same registry through :func:`registered_indices` whenever they
run. Adding an index is one call::

    register_index(KIndex("dunn", "Dunn", "higher", "the best Dunn index", compute=dunn))

An index computes itself in one of two ways, or both:

* ``compute(X, labelings, rng, max_exact)`` on prepared rows in memory, for several
  labelings at once (one per k) so that an index can share work between them (the
  silhouette shares one pass over the pairwise distances);
* ``from_summary(sums)`` from per-segment sums (:class:`SegmentSums`: sizes, means,
  within sums of squares, mean distances to the mean). The engines that never hold every
  row (streamed file, Spark) hand such sums over, so these indices are of all rows; an
  index without ``from_summary`` is measured there on the sample held in memory. In
  memory, an index with only ``from_summary`` is computed from the sums of the rows.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from ..exceptions import ConfigError
from .silhouette import silhouette_many

__all__ = [
    "KIndex",
    "Measured",
    "SegmentSums",
    "index",
    "register_index",
    "registered_indices",
    "unregister_index",
    "voting_indices",
]


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


class SegmentSums(Protocol):
    """What an index may read of per-segment sums (``k`` segments, ``d`` features).

    :class:`custseg.cluster.summaries.SegmentSummary` (all rows of a large table) is
    one; empty segments have size 0 and the indices leave them out.
    """

    @property
    def sizes(self) -> np.ndarray:
        """Rows per segment, shape (k,)."""
        ...

    @property
    def means(self) -> np.ndarray:
        """Mean of each segment's rows, shape (k, d)."""
        ...

    @property
    def within(self) -> np.ndarray:
        """Sum of squared distances of each segment's rows to its mean, shape (k,)."""
        ...

    @property
    def spread(self) -> np.ndarray:
        """Mean euclidean distance of each segment's rows to its mean, shape (k,)."""
        ...


Compute = Callable[[np.ndarray, Sequence[np.ndarray], np.random.Generator, int], list[Measured]]
FromSummary = Callable[[SegmentSums], float | None]


@dataclass(frozen=True)
class KIndex:
    """One index that judges a segmentation.

    Attributes
    ----------
    name : str
        Key in candidates, metrics, the model and ``metrics.json`` (lower-case letters,
        digits and underscores).
    label : str
        Human name, for tables and figure titles.
    direction : {"higher", "lower"}
        Which values are better.
    words : str
        How the explanation of a recommendation names its vote ("the best silhouette").
    compute : callable, optional
        ``(X, labelings, rng, max_exact) -> list[Measured]``, one per labeling;
        ``max_exact`` is the row count up to which an index must be exact (only the
        silhouette estimates). Without it the index is computed from the per-segment
        sums of the rows (``from_summary``).
    votes : bool, default True
        Whether the index votes in the choice of k.
    from_summary : callable, optional
        ``(sums: SegmentSums) -> float | None``: the index from per-segment sums,
        ``None`` when it is not defined (fewer than two occupied segments). Engines that
        never hold every row use it for the evaluation of all rows.
    description : str, default ""
        What the index measures in plain words, for the report's captions and tables
        ("spread between segments relative to spread within them").
    """

    name: str
    label: str
    direction: Literal["higher", "lower"]
    words: str
    compute: Compute | None = None
    votes: bool = True
    from_summary: FromSummary | None = None
    description: str = ""

    @property
    def title(self) -> str:
        """``"Silhouette (higher is better)"``: the title of its figure panel."""
        return f"{self.label} ({self.direction} is better)"

    def measure(
        self,
        X: np.ndarray,
        labelings: Sequence[np.ndarray],
        rng: np.random.Generator,
        max_exact: int,
    ) -> list[Measured]:
        """The index of each labeling of the prepared rows ``X``, in order.

        Through ``compute`` when the index has one, else from the per-segment sums of
        the rows; NaN when a labeling has fewer than two occupied segments.
        """
        if self.compute is not None:
            return self.compute(X, labelings, rng, max_exact)
        assert self.from_summary is not None  # register_index checks one of them is given
        out = []
        for labels in labelings:
            value = self.from_summary(_RowSums(X, labels))
            out.append(Measured(float("nan") if value is None else float(value)))
        return out

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
        """Plain data for reports: name, label, direction, title, votes and description."""
        return {
            "name": self.name,
            "label": self.label,
            "direction": self.direction,
            "title": self.title,
            "votes": self.votes,
            "description": self.description,
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


class _RowSums:
    """The :class:`SegmentSums` of rows in memory, in one pass over the rows.

    Per-segment sums instead of a pairwise-distance call per segment (scikit-learn's
    way): 0.2 s less per sweep of the bundled sample, results equal to 1e-9.
    """

    def __init__(self, X: np.ndarray, labels: np.ndarray) -> None:
        codes = np.asarray(labels, dtype=np.int64)
        k = int(codes.max()) + 1 if codes.size else 0
        self.sizes = np.bincount(codes, minlength=k)
        sums = np.column_stack([np.bincount(codes, X[:, j], k) for j in range(X.shape[1])])
        self.means = sums / np.maximum(self.sizes, 1)[:, None]
        diff = X - self.means[codes]
        squared = np.einsum("ij,ij->i", diff, diff)
        self.within = np.bincount(codes, squared, k)
        self.spread = np.bincount(codes, np.sqrt(squared), k) / np.maximum(self.sizes, 1)


def _calinski_harabasz(sums: SegmentSums) -> float | None:
    # [sum_c n_c |m_c - m|^2 / (k - 1)] / [sum_c W_c / (n - k)], as scikit-learn's
    # calinski_harabasz_score (1.0 when every row sits on its segment's mean).
    occupied = sums.sizes > 0
    k = int(occupied.sum())
    sizes = sums.sizes[occupied].astype(np.float64)
    n = float(sizes.sum())
    if k < 2 or n <= k:
        return None
    means = sums.means[occupied]
    overall = (sizes[:, None] * means).sum(axis=0) / n
    between = float(np.dot(sizes, ((means - overall) ** 2).sum(axis=1)))
    within = float(sums.within[occupied].sum())
    return 1.0 if within == 0.0 else between * (n - k) / (within * (k - 1.0))


def _davies_bouldin(sums: SegmentSums) -> float | None:
    # Mean over segments of max_{c' != c} (s_c + s_c') / |m_c - m_c'|, as scikit-learn's
    # davies_bouldin_score: 0 when every spread or every gap is 0, coincident means
    # leave their pair out.
    occupied = sums.sizes > 0
    if int(occupied.sum()) < 2:
        return None
    means = sums.means[occupied]
    spread = sums.spread[occupied]
    gaps = means[:, None, :] - means[None, :, :]
    between = np.sqrt(np.einsum("ijk,ijk->ij", gaps, gaps))
    if np.allclose(spread, 0.0) or np.allclose(between, 0.0):
        return 0.0
    between[between == 0] = np.inf
    return float(np.mean(np.max((spread[:, None] + spread[None, :]) / between, axis=1)))


_BUILT_IN: tuple[KIndex, ...] = (
    KIndex(
        "silhouette",
        "Silhouette",
        "higher",
        "the best silhouette",
        compute=_silhouettes,
        description="−1 to 1: how much closer customers are to their own segment than to"
        " the next one; above 0.25 segments are distinct, above 0.5 clearly apart",
    ),
    KIndex(
        "calinski_harabasz",
        "Calinski–Harabasz",
        "higher",
        "the best Calinski-Harabasz index",
        from_summary=_calinski_harabasz,
        description="spread between segments relative to spread within them; compare"
        " only for the same data",
    ),
    KIndex(
        "davies_bouldin",
        "Davies–Bouldin",
        "lower",
        "the best (lowest) Davies-Bouldin index",
        from_summary=_davies_bouldin,
        description="average overlap of each segment with its most similar one; 0 means no overlap",
    ),
)

# Keys that candidates, the model's metrics and metrics.json already use beside the
# indices: an index of that name would overwrite them or be overwritten.
_RESERVED = frozenset(
    {
        "k", "inertia", "knee", "votes", "eligible", "excluded_because", "min_share",
        "sizes", "shares", "segments", "n_rows", "indices", "engine", "evaluated_on",
        "stability_ari", "stability_min", "stability_mean", "stability_resamples",
        "stability_source", "inertia_gap", "k_selection", "recommended_k",
        "recommendation", "columns", "preparation", "playbook",
    }
)  # fmt: skip
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_lock = threading.Lock()
_registered: tuple[KIndex, ...] = _BUILT_IN


def registered_indices() -> tuple[KIndex, ...]:
    """Every registered index, in the order tables and figures show them.

    The three built-in indices (silhouette, Calinski–Harabasz, Davies–Bouldin) first,
    then those added with :func:`register_index`, in the order they were added.
    """
    return _registered


def voting_indices() -> list[KIndex]:
    """The registered indices that vote in the choice of k."""
    return [i for i in _registered if i.votes]


def index(name: str) -> KIndex:
    """The registered index called ``name``.

    Raises
    ------
    KeyError
        If no index has that name.
    """
    for entry in _registered:
        if entry.name == name:
            return entry
    raise KeyError(f"no index named {name!r}; registered: {[i.name for i in _registered]}")


def register_index(entry: KIndex) -> KIndex:
    """Add an index to the registry: every later sweep, evaluation and report shows it.

    Parameters
    ----------
    entry : KIndex
        The index; it needs ``compute``, ``from_summary`` or both.

    Returns
    -------
    KIndex
        ``entry``, so that a module can keep the registered object.

    Raises
    ------
    ConfigError
        If ``entry`` is not a :class:`KIndex`, its name is taken or not a plain
        lower-case key, its direction is neither ``"higher"`` nor ``"lower"``, its label
        or words are empty, or it has no callable way to compute itself.
    """
    global _registered
    _check_entry(entry)
    with _lock:
        if any(e.name == entry.name for e in _registered):
            raise ConfigError(
                f"an index named {entry.name!r} is already registered; choose another name"
                " or unregister_index it first"
            )
        _registered = (*_registered, entry)
    return entry


def unregister_index(name: str) -> KIndex:
    """Remove the index ``name`` added with :func:`register_index`, and return it.

    Raises
    ------
    ConfigError
        If no added index has that name (the built-in indices cannot be removed: the
        evaluation and the rule's tie-break read the silhouette).
    """
    global _registered
    with _lock:
        if any(e.name == name for e in _BUILT_IN):
            raise ConfigError(f"index {name!r} is built in and cannot be unregistered")
        found = [e for e in _registered if e.name == name]
        if not found:
            added = [e.name for e in _registered[len(_BUILT_IN) :]]
            raise ConfigError(f"no index named {name!r} was registered; added indices: {added}")
        _registered = tuple(e for e in _registered if e.name != name)
    return found[0]


def _check_entry(entry: Any) -> None:
    if not isinstance(entry, KIndex):
        raise ConfigError(
            f"entry={entry!r} should be a custseg.cluster.indices.KIndex; build one with"
            " KIndex(name, label, direction, words, compute=... or from_summary=...)"
        )
    if not isinstance(entry.name, str) or not _NAME.fullmatch(entry.name):
        raise ConfigError(
            f"index name={entry.name!r} should be lower-case letters, digits and"
            " underscores starting with a letter, e.g. 'dunn'"
        )
    if entry.name in _RESERVED or entry.name.startswith("silhouette"):
        raise ConfigError(
            f"index name={entry.name!r} is a key candidates and metrics already use;"
            " choose another name"
        )
    if entry.direction not in ("higher", "lower"):
        raise ConfigError(
            f"index {entry.name!r} has direction={entry.direction!r}; it should be"
            " 'higher' or 'lower' (which values are better)"
        )
    for attribute in ("label", "words"):
        value = getattr(entry, attribute)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"index {entry.name!r} has {attribute}={value!r}; give it a non-empty text"
            )
    for attribute in ("compute", "from_summary"):
        value = getattr(entry, attribute)
        if value is not None and not callable(value):
            raise ConfigError(
                f"index {entry.name!r} has {attribute}={value!r}, which is not callable;"
                " pass a function"
            )
    if entry.compute is None and entry.from_summary is None:
        raise ConfigError(
            f"index {entry.name!r} has neither compute nor from_summary; give it at least"
            " one way to compute itself"
        )
