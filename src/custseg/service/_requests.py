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


# ---------------------------------------------------------------------- parsing
#
# A body is counted before it is decoded. Two C-speed counts decide the path:
#
# - at most one "[" and at most max_records + 1 "{" (the usual case): the body can hold
#   no nested array and at most that many objects, so json decodes it (whole up to
#   1 MiB; beyond, record by record, stopping at record max_records + 1);
# - otherwise (millions of tiny records, nested arrays, brackets inside strings): a
#   regex scan walks the records on the bytes without building them, refuses at
#   record max_records + 1, and nested values are skipped, never decoded (a record
#   holding one is rebuilt with an empty container in its place, which the checks
#   below report like the real value).
#
# Memory while parsing is thus the body plus the decoded records of an accepted
# request (about 2 to 3 times the body for flat records; see docs/inference.md).

_B_SPACE = rb"[ \t\n\r]*+"
_B_STRING = rb'"(?:[^"\\]++|\\.)*+"'
_B_NUMBER = rb"-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+"
_B_SCALAR = rb"(?:" + _B_STRING + rb"|" + _B_NUMBER + rb"|true|false|null)"
_B_PAIR = _B_STRING + _B_SPACE + rb":" + _B_SPACE + _B_SCALAR + _B_SPACE
#: A JSON object whose values are all scalars (strings, numbers, booleans, null).
_FLAT_RECORD = re.compile(
    rb"\{" + _B_SPACE + rb"(?:" + _B_PAIR + rb"(?:," + _B_SPACE + _B_PAIR + rb")*+)?+\}"
)
#: Up to 1,000 fields of a flat record.
_FIELDS = re.compile(_B_PAIR + rb"(?:," + _B_SPACE + _B_PAIR + rb"){0,999}+")
#: Nested values are skipped down to this depth (deeper: "nested too deeply").
_SKIP_DEPTH = 32


def _container(depth: int) -> bytes:
    # Lax on purpose: it only finds where a nested value ends (strings and brackets
    # respected); the value is refused whatever its content.
    inner = rb'(?:"(?:[^"\\]++|\\.)*+"|[^\[\]{}"]++)'
    if depth > 1:
        inner = rb"(?:" + inner + rb"|" + _container(depth - 1) + rb")"
    return rb"[\[{]" + inner + rb"*+[\]}]"


_B_SCALAR_RE = re.compile(_B_SCALAR)
_ANY_VALUE = re.compile(_B_SCALAR + rb"|" + _container(_SKIP_DEPTH))
_B_SPACES = re.compile(_B_SPACE)
_B_PAIR_HEAD = re.compile(_B_STRING + _B_SPACE + rb":" + _B_SPACE)
_B_RECORDS_OBJECT = re.compile(rb'\{[ \t\n\r]*"records"[ \t\n\r]*:[ \t\n\r]*\[')
_BOM = b"\xef\xbb\xbf"
# Bytes of JSON decoded to explain a syntax error (bounded: the body may be hostile).
_EXPLAIN_BYTES = 64 * 1024


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON; send null for a missing value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _skip(text: str, i: int) -> int:
    return _SPACES.match(text, i).end()  # type: ignore[union-attr]


def _bskip(data: bytes | bytearray, i: int) -> int:
    return _B_SPACES.match(data, i).end()  # type: ignore[union-attr]


def _too_many(max_records: int, at: int) -> ApiError:
    return ApiError(
        413,
        f"the body holds more than {max_records:,} records (counting stopped at record"
        f" {max_records + 1:,}, byte {at:,}), over the limit of {max_records:,} per request;"
        " split them into smaller requests",
    )


def _decode_list(text: str, start: int, max_records: int) -> tuple[list[Any], int]:
    """The JSON array starting at ``text[start] == "["``, decoded one element at a time
    and refused at element ``max_records + 1``."""
    items: list[Any] = []
    decode = _DECODER.raw_decode
    i = _skip(text, start + 1)
    if i < len(text) and text[i] == "]":
        return items, i + 1
    while True:
        if len(items) == max_records:
            raise _too_many(max_records, i)
        item, i = decode(text, i)
        items.append(item)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if i < len(text) and text[i] == "]":
            return items, i + 1
        raise ValueError(f"Expecting ',' delimiter: char {i}")


