"""The fitted segmentation in memory: :class:`SegmentationModel`."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .._version import __version__
from ..cluster.selection import KSelection
from ..exceptions import ModelError
from ..prepare.plan import PreparationPlan
from ..prepare.schema import TableSchema
from .records import MAX_COORDINATE, DistanceProfile, LineageRecord, PlaybookRecord, Segment

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SegmentationModel"]

FORMAT_NAME = "custseg-model"
FORMAT_VERSION = 1
_VERSION_TEXT = re.compile(r"\d+(\.\d+)*[A-Za-z0-9.+\-]*")
_REFIT = "the file is inconsistent, refit it (custseg.fit_segments, `custseg fit`)"


@dataclass
class SegmentationModel:
    """A fitted segmentation: the stages' own types in memory, plain JSON when saved.

    Attributes
    ----------
    schema : TableSchema
        Input schema: column roles and dtypes.
    preparation : PreparationPlan
        Fitted preparation plan.
    feature_names : list of str
        Columns of the prepared matrix, in the order of the centroid coordinates.
    centroids : list of list of float
        ``k`` rows of ``len(feature_names)`` coordinates in the prepared space, in
        canonical order (row ``i`` is segment ``i``).
    segments : list of Segment
        The catalogue, ``segments[i].id == i``.
    distance_profile : DistanceProfile
        How far the training customers of each segment lie from its centroid (see
        :mod:`custseg.cluster.typicality`).
    playbook : PlaybookRecord
        The playbook that named the segments and why it was chosen.
    k_selection : KSelection or None
        Indices for every ``k`` tried and the recommendation with its explanation;
        ``None`` when ``k`` was given (saved as ``{}``).
    lineage : LineageRecord or None
        How the segments continue those of a previous model (``custseg fit
        --previous``; see :mod:`custseg.engines.lineage`); ``None`` without one (saved
        as ``{}``).
    metrics : dict
        Evaluation of the fit, plain data as written to ``metrics.json``: ``inertia``,
        one key per registered index (:data:`custseg.cluster.indices.INDICES`), the
        silhouette's details, stability, ``sizes``, ``engine``...
    profiles : dict
        Per-segment profile statistics (``ProfileResult.to_dict()``), the segment
        ``rules``, the ``outcomes`` columns per segment and the ``levels`` of the
        categorical columns (``LevelProfiles.to_dict()``, required when a model is
        loaded) and the sensitive-attribute ``audit``
        (:meth:`custseg.explain.audit.SensitiveAudit.to_dict`; absent from models fitted
        before it, which the report says); plain data the report reads.
    drift_reference : dict
        Per-feature training histograms and summary statistics for drift checks
        (:func:`custseg.prepare.reference.reference_statistics`), plain data.
    training : dict
        What the model was trained on (``rows``, ``source``, data sha256, manifest
        sha256, ``engine``...): keys depend on the source; plain data.
    settings : dict
        The settings of the fit (``FitConfig.to_dict()`` and the final ``k``).
    warnings : list of dict
        What the reader of the model should know before trusting it, one dictionary
        each: ``kind`` (``"no_identifier"``, ``"leakage"``...), ``message`` (one line
        naming the column and the fix) and details.
    custseg_version : str
        Version of custseg that wrote the model.
    created_at : str
        UTC creation time, ISO 8601.
    format_version : int
        Version of the file format.
    """

    schema: TableSchema
    preparation: PreparationPlan
    feature_names: list[str]
    centroids: list[list[float]]
    segments: list[Segment]
    distance_profile: DistanceProfile
    playbook: PlaybookRecord
    k_selection: KSelection | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)
    drift_reference: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    lineage: LineageRecord | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    custseg_version: str = __version__
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        self._validate()

    @property
    def k(self) -> int:
        """Number of segments."""
        return len(self.centroids)

    @property
    def centroid_array(self) -> np.ndarray:
        """Centroids as a float64 array of shape ``(k, n_features)``."""
        return np.asarray(self.centroids, dtype=np.float64).reshape(self.k, -1)

    def segment_names(self) -> list[str]:
        """Names of the segments in id order."""
        return [s.name for s in self.segments]

    def catalogue(self) -> list[dict[str, Any]]:
        """The segment catalogue as plain dictionaries (id, name, size, strategies, ...)."""
        return [s.to_dict() for s in self.segments]

    def _validate(self) -> None:
        k = len(self.centroids)
        if k < 1:
            raise ModelError(
                "the model has no centroids; refit it (custseg.fit_segments, `custseg fit`)"
            )
        if list(self.feature_names) != list(self.preparation.feature_names):
            raise ModelError(
                f"the model's feature_names differ from its preparation plan's; {_REFIT}"
            )
        width = len(self.feature_names)
        for i, row in enumerate(self.centroids):
            if len(row) != width:
                raise ModelError(
                    f"a centroid has {len(row)} coordinates but the model has {width} features;"
                    f" {_REFIT}"
                )
            for j, v in enumerate(row):
                if not _is_coordinate(v):
                    feature = str(self.feature_names[j])[:60]
                    raise ModelError(
                        f"centroids[{i}][{j}] (segment {i}, feature {feature!r}) is {str(v)[:30]},"
                        f" not a finite number within +-{MAX_COORDINATE:g}; refit the model"
                    )
        _check_time(self.created_at)
        if not isinstance(self.custseg_version, str) or not _VERSION_TEXT.fullmatch(
            self.custseg_version
        ):
            raise ModelError(
                f"custseg_version {self.custseg_version!r} is not a version number; refit the model"
            )
        if len(self.segments) != k or [s.id for s in self.segments] != list(range(k)):
            raise ModelError(
                f"the segment catalogue does not list segments 0..{k - 1} in order; {_REFIT}"
            )
        rows = len(self.distance_profile.quantiles)
        if rows != k:
            raise ModelError(
                f"distance_profile holds {rows} rows of quantiles for {k} segments; {_REFIT}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The model as a JSON-ready dictionary (without the checksum)."""
        body = {
            "format": FORMAT_NAME,
            "schema": self.schema.to_dict(),
            "preparation": self.preparation.to_dict(),
            "feature_names": self.feature_names,
            "centroids": self.centroids,
            "segments": [s.to_dict() for s in self.segments],
            "distance_profile": self.distance_profile.to_dict(),
            "metrics": self.metrics,
            "k_selection": self.k_selection.to_dict() if self.k_selection is not None else {},
            "profiles": self.profiles,
            "playbook": self.playbook.to_dict(),
            "drift_reference": self.drift_reference,
            "training": self.training,
            "settings": self.settings,
            "lineage": self.lineage.to_dict() if self.lineage is not None else {},
            "warnings": self.warnings,
            "custseg_version": self.custseg_version,
            "created_at": self.created_at,
            "format_version": self.format_version,
        }
        return plain(body)


def _is_coordinate(value: Any) -> bool:
    # Integers compare exactly (float() of one beyond float range raises); NaN fails.
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))
    return number and abs(value if isinstance(value, int) else float(value)) <= MAX_COORDINATE


def _check_time(value: Any) -> None:
    """``created_at`` must be an ISO 8601 time (it is printed in reports and SQL)."""
    ok = isinstance(value, str) and len(value) <= 40 and value.isprintable()
    if ok:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            ok = False
    if not ok:
        raise ModelError(
            f"created_at {str(value)[:60]!r} is not an ISO 8601 time such as"
            " 2024-07-01T08:30:00+00:00; refit the model"
        )


def plain(value: Any) -> Any:
    """Convert numpy scalars and arrays, tuples and paths into JSON types."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
