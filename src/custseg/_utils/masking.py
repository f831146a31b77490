"""Secrets out of everything custseg prints or stores: the one masking of URLs.

Manifests, models, error messages, logs and the scoring service all show a warehouse
URL through :func:`mask_url`, and pass driver messages through :func:`mask_text` with
the secrets :func:`url_secrets` found in the URL. The URL is read by SQLAlchemy's own
parser (``sqlalchemy.engine.make_url``), the one that will open the connection, so
the password masked is the password sent. ``***`` replaces:

- the password of ``scheme://user:password@host/...``. SQLAlchemy ends the user name
  at the first ``:`` (it may hold ``@``: ``ana@corp.com:secret@host``) and the
  password at the next ``@``; the mask runs further, to the last ``@`` of the URL,
  since an ``@`` after the password's is most likely an unencoded ``@`` of the password
  (SQLAlchemy would read the rest of it as the host);
- the value of every query parameter whose name looks like a secret (``password``,
  ``sslpassword``, ``pwd``, ``token``, ``secret``, ``key``, ``credentials_base64``...);
- a ``PWD=...``/``Password=...`` attribute inside a parameter value or a plain text
  (ODBC connection strings such as ``odbc_connect=...``, plain or percent-encoded,
  with ``{braced;values}``), and libpq's ``password='...'``.

Everything else is kept character for character, so the masked URL still says which
host, database and user were used. Without SQLAlchemy, or for a URL it cannot parse
(nothing can connect with it), the mask runs from the first ``:`` of the user part to
the last ``@`` of the URL: it masks more, never less.

This module imports nothing of custseg (``_utils`` is the bottom layer); SQLAlchemy is
an optional dependency imported when a URL is first masked.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

__all__ = ["MASK", "mask_text", "mask_url", "url_password", "url_secrets"]

MASK = "***"
# Query parameters and attributes whose value is a secret. "sig" is Azure's SAS signature.
_SECRET_NAME = r"[\w.\-]*(?:pass|pwd|secret|token|key|credential|auth|sig)[\w.\-]*"
_SECRET_KEY = re.compile(_SECRET_NAME, re.IGNORECASE)
# "PWD=", "Password =", "sslpassword=" inside a value or a text; the value is read by
# _attribute_end (ODBC braces, libpq quotes, or up to the next ";" or "&").
_SECRET_ATTRIBUTE = re.compile(rf"(?<![\w.\-])({_SECRET_NAME})\s*=\s*", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# Percent-decoding rounds looked through for an attribute: SQLAlchemy decodes a query
# value once; older pyodbc dialects decoded odbc_connect a second time.
_DECODING_ROUNDS = 2


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking values replaced by ``***``.

    Parameters
    ----------
    url : str
        A warehouse URL, or any text: a text without ``scheme://`` keeps everything but
        the values of secret attributes (``PWD={...}``, ``Password=...``).

    Returns
    -------
    str
        E.g. ``postgresql://ana@corp.com:***@db:5432/cards`` for
        ``postgresql://ana@corp.com:s3cr;t@db:5432/cards``.
    """
    return _mask(url)[0]


def url_secrets(url: str) -> tuple[str, ...]:
    """Every secret written in ``url``, as written and decoded, longest first.

    For :func:`mask_text`: a driver may echo a password decoded, or a host that is in
    fact the end of a password.

    Parameters
    ----------
    url : str
        A warehouse URL, or any text.

    Returns
    -------
    tuple of str
        The password (raw and percent-decoded), secret query values and secret
        attribute values (with and without their ODBC braces); empty without secrets.
    """
    return _mask(url)[1]