def _decode(text: str, max_records: int) -> tuple[Any, int]:
    """``json.loads(text)``, except that a large top-level list (or ``{"records": [...]}``)
    is decoded record by record, up to ``max_records`` records."""
    i = _skip(text, 0)
    if len(text) <= _WHOLE_PARSE_CHARS:
        payload, end = _DECODER.raw_decode(text, i)
        return payload, _skip(text, end)
    if text.startswith("[", i):
        payload, end = _decode_list(text, i, max_records)
    else:
        wrapped = _RECORDS_OBJECT.match(text, i)
        if wrapped is not None:
            records, after = _decode_list(text, wrapped.end() - 1, max_records)
            close = _skip(text, after)
            if text.startswith("}", close):
                return {"records": records}, _skip(text, close + 1)
        payload, end = _DECODER.raw_decode(text, i)
    return payload, _skip(text, end)


def _objects_are_small(body: bytes | bytearray, n_objects: int) -> bool:
    """Whether no stretch of a large body between two ``}`` exceeds 1 MiB.

    json decodes one record in one C call that holds the interpreter: a record of
    megabytes (a million distinct field names) would stall every other request for
    seconds. Such a body goes to the scan, which decodes a large record in pieces.
    """
    if len(body) <= _WHOLE_PARSE_CHARS:
        return True
    previous = 0
    for _ in range(n_objects + 2):
        close = body.find(b"}", previous + 1)
        if close < 0:
            return len(body) - previous <= _WHOLE_PARSE_CHARS
        if close - previous > _WHOLE_PARSE_CHARS:
            return False
        previous = close
    return False  # more "}" than "{": malformed, the scan says where


def _not_json(detail: str) -> ApiError:
    return ApiError(400, f"the request body is not valid JSON ({detail})")


def _explain(data: bytes | bytearray, start: int, index: int | None) -> ApiError:
    """The 400 for a value at ``data[start:]`` that the scan could not read.

    json decodes a bounded window to name the syntax error; a value that decodes
    there is nested deeper than the scan follows.
    """
    where = "" if index is None else f", in the record at index {index}"
    window = data[start : start + _EXPLAIN_BYTES].decode("utf-8", "replace")
    try:
        _DECODER.raw_decode(window)
    except RecursionError:
        pass
    except json.JSONDecodeError as exc:
        if start + _EXPLAIN_BYTES < len(data) and exc.pos >= len(window) - 1:
            return _not_json(f"a value that does not end within {_EXPLAIN_BYTES:,} bytes{where}")
        at = start + len(window[: exc.pos].encode())
        return _not_json(f"{exc.msg} at byte {at:,}{where}")
    except ValueError as exc:  # NaN and Infinity
        return _not_json(f"{str(exc).splitlines()[0]}{where}")
    return ApiError(
        400,
        f"the request body is nested too deeply{where} (more than {_SKIP_DEPTH} levels);"
        " send a flat list of records",
    )


def _scan_list(data: bytes | bytearray, start: int, max_records: int) -> tuple[list[Any], int]:
    """The records of the array at ``data[start] == "["``, counted before any is decoded.

    A flat record is answered as the ``slice`` of its bytes (decoded once the count is
    known to be within ``max_records``); a record holding nested values is answered
    hollowed (see :func:`_hollow`). Refused at record ``max_records + 1``.
    """
    items: list[Any] = []
    flat_record = _FLAT_RECORD.match
    i = _bskip(data, start + 1)
    if data.startswith(b"]", i):
        return items, i + 1
    while True:
        if len(items) == max_records:
            raise _too_many(max_records, i)
        found = flat_record(data, i)
        if found is not None:
            items.append(slice(i, found.end()))
            end = found.end()
        else:
            record, end = _hollow(data, i, len(items))
            items.append(record)
        i = _bskip(data, end)
        if data.startswith(b",", i):
            i = _bskip(data, i + 1)
            continue
        if data.startswith(b"]", i):
            return items, i + 1
        if i >= len(data):
            raise _not_json("the body ends inside the list of records")
        raise _not_json(f"expecting ',' or ']' at byte {i:,}")


def _json_value(data: bytes | bytearray) -> Any:
    return _DECODER.decode(data.decode("utf-8"))


def _skip_nested(data: bytes | bytearray, start: int, index: int) -> int:
    """The end of the nested value at ``data[start]``, found without decoding it."""
    nested = _ANY_VALUE.match(data, start)
    if nested is None:
        raise _explain(data, start, index)
    return nested.end()


