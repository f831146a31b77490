"""The FastAPI application: HTTP plumbing around :class:`custseg.scoring.Scorer`.

No business logic lives here: requests are authenticated, size-limited, parsed and
checked for shape, then handed to the same scorer that batch scoring uses. Every error
reaches the client as ``{"detail": ...}`` with a 4xx status; an unexpected failure is a
500 with a fixed message, its traceback only in the server log.
"""

from __future__ import annotations

import hmac
import json
import logging
import operator
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._utils.io import sha256_bytes
from .._utils.text import count, plain
from .._version import __version__
from ..exceptions import ConfigError, CustsegError
from ..model import SegmentationModel, model_to_json
from ..scoring.batch import Scorer
from ..scoring.drift import check_drift_records
from .schemas import (
    DriftResponse,
    ErrorResponse,
    Health,
    ModelInfo,
    ScoreResponse,
    score_request_schema,
)

__all__ = ["create_app", "DEFAULT_MAX_RECORDS", "DEFAULT_MAX_BODY_BYTES"]

DEFAULT_MAX_RECORDS = 10_000
#: 10,000 credit-card records of 18 fields take about 4 MB of JSON; 16 MiB leaves room
#: for long identifiers and extra fields without letting a client exhaust memory.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
# Invalid records are reported one by one, up to this many per answer.
_MAX_ERRORS = 20

# Exact Python types of the JSON values a field may hold (bool, list and dict may not).
_SCALAR_TYPES = frozenset({str, int, float, type(None)})

_log = logging.getLogger("custseg.service")


class _ApiError(Exception):
    """An error answer: status code and ``detail`` (a message or a list of problems)."""

    def __init__(self, status: int, detail: str | list[dict[str, Any]]) -> None:
        super().__init__(detail if isinstance(detail, str) else "invalid records")
        self.status = status
        self.detail = detail


def _json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    # Serialise directly: the payload is already plain JSON data of the documented shape.
    body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON; send null for a missing value")


def _parse_records(body: bytes, *, required: list[str], max_records: int) -> list[dict]:
    """The records of a request body, or an :class:`_ApiError` saying what is wrong."""
    if not body.strip():
        raise _ApiError(400, "the request body is empty; send a JSON list of records")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _ApiError(400, "the request body is not UTF-8 text; send JSON") from None
    try:
        payload = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _ApiError(
            400, "the request body is nested too deeply; send a flat list of records"
        ) from None
    except ValueError as exc:
        message = str(exc).splitlines()[0]
        raise _ApiError(400, f"the request body is not valid JSON ({message})") from None
    if isinstance(payload, dict) and set(payload) == {"records"}:
        payload = payload["records"]
    if not isinstance(payload, list):
        raise _ApiError(
            422,
            f'the body should be a JSON list of records or {{"records": [...]}}, got a'
            f" JSON {_json_type(payload)}",
        )
    if not payload:
        raise _ApiError(422, "the list of records is empty; send at least one record")
    if len(payload) > max_records:
        raise _ApiError(
            413,
            f"{count(len(payload), 'record')} exceed the limit of {max_records:,} per request;"
            " split them into smaller requests",
        )
    # The common case, all records well formed, is checked with C-level loops only.
    wanted = frozenset(required)
    fields = operator.itemgetter(*required)
    types: set[type] = set()
    for record in payload:
        if type(record) is not dict or not wanted <= record.keys():
            break
        values = fields(record)
        types.update(map(type, values) if len(required) > 1 else (type(values),))
    else:
        if types <= _SCALAR_TYPES:
            return payload
    raise _ApiError(422, _record_errors(payload, required))


def _record_errors(payload: list[Any], required: list[str]) -> list[dict[str, Any]]:
    """Every problem of the records (up to a limit), with its location."""
    errors: list[dict[str, Any]] = []
    for index, record in enumerate(payload):
        if not isinstance(record, dict):
            errors.append(
                _error(
                    index,
                    None,
                    f"a record should be a JSON object, got a JSON {_json_type(record)}",
                    "type_error.object",
                )
            )
        else:
            for field in required:
                if field not in record:
                    errors.append(
                        _error(
                            index,
                            field,
                            f"field {field!r} is missing; send null for an unknown value",
                            "missing",
                        )
                    )
                elif type(record[field]) not in _SCALAR_TYPES:
                    errors.append(
                        _error(
                            index,
                            field,
                            f"{field} should be a number, a string or null, got a JSON"
                            f" {_json_type(record[field])}",
                            "type_error.scalar",
                        )
                    )
        if len(errors) >= _MAX_ERRORS:
            break
    return errors[:_MAX_ERRORS]


def _error(index: int, field: str | None, msg: str, kind: str) -> dict[str, Any]:
    loc: list[str | int] = ["body", index] if field is None else ["body", index, field]
    return {"loc": loc, "msg": msg, "type": kind}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than ``limit`` bytes whether announced or streamed."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise _ApiError(400, f"Content-Length {declared!r} is not a number") from None
        if size > limit:
            raise _ApiError(
                413,
                f"the body of {size} bytes exceeds the limit of {limit} bytes;"
                " send fewer records per request",
            )
    parts: list[bytes] = []
    received = 0
    async for part in request.stream():
        received += len(part)
        if received > limit:
            raise _ApiError(
                413,
                f"the body exceeds the limit of {limit} bytes; send fewer records per request",
            )
        parts.append(part)
    return b"".join(parts)


