"""The FastAPI application: HTTP plumbing around :class:`custseg.scoring.Scorer`.

No business logic lives here: requests are authenticated, size-limited, parsed and
checked for shape, then handed to the same scorer that batch scoring uses. Every error
reaches the client as ``{"detail": ...}`` with a 4xx status; an unexpected failure is a
500 with a fixed message, its traceback only in the server log (see ``_handlers``).

:func:`create_app` builds the app by job: the shared state of the routes
(:class:`_Service`), the error handlers, then the routes per concern (health and model,
scoring and drift, the OpenAPI document and the ``/docs`` page).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from .._utils.io import sha256_bytes
from .._utils.masking import mask_url
from .._version import __version__
from ..exceptions import ConfigError
from ..model import SegmentationModel, model_to_json
from ..scoring.batch import Scorer
from ..scoring.drift import check_drift_records
from ..scoring.records import score_json
from ._docs import docs_html
from ._handlers import add_error_handlers, json_response
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
# The error answers every /v1 route documents.
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 408, 413, 422, 503)
}


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
    service = _Service.start(model, limits, api_key)
    model_info = _model_info(
        model, service.scorer, service.checksum, limits.max_records, expose_training
    )
    app = _application(service)
    add_error_handlers(app)
    _add_model_routes(app, service, model_info)
    _add_scoring_routes(app, service)
    _add_docs_routes(app, service)
    return app


@dataclass(frozen=True)
class _Service:
    """What the routes share: the scorers, the limits, the key and the request gates."""

    scorer: Scorer
    # Drift compares feature values only: its records need no identifier.
    drift_scorer: Scorer
    checksum: str
    limits: ServiceLimits
    expected_auth: bytes | None
    budget: BodyBudget
    gate: DecodeGate
    pool: ThreadPoolExecutor
    # Bodies over FREE_BODY_BYTES get their own threads, so that a small request never
    # queues behind the decoding of large ones (which the gate bounds in memory).
    large_pool: ThreadPoolExecutor

    @classmethod
    def start(
        cls, model: SegmentationModel, limits: ServiceLimits, api_key: str | None
    ) -> _Service:
        threads = limits.threads
        return cls(
            scorer=Scorer(model),
            drift_scorer=Scorer(model, require_id=False),
            checksum=sha256_bytes(model_to_json(model).encode())[:12],
            limits=limits,
            expected_auth=f"Bearer {api_key}".encode() if api_key is not None else None,
            budget=BodyBudget(limits.max_buffered_bytes),
            gate=DecodeGate(limits.max_body_bytes),
            pool=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="custseg-score"),
            large_pool=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="custseg-large"),
        )

    @property
    def required(self) -> list[str]:
        """The fields of a scoring record: the identifier (if any), then the inputs."""
        id_column = self.scorer.id_column
        return ([id_column] if id_column else []) + self.scorer.required

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.large_pool.shutdown(wait=False, cancel_futures=True)

    def authorise(self, request: Request) -> None:
        if self.expected_auth is None:
            return
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, self.expected_auth):
            raise ApiError(401, "missing or wrong API key; send Authorization: Bearer <key>")

    async def answered(
        self, request: Request, work: Callable[[bytes | bytearray], bytes]
    ) -> Response:
        """The body read within the limits, then ``work`` on it off the event loop."""
        self.authorise(request)
        limits = self.limits
        reader = read_body(self.budget, limits.max_body_bytes, limits.body_timeout)
        try:
            body = await reader.read(request)
            # Large bodies are decoded a body-size limit's worth at a time (see DecodeGate).
            held = await self.gate.enter(len(body))
            try:
                loop = asyncio.get_running_loop()
                pool = self.large_pool if held else self.pool
                content = await loop.run_in_executor(pool, work, body)
            finally:
                self.gate.leave(held)
        finally:
            reader.release()
        return Response(content, media_type="application/json")

    def score_answer(self, body: bytes | bytearray) -> bytes:
        # Runs in a scoring thread: parsing, scoring and serialising never block the loop.
        records = parse_records(
            body,
            required=self.required,
            id_column=self.scorer.id_column,
            max_records=self.limits.max_records,
        )
        results, counts = score_json(self.scorer, records)
        n_scored = sum(result["status"] == "scored" for result in results)
        head = json.dumps(
            {
                "model": self.checksum,
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

    def drift_answer(self, body: bytes | bytearray) -> bytes:
        records = parse_records(
            body,
            required=self.scorer.required,
            id_column=None,
            max_records=self.limits.max_records,
        )
        document = check_drift_records(self.drift_scorer, records)
        return json.dumps(document, allow_nan=False, separators=(",", ":")).encode()


def _application(service: _Service) -> FastAPI:
    """The bare app: its OpenAPI metadata and a lifespan that stops the scoring threads."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.stop()

    app = FastAPI(
        title="custseg scoring service",
        version=__version__,
        description=(
            "Assigns customers to the segments of one custseg model. Send a JSON list of"
            " records; each answer item is scored or rejected with its reason."
        ),
        debug=False,
        # The OpenAPI document and /docs are routes of their own (see _add_docs_routes).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.limits = service.limits
    app.state.budget = service.budget
    return app


def _add_model_routes(app: FastAPI, service: _Service, model_info: dict[str, Any]) -> None:
    """``GET /healthz`` (open to load balancers) and ``GET /v1/model``."""
    scorer = service.scorer

    @app.get("/healthz", response_model=Health, tags=["service"])
    async def healthz() -> Response:
        """Liveness: the model is loaded and the service answers."""
        k = scorer.centroids.shape[0]
        return json_response({"status": "ok", "model": service.checksum, "k": k})

    @app.get("/v1/model", response_model=ModelInfo, responses=_ERRORS, tags=["model"])
    async def model_metadata(request: Request) -> Response:
        """Model metadata and the segment catalogue (names, descriptions, strategies, sizes)."""
        service.authorise(request)
        return json_response(model_info)


def _add_scoring_routes(app: FastAPI, service: _Service) -> None:
    """``POST /v1/score`` and ``POST /v1/drift``: bodies read, parsed and answered."""
    required = service.required
    example = {c: None for c in required}

    @app.post(
        "/v1/score",
        response_model=ScoreResponse,
        responses=_ERRORS,
        tags=["scoring"],
        openapi_extra={"requestBody": score_request_schema(required, example)},
    )
    async def score(request: Request) -> Response:
        """Score a JSON list of records (or ``{"records": [...]}``), answering in order."""
        return await service.answered(request, service.score_answer)

    @app.post(
        "/v1/drift",
        response_model=DriftResponse,
        responses=_ERRORS,
        tags=["monitoring"],
        openapi_extra={"requestBody": score_request_schema(service.scorer.required, example)},
    )
    async def drift(request: Request) -> Response:
        """Compare a batch of records with the training population: the drift.json document."""
        return await service.answered(request, service.drift_answer)


def _add_docs_routes(app: FastAPI, service: _Service) -> None:
    """``GET /openapi.json`` (behind the key) and the offline ``GET /docs`` page."""

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> Response:
        service.authorise(request)
        return json_response(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs_page() -> Response:
        return Response(docs_html(), media_type="text/html; charset=utf-8")


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
