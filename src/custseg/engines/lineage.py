"""Lineage: the segments of a retrained model keep the ids and names of the previous one.

K-means numbers its clusters arbitrarily, and custseg's canonical order (largest
first) changes as soon as two segments swap sizes: without help, "segment 2" means
something else after every retrain. :func:`align_segments` matches the segments of a
new fit to those of a previous model, and the new model takes the previous ids and
names where they continue.

**The space.** The two models' centroids live in different prepared spaces (each plan
has its own imputation values, transforms and scaling), so they cannot be compared
directly, and undoing a plan (inverse scaling, ``expm1``, PCA) is lossy. Instead the
new training rows are prepared with the *previous* model's plan, through the one rows
-> segments path (:class:`~custseg.scoring.Scorer`), and each new segment is placed at
the mean of its customers there: the centroid it would have had in the previous
model's space. Distances are then Euclidean distances in that space (standardised
units), where the previous centroids are.

**The matching.** The optimal assignment (:func:`scipy.optimize.linear_sum_assignment`)
of new segments to previous ones minimises the total distance; it works whatever k each
side has. A pair is kept when the new segment's centre lies within ``max_shift`` (0.5 by
default) times the distance from the previous centroid to its nearest other previous
centroid. With 0.5 a kept pair is always unambiguous: the new centre is then closer to
its previous centroid than to any other. A new segment without a kept pair is ``new``;
a previous segment without one is ``retired``.

**The numbering.** Matched segments take the previous id when it exists in the new
model (ids stay ``0..k-1``); the others fill the free ids, continuing segments first,
then new segments, largest first. A matched segment takes the previous name; when the
playbook now gives it another name, the previous description and strategies stay with
the previous name and the suggestion is recorded in ``renamed``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from .._utils.checks import check_frame, is_number
from .._utils.sampling import stratified_sample
from ..exceptions import ConfigError, DataError, SchemaError
from ..model import LineageRecord, Segment, SegmentationModel, model_to_json
from ..scoring.scorer import Scorer

__all__ = ["DEFAULT_MAX_SHIFT", "Lineage", "align_segments"]

DEFAULT_MAX_SHIFT = 0.5
"""Largest shift kept as a match, relative to the previous centroid's nearest neighbour."""

# Segment centres are means: 200,000 rows stratified by segment pin them down (a 3%
# segment still has 6,000 rows) without preparing millions of rows a second time.
_MAX_ROWS = 200_000
_MIN_PER_SEGMENT = 1_000

_SPACE = (
    "the previous model's prepared space: each new segment's customers prepared with the"
    " previous model's plan, their mean compared with the previous centroids"
)


@dataclass(frozen=True)
class Lineage:
    """How the segments of a new fit continue those of a previous model.

    Attributes
    ----------
    previous : SegmentationModel
        The previous model.
    order : numpy.ndarray of int64
        ``order[j]`` is the final id of the fitted segment ``j`` (canonical numbering).
    record : LineageRecord
        What the new model keeps of the match (final ids): matched, new and retired
        segments, shifts, nearest previous segments, ``max_shift`` and the rows
        compared; its ``renamed`` is filled by :meth:`carry_identities`.
    """

    previous: SegmentationModel
    order: np.ndarray
    record: LineageRecord

    def relabel(self, labels: np.ndarray) -> np.ndarray:
        """Fitted labels (canonical numbering) in the final numbering."""
        return self.order[np.asarray(labels, dtype=np.int64)]

    def reorder(self, centroids: np.ndarray) -> np.ndarray:
        """Fitted centroids (row ``j`` for segment ``j``) in the final numbering."""
        centroids = np.asarray(centroids, dtype=np.float64)
        out = np.empty_like(centroids)
        out[self.order] = centroids
        return out

    def carry_identities(self, segments: list[Segment]) -> tuple[list[Segment], LineageRecord]:
        """Give continuing segments their previous names; return them and the lineage record.

        Parameters
        ----------
        segments : list of Segment
            The new catalogue in the final numbering, named by the playbook.

        Returns
        -------
        segments : list of Segment
            The catalogue with the previous names carried over (and, where the playbook
            now names a segment differently, its previous description and strategies).
        lineage : LineageRecord
            The ``lineage`` of the new model.
        """
        before = {s.id: s for s in self.previous.segments}
        out: list[Segment] = []
        matched = self.record.matched
        renamed: dict[int, str] = {}
        for segment in segments:
            old_id = matched.get(segment.id)
            if old_id is None or before[old_id].name == segment.name:
                out.append(segment)
                continue
            old = before[old_id]
            renamed[segment.id] = segment.name
            out.append(
                replace(
                    segment,
                    name=old.name,
                    description=old.description,
                    strategies=list(old.strategies),
                    playbook_key=old.playbook_key,
                )
            )
        # A new segment may have been given a name a continuing segment now carries.
        taken = {s.name for s in out if s.id in matched}
        for i, segment in enumerate(out):
            if segment.id in matched or segment.name not in taken:
                taken.add(segment.name)
                continue
            name, n = f"{segment.name} (new)", 2
            while name in taken:
                name, n = f"{segment.name} (new {n})", n + 1
            renamed[segment.id] = segment.name
            out[i] = replace(segment, name=name)
            taken.add(name)
        return out, replace(self.record, renamed=dict(sorted(renamed.items())))


