"""Warehouse URLs: the scheme that picks a source, and the password-free spelling."""

from __future__ import annotations

import re

__all__ = ["mask_url", "url_password", "url_scheme"]

_MASK = "***"
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
# An ODBC connection string inside a parameter: "...;PWD=secret;..." (maybe percent-encoded).
_SECRET_IN_VALUE = re.compile(r"((?:pwd|password)\s*(?:=|%3D)\s*)(?:(?!%3B)[^;&])*", re.IGNORECASE)


def url_scheme(url: str) -> str:
    """The dialect part of ``scheme+driver://...`` in lower case, ``""`` without one."""
    scheme, sep, _ = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        return ""
    return scheme.split("+", 1)[0].lower()


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``.

    Only the secret parts change; the rest is kept character for character, so the
    masked URL still says which host, database and user were used.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    userinfo, tail = _split_userinfo(rest)
    authority = ""
    if userinfo is not None:
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:{_MASK}@" if colon else f"{user}@"
    path, question, query = tail.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            key, equals, value = pair.partition("=")
            if equals and _SECRET_KEY.search(key):
                value = _MASK
            pairs.append(key + equals + _SECRET_IN_VALUE.sub(rf"\g<1>{_MASK}", value))
        tail = path + "?" + "&".join(pairs) + hash_ + fragment
    return f"{scheme}://{authority}{tail}"


def url_password(url: str) -> str | None:
    """The password written in ``url`` (as written, maybe percent-encoded), if any."""
    userinfo, _ = _split_userinfo(url.partition("://")[2])
    if userinfo is None or ":" not in userinfo:
        return None
    return userinfo.partition(":")[2] or None


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """Split ``user:password@host/...`` into the user part and what follows the "@"."""
    before_query = re.split(r"[?#]", rest, maxsplit=1)[0]
    if "@" not in before_query or rest.startswith("/"):
        return None, rest
    # The last "@" ends the user part, even when an unencoded password holds "/" or "@".
    userinfo = before_query.rpartition("@")[0]
    return userinfo, rest[len(userinfo) + 1 :]
