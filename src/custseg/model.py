"""The fitted segmentation as plain data, and its safe file format.

A :class:`SegmentationModel` holds everything needed to score new customers without
the training session: the input schema, the preparation plan (plain numbers), the
centroids, the segment catalogue (names, descriptions, strategies), the metrics and
training statistics for drift checks. It is saved as one JSON document with a format
version and a sha256 checksum of its canonical body. Loading never executes code.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ._utils.io import sha256_bytes, write_text_atomic
from ._version import __version__
from .exceptions import ModelError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Segment",
    "SegmentationModel",
    "save_model",
    "load_model",
    "model_to_json",
    "model_from_json",
]

FORMAT_NAME = "custseg-model"
FORMAT_VERSION = 1


@dataclass
class Segment:
    """One segment of the catalogue.

    Attributes
    ----------
    id : int
        Canonical segment number: 0 is the largest segment of the training data.
    size : int
        Training customers assigned to the segment.
    share : float
        ``size`` divided by the number of training customers.
    name : str
        Unique human-readable name (from the playbook or built from traits).
    description : str
        One sentence describing the segment.
    strategies : list of str
        Suggested business actions, for people to review.
    traits : list of str
        Short phrases for the most distinguishing features.
    rule : dict
        Human-readable rule with its precision and coverage (see ``custseg.explain.rules``).
    playbook_key : str or None
        Key of the playbook entry that named the segment, ``None`` for descriptive names.
    """

    id: int
    size: int
    share: float
    name: str = ""
    description: str = ""
    strategies: list[str] = field(default_factory=list)
    traits: list[str] = field(default_factory=list)
    rule: dict[str, Any] = field(default_factory=dict)
    playbook_key: str | None = None


@dataclass
class SegmentationModel:
    """A fitted segmentation, as plain data.

    Attributes
    ----------
    schema : dict
        Input schema (``TableSchema.to_dict()``): column roles and dtypes.
    preparation : dict
        Fitted preparation plan (``PreparationPlan.to_dict()``).
    feature_names : list of str
        Columns of the prepared matrix, in the order of the centroid coordinates.
    centroids : list of list of float
        ``k`` rows of ``len(feature_names)`` coordinates in the prepared space, in
        canonical order (row ``i`` is segment ``i``).
    segments : list of Segment
        The catalogue, ``segments[i].id == i``.
    metrics : dict
        Evaluation of the fit (inertia, silhouette, Calinski-Harabasz, Davies-Bouldin,
        stability, sizes, ...).
    k_selection : dict
        Indices for every ``k`` tried and the recommendation with its explanation.
    profiles : dict
        Per-segment profile statistics (see ``custseg.explain.profiles``).
    drift_reference : dict
        Per-feature training histograms and summary statistics for drift checks.
    training : dict
        What the model was trained on: rows, source, data sha256, manifest sha256.
    settings : dict
        The settings of the fit (k range, seed, engine, preparation options).
    warnings : list of dict
        What the reader of the model should know before trusting it, one dictionary
        each: ``kind`` (``"no_identifier"``, ``"leakage"``...), ``message`` (one line
        naming the column and the fix) and details; a ``"leakage"`` warning also has
        ``column``, ``segment_id``, ``precision`` and ``coverage``. Empty when there is
        nothing to say.
    custseg_version : str
        Version of custseg that wrote the model.
    created_at : str
        UTC creation time, ISO 8601.
    format_version : int
        Version of the file format.
    """

    schema: dict[str, Any]
    preparation: dict[str, Any]
    feature_names: list[str]
    centroids: list[list[float]]
    segments: list[Segment]
    metrics: dict[str, Any] = field(default_factory=dict)
    k_selection: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)
    drift_reference: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    custseg_version: str = __version__
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.segments = [s if isinstance(s, Segment) else Segment(**s) for s in self.segments]
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
        return [asdict(s) for s in self.segments]

    def _validate(self) -> None:
        k = len(self.centroids)
        if k < 1:
            raise ModelError("the model has no centroids; refit it with `custseg fit`")
        width = len(self.feature_names)
        for row in self.centroids:
            if len(row) != width:
                raise ModelError(
                    f"a centroid has {len(row)} coordinates but the model has {width} features;"
                    " the file is inconsistent, refit it with `custseg fit`"
                )
            if not all(math.isfinite(float(v)) for v in row):
                raise ModelError("a centroid has a non-finite coordinate; refit the model")
        if len(self.segments) != k or [s.id for s in self.segments] != list(range(k)):
            raise ModelError(
                f"the segment catalogue does not list segments 0..{k - 1} in order;"
                " the file is inconsistent, refit it with `custseg fit`"
            )

    def to_dict(self) -> dict[str, Any]:
        """The model as a JSON-ready dictionary (without the checksum)."""
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["segments"] = [asdict(s) for s in self.segments]
        body = _plain(body)
        return {"format": FORMAT_NAME, **body}


def _plain(value: Any) -> Any:
    """Convert numpy scalars and arrays, tuples and paths into JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
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


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def model_to_json(model: SegmentationModel) -> str:
    """Serialise ``model`` to its JSON document, with the checksum of its canonical body."""
    body = model.to_dict()
    checksum = "sha256:" + sha256_bytes(_canonical(body))
    return json.dumps({**body, "checksum": checksum}, indent=1, allow_nan=False) + "\n"


def model_from_json(text: str | bytes, *, source: str = "the model") -> SegmentationModel:
    """Parse and verify a model document.

    Raises
    ------
    ModelError
        If the text is not JSON, not a custseg model, of an unknown format version,
        or if its checksum does not match its content.
    """
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{source} is not a custseg model file (not JSON: {exc.__class__.__name__});"
            " pass the model.json written by `custseg fit`"
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ModelError(
            f"{source} is JSON but not a custseg model; pass the model.json written by"
            " `custseg fit`"
        )
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ModelError(
            f"{source} has model format version {version!r} but this custseg {__version__}"
            f" reads version {FORMAT_VERSION}; upgrade custseg or refit the model"
        )
    checksum = document.pop("checksum", None)
    expected = "sha256:" + sha256_bytes(_canonical(document))
    if checksum != expected:
        raise ModelError(
            f"{source} fails its checksum: it was changed after it was written;"
            " refit the model or restore the original file"
        )
    document.pop("format")
    known = {f.name for f in fields(SegmentationModel)}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ModelError(f"{source} has unexpected fields {unknown}; refit the model")
    try:
        return SegmentationModel(**document)
    except TypeError as exc:
        raise ModelError(f"{source} is missing required fields ({exc}); refit the model") from exc


def save_model(model: SegmentationModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` as checksummed JSON, atomically.

    Parameters
    ----------
    model : SegmentationModel
        The model to save.
    path : str or path-like
        Destination, conventionally ``model.json``.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    return write_text_atomic(path, model_to_json(model))


def load_model(path: str | os.PathLike[str]) -> SegmentationModel:
    """Read and verify a model file written by :func:`save_model`.

    Nothing in the file is executed: it is parsed as JSON, its format version and
    checksum are checked, and its fields are validated.

    Raises
    ------
    ModelError
        If the file is missing, unreadable, not a model, tampered with or of a newer
        format version.
    """
    p = Path(path)
    if p.is_dir() and (p / "model.json").is_file():
        p = p / "model.json"
    try:
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(
            f"model file {p} does not exist; pass the model.json written by `custseg fit`"
        ) from exc
    except OSError as exc:
        raise ModelError(f"cannot read model file {p}: {exc.strerror}") from exc
    return model_from_json(raw, source=f"model file {p}")
