"""Reading, parsing and checking a scoring request, with bounded memory and time.

- :class:`BodyBudget` caps the bytes of request bodies held at once by one server
  process: a request reserves its announced size (or what it has received so far)
  before reading more, and gets 503 when the budget is spent; the first 256 KiB of
  every request are free, so small requests are never refused for big ones.
- :func:`read_body` also stops a body that does not arrive within the body timeout
  (408) and one over the size limit (413).
- :func:`parse_records` parses the JSON one record at a time, so a parsing thread
  hands the interpreter back to the event loop every few milliseconds (``/healthz``
  stays fast while 10,000-record requests are parsed), and checks every record.

Every failure is an :class:`ApiError` with a 4xx (or 503) status and a message.
"""

from __future__ import annotations

import asyncio
import json
import math
import operator
import re
import threading
from typing import Any

from starlette.requests import ClientDisconnect, Request

from .._utils.text import count

__all__ = [
    "ApiError",
    "BodyBudget",
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
_SPACES = re.compile(r"[ \t\n\r]*")
# Bodies up to this size are parsed in one call (a few milliseconds); larger ones one
# record at a time, so that the parsing thread lets the event loop run in between.
_WHOLE_PARSE_CHARS = 1024 * 1024
_RECORDS_OBJECT = re.compile(r'\{[ \t\n\r]*"records"[ \t\n\r]*:[ \t\n\r]*\[')


class ApiError(Exception):
    """An error answer: status code and ``detail`` (a message or a list of problems)."""

    def __init__(
        self,
        status: int,
        detail: str | list[dict[str, Any]],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail if isinstance(detail, str) else "invalid records")
        self.status = status
        self.detail = detail
        self.headers = headers


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

    async def read(self, request: Request) -> bytes:
        """The body, refusing more than ``limit`` bytes whether announced or streamed."""
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

    async def _receive(self, request: Request) -> bytes:
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
        return bytes(body)


def read_body(budget: BodyBudget, limit: int, timeout: float) -> BodyReader:
    """A reader for one request body (see :class:`BodyReader`)."""
    return BodyReader(budget, limit, timeout)


# ---------------------------------------------------------------------- parsing


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON; send null for a missing value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _skip(text: str, i: int) -> int:
    return _SPACES.match(text, i).end()  # type: ignore[union-attr]


def _decode_list(text: str, start: int) -> tuple[list[Any], int]:
    """The JSON array starting at ``text[start] == "["``, decoded one element at a time."""
    items: list[Any] = []
    decode = _DECODER.raw_decode
    i = _skip(text, start + 1)
    if i < len(text) and text[i] == "]":
        return items, i + 1
    while True:
        item, i = decode(text, i)
        items.append(item)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if i < len(text) and text[i] == "]":
            return items, i + 1
        raise ValueError(f"Expecting ',' delimiter: char {i}")


def _decode(text: str) -> Any:
    """``json.loads(text)``, except that a top-level list (or ``{"records": [...]}``)
    is decoded record by record."""
    i = _skip(text, 0)
    if len(text) <= _WHOLE_PARSE_CHARS:
        payload, end = _DECODER.raw_decode(text, i)
        return payload, _skip(text, end)
    if text.startswith("[", i):
        payload, end = _decode_list(text, i)
    else:
        wrapped = _RECORDS_OBJECT.match(text, i)
        if wrapped is not None:
            records, after = _decode_list(text, wrapped.end() - 1)
            close = _skip(text, after)
            if text.startswith("}", close):
                return {"records": records}, _skip(text, close + 1)
        payload, end = _DECODER.raw_decode(text, i)
    return payload, _skip(text, end)


def parse_records(
    body: bytes, *, required: list[str], id_column: str | None, max_records: int
) -> list[dict[str, Any]]:
    """The records of a request body, or an :class:`ApiError` saying what is wrong.

    JSON booleans count as 1 and 0, as boolean columns of files do.
    """
    if not body.strip():
        raise ApiError(400, "the request body is empty; send a JSON list of records")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "the request body is not UTF-8 text; send JSON") from None
    try:
        payload, end = _decode(text)
    except RecursionError:
        raise ApiError(
            400, "the request body is nested too deeply; send a flat list of records"
        ) from None
    except ValueError as exc:
        message = str(exc).splitlines()[0]
        raise ApiError(400, f"the request body is not valid JSON ({message})") from None
    if end != len(text):
        raise ApiError(400, f"the request body is not valid JSON (extra data at char {end})")
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