def url_password(url: str) -> str | None:
    """The password written in ``url`` (as written, maybe percent-encoded), if any.

    When the host SQLAlchemy would read still holds an ``@``, the password returned runs
    to that ``@`` (what :func:`mask_url` masks).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    span = _password_span(url, rest)[0]
    return rest[span[0] : span[1]] or None if span else None


def mask_text(text: str, secrets: tuple[str, ...] | list[str] = (), *, urls: bool = True) -> str:
    """``text`` with every URL in it masked and every one of ``secrets`` replaced.

    For messages that quote a URL or a driver's error (which may repeat a password).

    Parameters
    ----------
    text : str
        A message, a log line or a traceback.
    secrets : sequence of str, default ()
        Strings to replace wherever they appear, e.g. :func:`url_secrets` of the URL
        connected to.
    urls : bool, default True
        Whether to mask the URLs in ``text`` too; ``False`` for a text whose URLs are
        already masked (a URL runs to the next space: a quote or ``;`` after it would
        be masked with a secret value).

    Returns
    -------
    str
    """
    out = _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text) if urls else text
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        out = out.replace(secret, MASK)
    return out


# ---------------------------------------------------------------------------- parsing


def _mask(url: str) -> tuple[str, tuple[str, ...]]:
    """The masked text and the secrets found, for a URL or any other text."""
    scheme, sep, rest = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        # Not one URL (" postgresql://...", "see mysql://..."): the URLs inside, if any.
        inner: list[str] = []

        def one(match: re.Match[str]) -> str:
            masked, found = _mask(match.group(0))
            inner.extend(found)
            return masked

        masked, found = _mask_attributes(_URL_IN_TEXT.sub(one, url), _DECODING_ROUNDS)
        return masked, _ordered(inner + found)
    span, query_start = _password_span(url, rest)
    secrets: list[str] = []
    head = rest
    if span is not None:
        start, end = span
        raw = rest[start:end]
        secrets += [raw, unquote(raw), unquote_plus(raw)]
        secrets += [quote(unquote(raw), safe=""), quote_plus(unquote(raw))]
        head = rest[:start] + MASK + rest[end:]
        query_start = query_start - (end - start) + len(MASK) if query_start >= 0 else -1
    if query_start >= 0:
        query, found = _mask_query(head[query_start + 1 :])
        head = head[: query_start + 1] + query
        secrets += found
    return f"{scheme}://{head}", _ordered(secrets)


def _password_span(url: str, rest: str) -> tuple[tuple[int, int] | None, int]:
    """Where the password is in ``rest`` (the URL after ``://``) and where its query starts.

    Returns ``((start, end) or None, index of the "?" that opens the query or -1)``.
    """
    if "@" not in rest:
        # No user part for any reading (SQLAlchemy's needs an "@"): no parser to import
        # for duckdb:///file.duckdb or bigquery://project.
        return None, rest.find("?")
    parsed = _sqlalchemy_parse(url)
    if parsed is not None:
        located = _locate(rest, parsed)
        if located is not None:
            return located
    return _conservative_span(rest)


def _sqlalchemy_parse(url: str) -> Any:
    """SQLAlchemy's reading of ``url`` (``URL``), or ``None`` without SQLAlchemy or a reading."""
    try:
        from sqlalchemy.engine import make_url
    except ImportError:
        return None
    try:
        return make_url(url)
    except Exception:  # noqa: BLE001 - ArgumentError, ValueError (port): nothing connects
        return None


def _locate(rest: str, parsed: Any) -> tuple[tuple[int, int] | None, int] | None:
    """The spans of SQLAlchemy's reading in the text, or ``None`` if they do not match it.

    SQLAlchemy's pattern reads ``user[:password]@`` with a user name up to the first
    ":" or "/" and a password up to the next "@"; the host, port and database never
    hold a "?", so the query opens at the first "?" after the user part (after the
    last "@" when a password is masked to it).
    """
    password, username = parsed.password, parsed.username
    if password is None:
        after = 0
        if username is not None:
            # Without a password the user part ends at an "@" before any ":" or "/".
            limit = len(rest)
            for mark in ":/":
                found = rest.find(mark)
                limit = found if 0 <= found < limit else limit
            at = rest.rfind("@", 0, limit)
            if at < 0 or unquote(rest[:at]) != username:
                return None
            after = at + 1
        return None, rest.find("?", after)
    colon = rest.find(":")
    at = rest.find("@", colon + 1)
    if colon < 0 or at < 0 or unquote(rest[colon + 1 : at]) != password:
        return None
    # An "@" after SQLAlchemy's (in what it reads as host, port, database or query) is
    # most likely in the password, written unencoded: mask to the last one.
    end = rest.rfind("@")
    return (colon + 1, end), rest.find("?", end + 1)


def _conservative_span(rest: str) -> tuple[tuple[int, int] | None, int]:
    """Without SQLAlchemy's reading: from the first ":" to the last "@" of the URL."""
    if rest.startswith("/"):
        return None, rest.find("?")
    colon, at = rest.find(":"), rest.rfind("@")
    if 0 <= colon < at:
        return (colon + 1, at), rest.find("?", at + 1)
    return None, rest.find("?", at + 1)


def _mask_query(query: str) -> tuple[str, list[str]]:
    """A URL's query text with secret values masked, and the secrets found."""
    pairs: list[str] = []
    secrets: list[str] = []
    for pair in query.split("&"):
        key, equals, value = pair.partition("=")
        if _SECRET_KEY.search(unquote_plus(key)):
            if equals:
                secrets += [value, unquote_plus(value), unquote(value)]
                value = MASK
            else:
                secrets.append(key)
                key = MASK  # a bare token as a parameter
        else:
            value, found = _mask_attributes(value, _DECODING_ROUNDS)
            secrets += found
        pairs.append(key + equals + value)
    return "&".join(pairs), secrets


def _mask_attributes(raw: str, rounds: int) -> tuple[str, list[str]]:
    """``raw`` with the values of its secret attributes masked, read through percent-encoding.

    The attributes are found in the text decoded ``0..rounds`` times; each value found
    is masked where its characters are in ``raw``.
    """
    spans: list[tuple[int, int]] = []
    secrets: list[str] = []
    text, positions = raw, list(range(len(raw) + 1))
    for round_ in range(rounds + 1):
        for start, end in _attribute_spans(text):
            spans.append((positions[start], positions[end]))
            value = text[start:end]
            secrets += [value, raw[positions[start] : positions[end]]]
            if value[:1] in "{'" and len(value) > 1 and value[-1] == "}'"[value[0] == "'"]:
                # Also the value as the driver reads it, without braces or quotes.
                secrets.append(value[1:-1].replace("}}", "}").replace("\\'", "'"))
        if round_ == rounds or "%" not in text and "+" not in text:
            break
        decoded, inner = _decode(text)
        if decoded == text:
            break
        text, positions = decoded, [positions[i] for i in inner]
    return _replace(raw, spans), [unquote_plus(s) for s in secrets] + secrets


def _attribute_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of every secret attribute's value in ``text``."""
    spans = []
    for match in _SECRET_ATTRIBUTE.finditer(text):
        start = match.end()
        end = _attribute_end(text, start)
        if end > start:
            spans.append((start, end))
    return spans


def _attribute_end(text: str, start: int) -> int:
    """Where the value starting at ``start`` ends: ODBC braces, libpq quotes or ``;``/``&``."""
    if text.startswith("{", start):
        # ODBC: "}}" is a literal "}"; an unclosed brace runs to the end.
        index = start + 1
        while index < len(text):
            if text[index] == "}":
                if text.startswith("}}", index):
                    index += 2
                    continue
                return index + 1
            index += 1
        return len(text)
    if text.startswith("'", start):
        # libpq: backslash escapes a quote; an unclosed quote runs to the end.
        index = start + 1
        while index < len(text):
            if text[index] == "\\":
                index += 2
                continue
            if text[index] == "'":
                return index + 1
            index += 1
        return len(text)
    ends = [found for found in (text.find(mark, start) for mark in ";&\n") if found >= 0]
    return min(ends, default=len(text))


def _decode(text: str) -> tuple[str, list[int]]:
    """``text`` percent-decoded (``+`` as a space), and where each character came from.

    Each byte becomes one character (Latin-1): the delimiters looked for are ASCII, and
    the positions stay exact. The list has one more entry, ``len(text)``.
    """
    chars: list[str] = []
    origin: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[index + 1 : index + 3]):
            chars.append(chr(int(text[index + 1 : index + 3], 16)))
            origin.append(index)
            index += 3
            continue
        chars.append(" " if char == "+" else char)
        origin.append(index)
        index += 1
    origin.append(len(text))
    return "".join(chars), origin


def _replace(raw: str, spans: list[tuple[int, int]]) -> str:
    """``raw`` with each of ``spans`` (merged when they overlap) replaced by the mask."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [raw[last:start], MASK]
        last = end
    out.append(raw[last:])
    return "".join(out)


def _ordered(secrets: list[str]) -> tuple[str, ...]:
    """Distinct non-empty secrets, longest first (so a longer one is replaced whole)."""
    return tuple(sorted({s for s in secrets if s and s != MASK}, key=lambda s: (-len(s), s)))
