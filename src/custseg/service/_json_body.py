"""Decoding a request body with its records counted before they are built.

A hostile body (millions of empty records, nested arrays, one record of a million
fields) must cost neither memory nor the interpreter's time in proportion to what it
would decode into: it is refused, or skipped over, on its bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._api_error import ApiError

__all__ = ["decode_body"]

_SPACES = re.compile(r"[ \t\n\r]*")
# Bodies up to this size are parsed in one call (a few milliseconds); larger ones one
# record at a time, so that the parsing thread lets the event loop run in between.
_WHOLE_PARSE_CHARS = 1024 * 1024
_RECORDS_OBJECT = re.compile(r'\{[ \t\n\r]*"records"[ \t\n\r]*:[ \t\n\r]*\[')

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


def decode_body(body: bytes | bytearray, max_records: int) -> Any:
    """The JSON value of a request body, with a list of records refused past ``max_records``.

    Two counts at memchr speed choose the path (see the comment above); every failure is
    an :class:`ApiError` (400 for a body that is not JSON, 413 past the record limit).
    """
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
    return payload