def create_app(
    model: SegmentationModel,
    *,
    api_key: str | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """Build the scoring service for ``model``.

    Parameters
    ----------
    model : SegmentationModel
        The model to serve (see :func:`custseg.load_model`).
    api_key : str or None, default=None
        When set, ``/v1/*`` requests must send ``Authorization: Bearer <api_key>``
        (401 otherwise). ``/healthz`` stays open for load balancers.
    max_records : int, default=10000
        Most records per ``POST /v1/score`` or ``POST /v1/drift`` request (413 beyond).
    max_body_bytes : int, default=16 MiB
        Largest request body, checked on ``Content-Length`` and on the bytes actually
        received (413 beyond).

    Returns
    -------
    fastapi.FastAPI
        The application; run it with uvicorn (``custseg serve`` does).

    Raises
    ------
    ConfigError
        If a limit is not a positive integer or the key is empty.
    ModelError
        If the model's schema or preparation plan cannot be read.
    """
    for name, value in (("max_records", max_records), ("max_body_bytes", max_body_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name}={plain(value)!r} should be a positive integer")
    if api_key is not None and not api_key.strip():
        raise ConfigError("the API key is empty; set CUSTSEG_API_KEY to a secret or unset it")
    scorer = Scorer(model)
    # Drift compares feature values only: its records need no identifier.
    drift_scorer = Scorer(model, require_id=False)
    checksum = sha256_bytes(model_to_json(model).encode())[:12]
    required = ([scorer.id_column] if scorer.id_column else []) + scorer.required
    expected_auth = f"Bearer {api_key}".encode() if api_key is not None else None
    model_info = _model_info(model, scorer, checksum, max_records)
    example = {c: None for c in required}

    app = FastAPI(
        title="custseg scoring service",
        version=__version__,
        description=(
            "Assigns credit-card customers to the segments of one custseg model. Send a JSON"
            " list of records; each answer item is scored or rejected with its reason."
        ),
        debug=False,
    )

    def authorise(request: Request) -> None:
        if expected_auth is None:
            return
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected_auth):
            raise _ApiError(401, "missing or wrong API key; send Authorization: Bearer <key>")

    @app.exception_handler(_ApiError)
    async def _api_error(request: Request, exc: _ApiError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _json_response({"detail": exc.detail}, exc.status, headers)

    @app.exception_handler(CustsegError)
    async def _custseg_error(request: Request, exc: CustsegError) -> Response:
        return _json_response({"detail": str(exc).splitlines()[0]}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _json_response({"detail": str(exc.detail)}, exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"loc": list(e.get("loc", [])), "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in exc.errors()
        ]
        return _json_response({"detail": problems}, 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        _log.exception("unexpected error while answering %s %s", request.method, request.url.path)
        return _json_response({"detail": "internal error; the server log has the details"}, 500)

    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorResponse} for code in (400, 401, 413, 422)
    }

    @app.get("/healthz", response_model=Health, tags=["service"])
    async def healthz() -> Response:
        """Liveness: the model is loaded and the service answers."""
        return _json_response({"status": "ok", "model": checksum, "k": scorer.centroids.shape[0]})

    @app.get("/v1/model", response_model=ModelInfo, responses=errors, tags=["model"])
    async def model_metadata(request: Request) -> Response:
        """Model metadata and the segment catalogue (names, descriptions, strategies, sizes)."""
        authorise(request)
        return _json_response(model_info)

    @app.post(
        "/v1/score",
        response_model=ScoreResponse,
        responses=errors,
        tags=["scoring"],
        openapi_extra={"requestBody": score_request_schema(required, example)},
    )
    async def score(request: Request) -> Response:
        """Score a JSON list of records (or ``{"records": [...]}``), answering in order."""
        authorise(request)
        body = await _read_body(request, max_body_bytes)
        records = _parse_records(body, required=required, max_records=max_records)
        results = scorer.score_records(records)
        n_scored = sum(result["status"] == "scored" for result in results)
        return _json_response(
            {
                "model": checksum,
                "n_records": len(results),
                "n_scored": n_scored,
                "n_rejected": len(results) - n_scored,
                "results": results,
            }
        )

    @app.post(
        "/v1/drift",
        response_model=DriftResponse,
        responses=errors,
        tags=["monitoring"],
        openapi_extra={"requestBody": score_request_schema(scorer.required, example)},
    )
    async def drift(request: Request) -> Response:
        """Compare a batch of records with the training population: the drift.json document."""
        authorise(request)
        body = await _read_body(request, max_body_bytes)
        records = _parse_records(body, required=scorer.required, max_records=max_records)
        return _json_response(check_drift_records(drift_scorer, records))

    return app


def _model_info(
    model: SegmentationModel, scorer: Scorer, checksum: str, max_records: int
) -> dict[str, Any]:
    # to_dict() turns numpy values and non-finite floats into plain JSON values.
    plain = model.to_dict()
    return {
        "model": checksum,
        "custseg_version": model.custseg_version,
        "format_version": model.format_version,
        "created_at": model.created_at,
        "k": model.k,
        "id_column": scorer.id_column,
        "input_columns": scorer.required,
        "feature_names": list(model.feature_names),
        "training": plain["training"],
        "metrics": plain["metrics"],
        "max_records": max_records,
        "lineage": plain["lineage"],
        "segments": [
            {
                key: segment[key]
                for key in ("id", "name", "description", "strategies", "traits", "size", "share")
            }
            for segment in plain["segments"]
        ],
    }
