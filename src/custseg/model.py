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
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ._utils.io import sha256_bytes, write_text_atomic
from ._utils.plain_json import unsafe_value
from ._utils.signing import KEY_VARIABLE, sign, signing_key, verify
from ._version import __version__
from .exceptions import ConfigError, ModelError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_MODEL_BYTES",
    "Segment",
    "SegmentationModel",
    "save_model",
    "load_model",
    "model_to_json",
    "model_from_json",
]

FORMAT_NAME = "custseg-model"
FORMAT_VERSION = 1
#: Model files larger than this are refused before they are read: a model of a few
#: hundred features and ten segments takes well under 1 MB.
MAX_MODEL_BYTES = 64 * 1024 * 1024
#: Centroid coordinates live in the prepared space, where every value is clipped to
#: +-1e6; anything far beyond is not a fitted model and would overflow distances.
_MAX_COORDINATE = 1e12
_VERSION_TEXT = re.compile(r"\d+(\.\d+)*[A-Za-z0-9.+\-]*")


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
    distance_profile : dict
        How far the training customers of each segment lie from its centroid (see
        ``custseg.cluster.typicality``): ``percentiles`` (0, 1, ..., 99, 99.5, 100),
        ``quantiles`` (one row of distances per segment, non-decreasing),
        ``outlier_percentile`` (rows beyond it score ``out_of_profile``), ``rows``
        measured and their ``basis`` (``"all rows"`` or ``"uniform sample"``).
    metrics : dict
        Evaluation of the fit (inertia, silhouette, Calinski-Harabasz, Davies-Bouldin,
        stability, sizes, ...).
    k_selection : dict
        Indices for every ``k`` tried and the recommendation with its explanation.
    profiles : dict
        Per-segment profile statistics (see ``custseg.explain.profiles``).
    playbook : dict
        The playbook that named the segments and why it was chosen
        (``custseg.explain.PlaybookChoice.to_dict()``: key, name, domain, how it was
        chosen, its match on the table's columns, the report's wording).
    drift_reference : dict
        Per-feature training histograms and summary statistics for drift checks.
    training : dict
        What the model was trained on: rows, source, data sha256, manifest sha256.
    settings : dict
        The settings of the fit (k range, seed, engine, preparation options).
    lineage : dict
        Empty, or how the segments continue those of a previous model
        (``custseg fit --previous``; see ``custseg.engines.lineage``): its checksum,
        ``matched`` (new id -> old id), ``new``, ``retired`` and ``shift``.
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
    distance_profile: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    k_selection: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)
    playbook: dict[str, Any] = field(default_factory=dict)
    drift_reference: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
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
            raise ModelError(
                "the model has no centroids; refit it (custseg.fit_segments, `custseg fit`)"
            )
        width = len(self.feature_names)
        for i, row in enumerate(self.centroids):
            if len(row) != width:
                raise ModelError(
                    f"a centroid has {len(row)} coordinates but the model has {width} features;"
                    " the file is inconsistent, refit it (custseg.fit_segments, `custseg fit`)"
                )
            for j, v in enumerate(row):
                if not _is_coordinate(v):
                    feature = str(self.feature_names[j])[:60]
                    raise ModelError(
                        f"centroids[{i}][{j}] (segment {i}, feature {feature!r}) is {str(v)[:30]},"
                        f" not a finite number within +-{_MAX_COORDINATE:g}; refit the model"
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
                f"the segment catalogue does not list segments 0..{k - 1} in order;"
                " the file is inconsistent, refit it (custseg.fit_segments, `custseg fit`)"
            )
        _check_distance_profile(self.distance_profile, k)

    def to_dict(self) -> dict[str, Any]:
        """The model as a JSON-ready dictionary (without the checksum)."""
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["segments"] = [asdict(s) for s in self.segments]
        body = _plain(body)
        return {"format": FORMAT_NAME, **body}


def _check_distance_profile(profile: Any, k: int) -> None:
    """The distance tables scoring reads: sorted, finite, one row per segment."""

    def fail(what: str) -> ModelError:
        return ModelError(
            f"distance_profile {what}; the file is inconsistent, refit it"
            " (custseg.fit_segments, `custseg fit`)"
        )

    if not isinstance(profile, dict):
        raise fail(f"should be an object, got {type(profile).__name__}")
    percentiles = profile.get("percentiles")
    if (
        not isinstance(percentiles, list)
        or len(percentiles) < 2
        or not all(_is_number(p) and math.isfinite(p) for p in percentiles)
    ):
        raise fail("has no list of percentiles")
    if (
        percentiles[0] != 0
        or percentiles[-1] != 100
        or any(b <= a for a, b in zip(percentiles, percentiles[1:], strict=False))
    ):
        raise fail("percentiles should rise strictly from 0 to 100")
    outlier = profile.get("outlier_percentile")
    if not _is_number(outlier) or outlier not in percentiles:
        raise fail(f"outlier_percentile {outlier!r} is not one of its percentiles")
    quantiles = profile.get("quantiles")
    if not isinstance(quantiles, list) or len(quantiles) != k:
        raise fail(f"should hold {k} rows of quantiles, one per segment")
    for s, row in enumerate(quantiles):
        if (
            not isinstance(row, list)
            or len(row) != len(percentiles)
            or not all(_is_number(v) and 0 <= v <= _MAX_COORDINATE for v in row)
        ):
            raise fail(
                f"row {s} should hold {len(percentiles)} finite distances within"
                f" 0..{_MAX_COORDINATE:g}"
            )
        if any(b < a for a, b in zip(row, row[1:], strict=False)):
            raise fail(f"row {s} is not sorted")
    rows = profile.get("rows")
    if type(rows) is not int or rows < 0:
        raise fail(f"rows {rows!r} should be a count")


