"""How the service answers an error: always ``{"detail": ...}`` as JSON.

A check of the request raises :class:`ApiError` (its own status), a domain error of
custseg is a 422 with the message's first line, FastAPI's own errors keep their status,
and anything unexpected is a 500 with a fixed message (its traceback only in the log).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..exceptions import CustsegError
from ._api_error import ApiError

__all__ = ["add_error_handlers", "json_response"]

_log = logging.getLogger("custseg.service")


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``payload`` (plain JSON data of the documented shape) as a JSON response."""
    # Serialise directly: FastAPI's encoder would walk the plain data again.
    body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def _api_error(request: Request, exc: ApiError) -> Response:
    headers = dict(exc.headers or {})
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return json_response({"detail": exc.detail}, exc.status, headers)


async def _custseg_error(request: Request, exc: CustsegError) -> Response:
    return json_response({"detail": str(exc).splitlines()[0]}, 422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    return json_response({"detail": str(exc.detail)}, exc.status_code, exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = [
        {"loc": list(e.get("loc", [])), "msg": str(e.get("msg")), "type": str(e.get("type"))}
        for e in exc.errors()
    ]
    return json_response({"detail": problems}, 422)


async def _unexpected(request: Request, exc: Exception) -> Response:
    _log.exception("unexpected error while answering %s %s", request.method, request.url.path)
    return json_response({"detail": "internal error; the server log has the details"}, 500)


def add_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as ``{"detail": ...}`` with its status."""
    # The decorator form: each handler is typed with the exception it answers.
    app.exception_handler(ApiError)(_api_error)
    app.exception_handler(CustsegError)(_custseg_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(Exception)(_unexpected)
