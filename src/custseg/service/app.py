"""The FastAPI application: HTTP plumbing around :class:`custseg.scoring.Scorer`.

No business logic lives here: requests are authenticated, size-limited, parsed and
checked for shape, then handed to the same scorer that batch scoring uses. Every error
reaches the client as ``{"detail": ...}`` with a 4xx status; an unexpected failure is a
500 with a fixed message, its traceback only in the server log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._utils.io import sha256_bytes
from .._utils.masking import mask_url
from .._version import __version__
from ..exceptions import ConfigError, CustsegError
from ..model import SegmentationModel, model_to_json
from ..scoring.batch import Scorer
from ..scoring.drift import check_drift_records
from ..scoring.records import score_json
from ._docs import docs_html
from ._requests import ApiError, BodyBudget, DecodeGate, parse_records, read_body
from .limits import ServiceLimits
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
# Results serialised per slice, so that a scoring thread releases the interpreter often.
_SLICE = 500

_log = logging.getLogger("custseg.service")


def _json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    # Serialise directly: the payload is already plain JSON data of the documented shape.
    body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def create_app(
    model: SegmentationModel,
    *,
    api_key: str | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    limits: ServiceLimits | None = None,
    expose_training: bool = False,
) -> FastAPI:
    """Build the scoring service for ``model``.

    Parameters
    ----------
    model : SegmentationModel
        The model to serve (see :func:`custseg.load_model`).
    api_key : str or None, default=None
        When set, ``/v1/*``, ``/openapi.json`` and the data behind ``/docs`` need
        ``Authorization: Bearer <api_key>`` (401 otherwise). ``/healthz`` stays open
        for load balancers.
    max_records : int, default=10000
        Most records per ``POST /v1/score`` or ``POST /v1/drift`` request (413 beyond);
        ignored with ``limits``.
    max_body_bytes : int, default=16 MiB
        Largest request body (413 beyond); ignored with ``limits``.
    limits : ServiceLimits or None, default=None
        Every limit of the service (records, bytes, memory, timeouts, threads).
    expose_training : bool, default=False
        Let ``GET /v1/model`` show the training query text and the full source path;
        by default it shows their sha256 and file name only.

    Returns
    -------
    fastapi.FastAPI
        The application; run it with uvicorn (``custseg serve`` does).

    Raises
    ------
    ConfigError
        If a limit is not valid or the key is empty.
    ModelError
        If the model's schema or preparation plan cannot be read.
    """
    if limits is None:
        limits = ServiceLimits(
            max_records=max_records,
            max_body_bytes=max_body_bytes,
            max_buffered_bytes=max(ServiceLimits.max_buffered_bytes, max_body_bytes),
        )
    if api_key is not None and not api_key.strip():
        raise ConfigError("the API key is empty; set CUSTSEG_API_KEY to a secret or unset it")
    scorer = Scorer(model)
    # Drift compares feature values only: its records need no identifier.
    drift_scorer = Scorer(model, require_id=False)
    checksum = sha256_bytes(model_to_json(model).encode())[:12]
    id_column = scorer.id_column
    required = ([id_column] if id_column else []) + scorer.required
    expected_auth = f"Bearer {api_key}".encode() if api_key is not None else None
    model_info = _model_info(model, scorer, checksum, limits.max_records, expose_training)
    example = {c: None for c in required}
    budget = BodyBudget(limits.max_buffered_bytes)
    gate = DecodeGate(limits.max_body_bytes)
    pool = ThreadPoolExecutor(max_workers=limits.threads, thread_name_prefix="custseg-score")
    # Bodies over FREE_BODY_BYTES get their own threads, so that a small request never
    # queues behind the decoding of large ones (which the gate bounds in memory).
    large_pool = ThreadPoolExecutor(max_workers=limits.threads, thread_name_prefix="custseg-large")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        pool.shutdown(wait=False, cancel_futures=True)
        large_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="custseg scoring service",
        version=__version__,
        description=(
            "Assigns customers to the segments of one custseg model. Send a JSON list of"
            " records; each answer item is scored or rejected with its reason."
        ),
        debug=False,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.limits = limits
    app.state.budget = budget

    def authorise(request: Request) -> None:
        if expected_auth is None:
            return
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected_auth):
            raise ApiError(401, "missing or wrong API key; send Authorization: Bearer <key>")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        headers = dict(exc.headers or {})
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
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
        code: {"model": ErrorResponse} for code in (400, 401, 408, 413, 422, 503)
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

    def answer(body: bytes | bytearray) -> bytes:
        # Runs in a scoring thread: parsing, scoring and serialising never block the loop.
        records = parse_records(
            body, required=required, id_column=id_column, max_records=limits.max_records
        )
        results, counts = score_json(scorer, records)
        n_scored = sum(result["status"] == "scored" for result in results)
        head = json.dumps(
            {
                "model": checksum,
                "n_records": len(results),
                "n_scored": n_scored,
                "n_rejected": len(results) - n_scored,
                "counts": counts,
            },
            separators=(",", ":"),
        )
        # Serialised in slices: the thread hands the interpreter back between them.
        parts = [
            json.dumps(results[i : i + _SLICE], allow_nan=False, separators=(",", ":"))[1:-1]
            for i in range(0, len(results), _SLICE)
        ]
        return (head[:-1] + ',"results":[' + ",".join(parts) + "]}").encode()

    async def answered(request: Request, work: Callable[[bytes | bytearray], bytes]) -> Response:
        """The body read within the limits, then ``work`` on it off the event loop."""
        authorise(request)
        reader = read_body(budget, limits.max_body_bytes, limits.body_timeout)
        try:
            body = await reader.read(request)
            # Large bodies are decoded a body-size limit's worth at a time (see DecodeGate).
            held = await gate.enter(len(body))
            try:
                loop = asyncio.get_running_loop()
                content = await loop.run_in_executor(large_pool if held else pool, work, body)
            finally:
                gate.leave(held)
        finally:
            reader.release()
        return Response(content, media_type="application/json")

    @app.post(
        "/v1/score",
        response_model=ScoreResponse,
        responses=errors,
        tags=["scoring"],
        openapi_extra={"requestBody": score_request_schema(required, example)},
    )
    async def score(request: Request) -> Response:
        """Score a JSON list of records (or ``{"records": [...]}``), answering in order."""
        return await answered(request, answer)

    def drift_answer(body: bytes | bytearray) -> bytes:
        records = parse_records(
            body, required=scorer.required, id_column=None, max_records=limits.max_records
        )
        document = check_drift_records(drift_scorer, records)
        return json.dumps(document, allow_nan=False, separators=(",", ":")).encode()

    @app.post(
        "/v1/drift",
        response_model=DriftResponse,
        responses=errors,
        tags=["monitoring"],
        openapi_extra={"requestBody": score_request_schema(scorer.required, example)},
    )
    async def drift(request: Request) -> Response:
        """Compare a batch of records with the training population: the drift.json document."""
        return await answered(request, drift_answer)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> Response:
        authorise(request)
        return _json_response(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs_page() -> Response:
        return Response(docs_html(), media_type="text/html; charset=utf-8")

    return app


def _training(training: dict[str, Any], expose: bool) -> dict[str, Any]:
    """What ``/v1/model`` tells of the training data: no SQL text or path unless asked."""
    shown = dict(training)
    source = shown.get("source")
    if isinstance(source, str):
        masked = mask_url(source)
        if "://" not in source and not expose:
            masked = PurePath(source).name or masked
        shown["source"] = masked
    if not expose:
        shown.pop("query", None)
        if isinstance(shown.get("query_file"), str):
            shown["query_file"] = PurePath(shown["query_file"]).name
    return shown


def _model_info(
    model: SegmentationModel, scorer: Scorer, checksum: str, max_records: int, expose: bool
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
        "training": _training(plain["training"], expose),
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
