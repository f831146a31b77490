"""The model's file format: checksummed (and maybe signed) JSON, read without running code.

:func:`model_to_json` and :func:`save_model` turn a :class:`SegmentationModel` into its
document; :func:`model_from_json` and :func:`load_model` check a document (size, plain
JSON, format version, checksum, signature, the type of every field) and build the
model's typed fields once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._utils.io import sha256_bytes, write_text_atomic
from .._utils.plain_json import unsafe_value
from .._utils.signing import KEY_VARIABLE, sign, signing_key, verify
from .._version import __version__
from ..cluster.selection import KSelection
from ..exceptions import ConfigError, ModelError
from ..prepare.plan import PreparationPlan
from ..prepare.schema import TableSchema
from .records import DistanceProfile, LineageRecord, PlaybookRecord, Segment, is_number
from .segmentation import FORMAT_NAME, FORMAT_VERSION, SegmentationModel

__all__ = ["MAX_MODEL_BYTES", "load_model", "model_from_json", "model_to_json", "save_model"]

#: Model files larger than this are refused before they are read: a model of a few
#: hundred features and ten segments takes well under 1 MB.
MAX_MODEL_BYTES = 64 * 1024 * 1024


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
    unknown = sorted(set(document) - set(_FIELDS))
    if unknown:
        raise ModelError(f"{source} has unexpected fields {unknown}; refit the model")
    missing = [name for name in _FIELDS if name not in document]
    if missing:
        raise ModelError(f"{source} is missing required fields {missing}; refit the model")
    _check_types(document, source)
    try:
        return SegmentationModel(**_typed(document, source))
    except ModelError as exc:
        raise ModelError(f"{source}: {exc}") from exc


def _typed(document: dict[str, Any], source: str) -> dict[str, Any]:
    """The model's fields from a checked document: its records built once, here."""
    fields = dict(document)
    for name, build in _RECORDS.items():
        try:
            fields[name] = build(document[name])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"{source} has a malformed field {name!r} ({type(exc).__name__}: {exc});"
                " refit the model or restore the original file"
            ) from exc
    fields["segments"] = [Segment(**s) for s in document["segments"]]
    return fields


def _optional(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # A model fitted with k given, or without --previous, saves {} for the record.
    return lambda data: build(data) if data else None


#: Fields of the document read into their types (ModelError names a malformed one).
_RECORDS: dict[str, Callable[[Any], Any]] = {
    "schema": TableSchema.from_dict,
    "preparation": PreparationPlan.from_dict,
    "distance_profile": DistanceProfile.from_dict,
    "playbook": PlaybookRecord.from_dict,
    "k_selection": _optional(KSelection.from_dict),
    "lineage": _optional(LineageRecord.from_dict),
}
#: Every field of a model document (all are always written), and its JSON type.
_FIELDS: dict[str, type] = {
    "schema": dict,
    "preparation": dict,
    "feature_names": list,
    "centroids": list,
    "segments": list,
    "distance_profile": dict,
    "metrics": dict,
    "k_selection": dict,
    "profiles": dict,
    "playbook": dict,
    "drift_reference": dict,
    "training": dict,
    "settings": dict,
    "lineage": dict,
    "warnings": list,
    "custseg_version": str,
    "created_at": str,
    "format_version": int,
}


def _check_types(document: dict[str, Any], source: str) -> None:
    """Every field of a model document has its type; messages name the field."""

    def fail(field_name: str, expected: str) -> ModelError:
        return ModelError(
            f"{source} has a malformed field {field_name!r} (expected {expected});"
            " refit the model or restore the original file"
        )

    for name in _DICT_FIELDS:
        if not isinstance(document[name], dict):
            raise fail(name, "an object")
    levels = document["profiles"].get("levels")
    if not isinstance(levels, dict) or not all(
        isinstance(levels.get(part), kind) for part, kind in _LEVEL_PARTS.items()
    ):
        raise fail("profiles.levels", "level profiles: an object with columns and segments")
    rows = document["training"].get("rows")
    if type(rows) is not int or rows < 0:
        raise fail("training.rows", "a count of rows")
    reference = document["drift_reference"]
    for kind, keys in _REFERENCE_KEYS.items():
        entries = reference.get(kind)
        if not isinstance(entries, dict) or not all(
            isinstance(entry, dict) and keys <= entry.keys() for entry in entries.values()
        ):
            raise fail(f"drift_reference.{kind}", f"objects with {', '.join(sorted(keys))}")
    warnings = document["warnings"]
    if not isinstance(warnings, list) or not all(
        isinstance(w, dict) and isinstance(w.get("kind"), str) and isinstance(w.get("message"), str)
        for w in warnings
    ):
        raise fail("warnings", "a list of objects with a kind and a message")
    names = document["feature_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail("feature_names", "a list of texts")
    centroids = document["centroids"]
    if not isinstance(centroids, list) or not all(
        isinstance(row, list) and all(is_number(v) for v in row) for row in centroids
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
        if not isinstance(document[name], str):
            raise fail(name, "a text")


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# The level profiles of the categorical columns (explain/levels.py): a model without
# them was written before segments spoke in their levels, and is refitted.
_LEVEL_PARTS = {"columns": dict, "segments": list}
_DICT_FIELDS = tuple(name for name, kind in _FIELDS.items() if kind is dict)
# What drift reads of each column's training statistics (prepare/reference.py).
_REFERENCE_KEYS = {
    "numeric": {"missing_share", "bins", "proportions"},
    "categorical": {"missing_share", "levels"},
}
_SEGMENT_FIELDS: dict[str, tuple[Any, str]] = {
    "id": (lambda v: type(v) is int, "an integer"),
    "size": (lambda v: type(v) is int and v >= 0, "a count"),
    "share": (lambda v: is_number(v) and 0 <= v <= 1, "a share between 0 and 1"),
    "name": (lambda v: isinstance(v, str), "a text"),
    "description": (lambda v: isinstance(v, str), "a text"),
    "strategies": (_is_texts, "a list of texts"),
    "traits": (_is_texts, "a list of texts"),
    "rule": (lambda v: isinstance(v, dict), "an object"),
    "playbook_key": (lambda v: v is None or isinstance(v, str), "a text or null"),
    "stability": (lambda v: v is None or (is_number(v) and 0 <= v <= 1), "a number or null"),
    "stability_band": (lambda v: v is None or isinstance(v, str), "a text or null"),
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