def _is_coordinate(value: Any) -> bool:
    # Integers compare exactly (float() of one beyond float range raises); NaN fails.
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))
    return number and abs(value if isinstance(value, int) else float(value)) <= _MAX_COORDINATE


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


def model_to_json(model: SegmentationModel, *, key: bytes | None = None) -> str:
    """Serialise ``model`` to its JSON document, with the checksum of its canonical body.

    Parameters
    ----------
    model : SegmentationModel
        The model.
    key : bytes or None, default=None
        When given, the document also carries ``signature``: the HMAC-SHA256 of the
        canonical body under ``key`` (see :func:`save_model`).
    """
    body = model.to_dict()
    canonical = _canonical(body)
    document = {**body, "checksum": "sha256:" + sha256_bytes(canonical)}
    if key is not None:
        document["signature"] = sign(canonical, key)
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def model_from_json(
    text: str | bytes,
    *,
    source: str = "the model",
    key: bytes | None = None,
    require_signature: bool = False,
) -> SegmentationModel:
    """Parse and verify a model document.

    Parameters
    ----------
    text : str or bytes
        The document.
    source : str, default="the model"
        How messages name it.
    key : bytes or None, default=None
        Signing key: the document must carry a valid signature under it.
    require_signature : bool, default=False
        Refuse a document without a valid signature (needs ``key``).

    Raises
    ------
    ModelError
        If the text is not JSON (``NaN`` and ``Infinity`` literals included), nested
        too deeply, not a custseg model, of an unknown format version, holds a number
        beyond float range (``1e309``) or a NUL character, fails its checksum or
        signature, or holds a field of the wrong type or shape.
    ConfigError
        If ``require_signature`` is set without a key.
    """
    if require_signature and key is None:
        raise ConfigError(
            f"a signed model is required but no key is set; set {KEY_VARIABLE} to the key"
            " the model was saved with"
        )
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ModelError(
            f"{source} is not a custseg model file (JSON nested too deeply);"
            " pass the model.json written by save_model or `custseg fit`"
        ) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if isinstance(exc, ValueError) else "not UTF-8"
        raise ModelError(
            f"{source} is not a custseg model file (not JSON: {reason});"
            " pass the model.json written by save_model or `custseg fit`"
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ModelError(
            f"{source} is JSON but not a custseg model; pass the model.json written by"
            " save_model or `custseg fit`"
        )
    version = document.get("format_version")
    if type(version) is not int or version > FORMAT_VERSION or version < 1:
        raise ModelError(
            f"{source} has model format version {version!r} but this custseg {__version__}"
            f" reads version {FORMAT_VERSION}; upgrade custseg or refit the model"
        )
    problem = unsafe_value(document)  # before the checksum: an infinity has no canonical JSON
    if problem is not None:
        fix = " on data without NUL characters" if "NUL" in problem else " the model"
        raise ModelError(f"{source} holds {problem}; refit{fix} or restore the original file")
    checksum = document.pop("checksum", None)
    signature = document.pop("signature", None)
    canonical = _canonical(document)
    if checksum != "sha256:" + sha256_bytes(canonical):
        raise ModelError(
            f"{source} fails its checksum: it was changed after it was written;"
            " refit the model or restore the original file"
        )
    if key is not None:
        if signature is None:
            raise ModelError(
                f"{source} is not signed but {KEY_VARIABLE} is set; save it again with"
                " the key set (custseg fit) or unset the key"
            )
        if not verify(canonical, signature, key):
            raise ModelError(
                f"{source} fails its signature: it was changed after it was signed, or"
                f" signed with another key; check {KEY_VARIABLE} or restore the original file"
            )
    document.pop("format")
    known = {f.name for f in fields(SegmentationModel)}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ModelError(f"{source} has unexpected fields {unknown}; refit the model")
    missing = sorted(
        f.name
        for f in fields(SegmentationModel)
        if f.name not in document and f.default is MISSING and f.default_factory is MISSING
    )
    if missing:
        raise ModelError(f"{source} is missing required fields {missing}; refit the model")
    _check_types(document, source)
    try:
        return SegmentationModel(**document)
    except ModelError as exc:
        raise ModelError(f"{source}: {exc}") from exc


def _check_types(document: dict[str, Any], source: str) -> None:
    """Every field of a model document has its type; messages name the field."""

    def fail(field_name: str, expected: str) -> ModelError:
        return ModelError(
            f"{source} has a malformed field {field_name!r} (expected {expected});"
            " refit the model or restore the original file"
        )

    for name in _DICT_FIELDS:
        if name in document and not isinstance(document[name], dict):
            raise fail(name, "an object")
    names = document["feature_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail("feature_names", "a list of texts")
    centroids = document["centroids"]
    if not isinstance(centroids, list) or not all(
        isinstance(row, list) and all(_is_number(v) for v in row) for row in centroids
    ):
        raise fail("centroids", "a list of lists of numbers")
    segments = document["segments"]
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        raise fail("segments", "a list of objects")
    for segment in segments:
        for key, value in segment.items():
            check = _SEGMENT_FIELDS.get(key)
            if check is None or not check[0](value):
                raise fail(f"segments.{key}", check[1] if check else "a known segment field")
        if not {"id", "size", "share"} <= segment.keys():
            raise fail("segments", "objects with id, size and share")
    for name in ("custseg_version", "created_at"):
        if name in document and not isinstance(document[name], str):
            raise fail(name, "a text")


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_DICT_FIELDS = (
    "schema",
    "distance_profile",
    "preparation",
    "metrics",
    "k_selection",
    "profiles",
    "drift_reference",
    "training",
    "settings",
)
_SEGMENT_FIELDS: dict[str, tuple[Any, str]] = {
    "id": (lambda v: type(v) is int, "an integer"),
    "size": (lambda v: type(v) is int and v >= 0, "a count"),
    "share": (lambda v: _is_number(v) and 0 <= v <= 1, "a share between 0 and 1"),
    "name": (lambda v: isinstance(v, str), "a text"),
    "description": (lambda v: isinstance(v, str), "a text"),
    "strategies": (_is_texts, "a list of texts"),
    "traits": (_is_texts, "a list of texts"),
    "rule": (lambda v: isinstance(v, dict), "an object"),
    "playbook_key": (lambda v: v is None or isinstance(v, str), "a text or null"),
}


def save_model(
    model: SegmentationModel, path: str | os.PathLike[str], *, key: bytes | None = None
) -> Path:
    """Write ``model`` to ``path`` as checksummed (and maybe signed) JSON, atomically.

    Parameters
    ----------
    model : SegmentationModel
        The model to save.
    path : str or path-like
        Destination, conventionally ``model.json``.
    key : bytes or None, default=None
        Signing key; by default the value of ``CUSTSEG_MODEL_KEY`` when it is set
        (the model is then signed with HMAC-SHA256), else no signature.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    if key is None:
        key = signing_key()
    return write_text_atomic(path, model_to_json(model, key=key))


def load_model(
    path: str | os.PathLike[str],
    *,
    require_signature: bool = False,
    key: bytes | None = None,
    max_bytes: int = MAX_MODEL_BYTES,
) -> SegmentationModel:
    """Read and verify a model file written by :func:`save_model`.

    Nothing in the file is executed: its size is checked before it is read, it is
    parsed as JSON, its format version, checksum and (when a key is set) signature are
    checked, and every field is validated (types, finite centroids of the right shape,
    an ISO 8601 creation time).

    Parameters
    ----------
    path : str or path-like
        The model file, or a folder holding ``model.json``.
    require_signature : bool, default=False
        Refuse a model without a valid HMAC-SHA256 signature (``custseg serve
        --require-signature``); needs a key.
    key : bytes or None, default=None
        Signing key; by default ``CUSTSEG_MODEL_KEY`` when set. With a key, the model
        must carry a valid signature under it.
    max_bytes : int, default=64 MiB
        Larger files are refused before they are read.

    Raises
    ------
    ModelError
        If the file is missing, unreadable, too large, not a model, tampered with,
        unsigned or wrongly signed when a key is set, or of a newer format version.
    """
    if key is None:
        key = signing_key()
    p = Path(path)
    if p.is_dir() and (p / "model.json").is_file():
        p = p / "model.json"
    if p.is_dir():
        raise ModelError(f"{p} is a folder without model.json; pass the model.json file")
    try:
        with p.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise ModelError(
                    f"model file {p} is {size:,} bytes, above the limit of {max_bytes:,} bytes;"
                    " it is not a model written by `custseg fit`"
                )
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise ModelError(
            f"model file {p} does not exist; pass the model.json written by save_model or"
            " `custseg fit`"
        ) from exc
    except OSError as exc:
        raise ModelError(f"cannot read model file {p}: {exc.strerror}") from exc
    if len(raw) > max_bytes:
        raise ModelError(f"model file {p} is larger than {max_bytes:,} bytes; not a model")
    return model_from_json(
        raw, source=f"model file {p}", key=key, require_signature=require_signature
    )