def align_segments(
    previous: SegmentationModel,
    frame: pd.DataFrame,
    labels: Any,
    *,
    max_shift: float = DEFAULT_MAX_SHIFT,
) -> Lineage:
    """Match the segments of a new fit to those of a previous model.

    Parameters
    ----------
    previous : SegmentationModel
        The model the new one replaces.
    frame : pandas.DataFrame
        The new training rows (raw; they are prepared with the previous model's plan).
    labels : array-like of int
        Segment of each row of ``frame`` in the new fit, ``0..k-1``.
    max_shift : float, default 0.5
        A pair is kept when the new segment's centre lies within ``max_shift`` times
        the distance from the previous centroid to its nearest other previous centroid.

    Returns
    -------
    Lineage
        The final numbering and the matched, new and retired segments.

    Raises
    ------
    ConfigError
        If ``previous`` is not a model or ``max_shift`` is not a positive number.
    DataError
        If ``labels`` does not give one segment ``0..k-1`` per row of ``frame``.
    SchemaError
        If ``frame`` lacks a column the previous model needs.
    """
    if not isinstance(previous, SegmentationModel):
        raise ConfigError(
            f"previous should be a SegmentationModel, got {type(previous).__name__}; load it"
            " with custseg.load_model('model.json')"
        )
    if not is_number(max_shift) or max_shift <= 0:
        raise ConfigError(f"max_shift={max_shift!r} should be a positive number such as 0.5")
    check_frame(frame)
    codes = np.asarray(labels)
    if codes.shape != (len(frame),) or not np.issubdtype(codes.dtype, np.integer):
        raise DataError(
            f"labels should hold one integer segment per row of frame ({len(frame)} rows),"
            f" got shape {codes.shape} of {codes.dtype}"
        )
    if codes.size == 0 or codes.min() < 0:
        raise DataError("labels should be segment numbers 0..k-1 for at least one row")
    k = int(codes.max()) + 1
    if codes.size > _MAX_ROWS:
        rows = stratified_sample(
            codes, _MAX_ROWS, np.random.default_rng(0), min_per_segment=_MIN_PER_SEGMENT
        )
        frame, codes = frame.iloc[rows], codes[rows]
    scorer = Scorer(previous, require_id=False)
    try:
        scorer.check_columns(frame)
    except SchemaError as exc:
        raise SchemaError(
            f"cannot align with the previous model: {str(exc).splitlines()[0]}"
        ) from exc
    prepared = scorer.prepare_frame(frame)
    return _align(previous, prepared.X, codes[prepared.ok], k, float(max_shift))


def _align(
    previous: SegmentationModel, X: np.ndarray, labels: np.ndarray, k: int, max_shift: float
) -> Lineage:
    old = previous.centroid_array
    k_old = old.shape[0]
    # 1. Each new segment's centre in the previous space: the mean of its customers.
    sizes = np.bincount(labels, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    placed = sizes > 0
    centres = sums / np.maximum(sizes, 1)[:, None]
    distance = np.full((k, k_old), np.inf)
    distance[placed] = cdist(centres[placed], old)
    # 2. How far a previous centroid may move: half the way to its nearest neighbour.
    if k_old > 1:
        between = cdist(old, old)
        np.fill_diagonal(between, np.inf)
        separation = between.min(axis=1)
    else:
        separation = np.full(1, np.inf)
    # 3. The optimal one-to-one assignment; a segment no row placed costs more than any.
    finite = distance[np.isfinite(distance)]
    cost = np.where(
        np.isfinite(distance), distance, 1.0 + 2.0 * (finite.max() if finite.size else 0)
    )
    rows, cols = linear_sum_assignment(cost)
    pairs = {
        int(j): int(i)
        for j, i in zip(rows, cols, strict=True)
        if distance[j, i] <= max_shift * separation[i]
    }
    # 4. Final ids: a continuing segment keeps its previous id when it exists here.
    order = np.full(k, -1, dtype=np.int64)
    for j, i in pairs.items():
        if i < k:
            order[j] = i
    free = iter(sorted(set(range(k)) - set(order[order >= 0].tolist())))
    for j in sorted((j for j in pairs if order[j] < 0), key=pairs.__getitem__):
        order[j] = next(free)
    for j in range(k):  # new segments, in canonical order (largest first)
        if order[j] < 0:
            order[j] = next(free)
    matched = {int(order[j]): i for j, i in pairs.items()}
    shift = {int(order[j]): float(distance[j, i]) for j, i in pairs.items()}
    relative = {
        int(order[j]): float(distance[j, i] / separation[i])
        if math.isfinite(separation[i])
        else 0.0
        for j, i in pairs.items()
    }
    new = sorted(int(order[j]) for j in range(k) if j not in pairs)
    nearest = {
        int(order[j]): int(np.argmin(distance[j])) for j in range(k) if j not in pairs and placed[j]
    }
    retired = sorted(set(range(k_old)) - set(pairs.values()))
    record = LineageRecord(
        previous_checksum=json.loads(model_to_json(previous))["checksum"],
        previous_created_at=previous.created_at,
        previous_k=previous.k,
        previous_names={s.id: s.name for s in previous.segments},
        space=_SPACE,
        max_shift=max_shift,
        rows_compared=int(labels.size),
        matched=dict(sorted(matched.items())),
        new=new,
        retired=retired,
        shift=dict(sorted(shift.items())),
        relative_shift=dict(sorted(relative.items())),
        nearest=dict(sorted(nearest.items())),
        renamed={},
    )
    return Lineage(previous=previous, order=order, record=record)
