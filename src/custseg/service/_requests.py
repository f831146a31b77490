"""Reading, parsing and checking a scoring request, with bounded memory and time.

- :class:`BodyBudget` caps the bytes of request bodies held at once by one server
  process: a request reserves its announced size (or what it has received so far)
  before reading more, and gets 503 when the budget is spent; the first 256 KiB of
  every request are free, so small requests are never refused for big ones.
- :func:`read_body` also stops a body that does not arrive within the body timeout
  (408) and one over the size limit (413).
- :func:`parse_records` counts the records before decoding them (413 past the
  limit, without building them), skips nested values instead of decoding them, and
  decodes large bodies one record (a huge record 1,000 fields) at a time, so a
  parsing thread hands the interpreter back every few milliseconds (``/healthz``
  stays fast while 10,000-record requests are parsed); then it checks every record.
- :class:`DecodeGate` lets large bodies be decoded and scored only a body limit's
  worth at a time: memory per request is the body plus at most ~15 times the body.

Every failure is an :class:`ApiError` with a 4xx (or 503) status and a message.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import operator
import threading
from typing import Any

from starlette.requests import ClientDisconnect, Request

from .._utils.text import count
from ._api_error import ApiError
from ._json_body import decode_body

__all__ = [
    "ApiError",
    "BodyBudget",
    "DecodeGate",
    "FREE_BODY_BYTES",
    "parse_records",
    "read_body",
]

#: Bytes of every request body read without drawing on the budget (a 100-record
#: request is about 40 KB).
FREE_BODY_BYTES = 256 * 1024
_MAX_ERRORS = 20
# Exact Python types of the JSON values a field may hold.
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


class BodyBudget:
    """Bytes of request bodies held at once, across the requests of one process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bool:
        """Reserve ``n`` bytes; ``False`` (nothing reserved) when they do not fit."""
        with self._lock:
            if self.used + n > self.limit:
                return False
            self.used += n
            return True

    def give_back(self, n: int) -> None:
        """Release ``n`` reserved bytes."""
        with self._lock:
            self.used -= n


def _busy() -> ApiError:
    return ApiError(
        503,
        "the server is receiving too much data at once; retry in a few seconds",
        {"Retry-After": "2", "Connection": "close"},
    )


class BodyReader:
    """Reads one request body within the limits; :meth:`release` frees its reservation."""

    def __init__(self, budget: BodyBudget, limit: int, timeout: float) -> None:
        self.budget = budget
        self.limit = limit
        self.timeout = timeout
        self.reserved = 0

    def _reserve_up_to(self, size: int) -> None:
        wanted = max(0, size - FREE_BODY_BYTES) - self.reserved
        if wanted > 0:
            if not self.budget.take(wanted):
                raise _busy()
            self.reserved += wanted

    def release(self) -> None:
        """Give the reserved bytes back to the budget (after the answer is built)."""
        if self.reserved:
            self.budget.give_back(self.reserved)
            self.reserved = 0

    async def read(self, request: Request) -> bytearray:
        """The body, refusing more than ``limit`` bytes whether announced or streamed.

        The buffer the body arrived in is returned as is: no copy of up to ``limit``
        bytes is made on the way to the parser.
        """
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise ApiError(400, f"Content-Length {declared[:40]!r} is not a number") from None
            if size > self.limit:
                raise ApiError(
                    413,
                    f"the body of {size} bytes exceeds the limit of {self.limit} bytes;"
                    " send fewer records per request",
                    {"Connection": "close"},
                )
            self._reserve_up_to(size)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._receive(request)
        except TimeoutError:
            raise ApiError(
                408,
                f"the body did not arrive within {self.timeout:g} s; send it at once",
                {"Connection": "close"},
            ) from None
        except ClientDisconnect:
            raise ApiError(400, "the client closed the connection before the body ended") from None

    async def _receive(self, request: Request) -> bytearray:
        body = bytearray()
        async for part in request.stream():
            if len(body) + len(part) > self.limit:
                raise ApiError(
                    413,
                    f"the body exceeds the limit of {self.limit} bytes; send fewer records"
                    " per request",
                    {"Connection": "close"},
                )
            self._reserve_up_to(len(body) + len(part))
            body += part
        return body


def read_body(budget: BodyBudget, limit: int, timeout: float) -> BodyReader:
    """A reader for one request body (see :class:`BodyReader`)."""
    return BodyReader(budget, limit, timeout)


class DecodeGate:
    """Bytes of bodies decoded and scored at once, across the threads of one process.

    Decoding a body builds Python objects worth a few times its size; with
    ``--threads 8`` eight large bodies could be decoded together. A body larger than
    :data:`FREE_BODY_BYTES` waits (on the event loop, holding no thread) until the
    bodies in work plus itself fit in ``limit`` (the body size limit: one largest body
    at a time, or several smaller ones); smaller bodies never wait, and run in threads
    of their own (see ``create_app``).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    async def enter(self, size: int) -> int:
        """Wait for room for ``size`` bytes; the bytes to give back to :meth:`leave`."""
        if size <= FREE_BODY_BYTES:
            return 0
        while self.used and self.used + size > self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)
        self.used += size
        return size

    def leave(self, size: int) -> None:
        """Give back what :meth:`enter` took, and let the waiting bodies try again."""
        if not size:
            return
        self.used -= size
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)


def parse_records(
    body: bytes | bytearray,
    *,
    required: list[str],
    id_column: str | None,
    max_records: int,
) -> list[dict[str, Any]]:
    """The records of a request body, or an :class:`ApiError` saying what is wrong.

    The records are counted before they are decoded: a body with more than
    ``max_records`` is refused (413) without building them. JSON booleans count as
    1 and 0, as boolean columns of files do.
    """
    if not body or body.isspace():
        raise ApiError(400, "the request body is empty; send a JSON list of records")
    payload = decode_body(body, max_records)
    if isinstance(payload, dict) and set(payload) == {"records"}:
        payload = payload["records"]
    if not isinstance(payload, list):
        raise ApiError(
            422,
            f'the body should be a JSON list of records or {{"records": [...]}}, got a'
            f" JSON {_json_type(payload)}",
        )
    if not payload:
        raise ApiError(422, "the list of records is empty; send at least one record")
    if len(payload) > max_records:
        raise ApiError(
            413,
            f"the body holds {count(len(payload), 'record')}, over the limit of"
            f" {max_records:,} per request; split them into smaller requests",
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
        if types <= _SCALAR_TYPES and _fine(payload, id_column, required, types):
            return payload
    raise ApiError(422, _record_errors(payload, required, id_column))


def _fine(
    payload: list[dict[str, Any]], id_column: str | None, required: list[str], types: set[type]
) -> bool:
    """No identifier is a number beyond the float range; booleans become 1 and 0."""
    if float in types and id_column is not None:
        ids = list(map(operator.itemgetter(id_column), payload))
        if float in set(map(type, ids)) and not all(
            math.isfinite(i) for i in ids if type(i) is float
        ):
            return False
    if bool in types:
        features = [name for name in required if name != id_column]
        for record in payload:
            for name in features:
                if type(record[name]) is bool:
                    record[name] = int(record[name])
    return True


def _record_errors(
    payload: list[Any], required: list[str], id_column: str | None
) -> list[dict[str, Any]]:
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
                elif (
                    field == id_column
                    and type(record[field]) is float
                    and not math.isfinite(record[field])
                ):
                    errors.append(
                        _error(
                            index,
                            field,
                            f"{field} is a number beyond the float range; send the"
                            " identifier as a string",
                            "value_error.id",
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
