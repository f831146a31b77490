"""Secrets out of everything custseg prints or stores: the one masking of URLs.

Manifests, models, error messages, logs and the scoring service all show a warehouse
URL through :func:`mask_url`. It replaces with ``***``:

- the password of ``scheme://user:password@host/...``, also when the password holds
  unencoded ``@``, ``/``, ``?``, ``#`` or ``:`` (SQLAlchemy accepts them);
- the value of every query parameter whose name looks like a secret (``password``,
  ``pwd``, ``token``, ``secret``, ``key``, ``credentials_base64``, ``auth``...);
- a ``PWD=...`` or ``password=...`` inside a parameter value (ODBC connection
  strings, plain or percent-encoded).

Everything else is kept character for character, so the masked URL still says which
host, database and user were used. When in doubt the function masks more, never less.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "mask_url", "mask_text", "url_password"]

MASK = "***"
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|credential|auth|sig", re.IGNORECASE)
# An ODBC connection string inside a parameter: "...;PWD=secret;..." (maybe percent-encoded).
_SECRET_IN_VALUE = re.compile(r"((?:pwd|password)\s*(?:=|%3D)\s*)(?:(?!%3B)[^;&])*", re.IGNORECASE)
# A user name is plain text: no delimiter of the URL's later parts.
_PLAIN_USER = re.compile(r"[^/?#@:]*")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``.

    Parameters
    ----------
    url : str
        Any text; a text without ``://`` is returned unchanged.

    Returns
    -------
    str
        E.g. ``postgresql://ana:***@db:5432/cards`` for
        ``postgresql://ana:p?ss#w@rd@db:5432/cards``.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    userinfo, tail = _split_userinfo(rest)
    authority = ""
    if userinfo is not None:
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:{MASK}@" if colon else f"{user}@"
    path, question, query = tail.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            key, equals, value = pair.partition("=")
            if equals and _SECRET_KEY.search(key):
                value = MASK
            elif not equals and _SECRET_KEY.search(key):
                key = MASK  # a bare token as a parameter
            pairs.append(key + equals + _SECRET_IN_VALUE.sub(rf"\g<1>{MASK}", value))
        tail = path + "?" + "&".join(pairs) + hash_ + fragment
    return f"{scheme}://{authority}{tail}"


def mask_text(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` with every URL in it masked and every one of ``secrets`` replaced.

    For messages that quote a URL or a driver's error (which may repeat a password).
    """
    out = _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        out = out.replace(secret, MASK)
    return out


def url_password(url: str) -> str | None:
    """The password written in ``url`` (as written, maybe percent-encoded), if any."""
    userinfo, _ = _split_userinfo(url.partition("://")[2])
    if userinfo is None or ":" not in userinfo:
        return None
    return userinfo.partition(":")[2] or None


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """Split ``user:password@host/...`` into the user part and what follows the "@".

    The password may hold any character, "@" included, so the user part ends at the
    *last* "@" of the URL that follows ``user:`` with a plain user name; without a
    password, at the first "@" before any "/", "?" or "#".
    """
    if rest.startswith("/") or "@" not in rest:
        return None, rest
    colon = rest.find(":")
    if colon >= 0 and _PLAIN_USER.fullmatch(rest[:colon]):
        at = rest.rfind("@")
        if at > colon:
            return rest[:at], rest[at + 1 :]
    at = rest.find("@")
    if _PLAIN_USER.fullmatch(rest[:at]):
        return rest[:at], rest[at + 1 :]
    return None, rest