def _hollow(data: bytes | bytearray, start: int, index: int) -> tuple[Any, int]:
    """The record at ``data[start]`` (not a flat object) and its end, with an empty
    container in place of each nested value: the checks report a required field
    holding one as they would the real value, and extra fields are ignored anyway."""
    if data.startswith(b"[", start):
        return [], _skip_nested(data, start, index)
    if not data.startswith(b"{", start):
        scalar = _B_SCALAR_RE.match(data, start)
        if scalar is None:
            raise _explain(data, start, index)
        return _json_value(scalar.group()), scalar.end()
    record: dict[str, Any] = {}
    i = _bskip(data, start + 1)
    while not data.startswith(b"}", i):
        head = _B_PAIR_HEAD.match(data, i)
        if head is None:
            raise _explain(data, start, index)
        key = _json_value(data[i : head.end()].rstrip(b" \t\n\r:"))
        i = head.end()
        scalar = _B_SCALAR_RE.match(data, i)
        if scalar is not None:
            record[key] = _json_value(scalar.group())
            i = scalar.end()
        else:
            record[key] = [] if data.startswith(b"[", i) else {}
            i = _skip_nested(data, i, index)
        i = _bskip(data, i)
        if data.startswith(b",", i):
            i = _bskip(data, i + 1)
        elif not data.startswith(b"}", i):
            raise _explain(data, start, index)
    return record, i + 1


def _scan(data: bytes | bytearray, start: int, max_records: int) -> Any:
    """The payload of a body that the counts sent to the scan (see the top of the section)."""
    i = _bskip(data, start)
    wrapped = _B_RECORDS_OBJECT.match(data, i)
    if not data.startswith(b"[", i) and wrapped is None:
        return _not_a_list(data, i)
    items, end = _scan_list(data, i if wrapped is None else wrapped.end() - 1, max_records)
    end = _bskip(data, end)
    if wrapped is not None:
        if not data.startswith(b"}", end):
            return _not_a_list(data, i)
        end = _bskip(data, end + 1)
    if end != len(data):
        raise _not_json(f"extra data at byte {end:,}")
    return [_decode_flat(data, item, index) for index, item in enumerate(items)]


def _decode_flat(data: bytes | bytearray, item: Any, index: int) -> Any:
    """A record of :func:`_scan_list`: a flat one is decoded, a large one 1,000 fields
    at a time (so that the interpreter goes to other threads in between)."""
    if type(item) is not slice:
        return item
    if item.stop - item.start <= _WHOLE_PARSE_CHARS:
        return _json_value(data[item])
    record: dict[str, Any] = {}
    i = _bskip(data, item.start + 1)
    while not data.startswith(b"}", i):
        # The record matched _FLAT_RECORD: every stretch of fields matches here too.
        fields = _FIELDS.match(data, i)
        assert fields is not None
        record.update(_json_value(b"{" + data[i : fields.end()] + b"}"))
        i = _bskip(data, fields.end())
        if data.startswith(b",", i):
            i = _bskip(data, i + 1)
    return record


def _not_a_list(data: bytes | bytearray, start: int) -> Any:
    """A body that is not a list: decoded when small, else only its JSON type is found."""
    if len(data) - start <= _WHOLE_PARSE_CHARS:
        text = data[start:].decode("utf-8")
        payload, end = _DECODER.raw_decode(text)
        if _skip(text, end) != len(text):
            raise _not_json(f"extra data at char {_skip(text, end):,}")
        if isinstance(payload, dict) and set(payload) == {"records"}:
            return payload["records"]
        return payload
    found = _ANY_VALUE.match(data, start)
    if found is None:
        raise _explain(data, start, None)
    if _bskip(data, found.end()) != len(data):
        raise _not_json(f"extra data at byte {_bskip(data, found.end()):,}")
    # Only the type matters for the answer: a small value of that type stands for it.
    stand_ins = {b"{": {}, b'"': "", b"t": True, b"f": False, b"n": None}
    return stand_ins.get(bytes(data[start : start + 1]), 0)


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
    try:
        # Counts at memchr speed: no nested array, few enough and small enough objects.
        n_objects = body.count(b"{")
        if (
            body.count(b"[") <= 1
            and n_objects <= max_records + 1
            and _objects_are_small(body, n_objects)
        ):
            text = body.decode("utf-8-sig")
            payload, end = _decode(text, max_records)
            if end != len(text):
                raise _not_json(f"extra data at char {end:,}")
        else:
            payload = _scan(body, 3 if body.startswith(_BOM) else 0, max_records)
    except UnicodeDecodeError:
        raise ApiError(400, "the request body is not UTF-8 text; send JSON") from None
    except RecursionError:
        raise ApiError(
            400, "the request body is nested too deeply; send a flat list of records"
        ) from None
    except ValueError as exc:
        raise _not_json(str(exc).splitlines()[0]) from None
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
