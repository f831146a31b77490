"""HMAC-SHA256 signatures of artifacts, with the key taken from ``CUSTSEG_MODEL_KEY``.

A checksum tells that a file changed by accident; anyone who can write the file can
also recompute it. A signature with a secret key tells that whoever wrote the file
held the key. :func:`sign` and :func:`verify` work on bytes (the canonical body of a
model); :func:`signing_key` reads the key from the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from ..exceptions import ConfigError

__all__ = ["KEY_VARIABLE", "SIGNATURE_PREFIX", "sign", "signing_key", "verify"]

KEY_VARIABLE = "CUSTSEG_MODEL_KEY"
SIGNATURE_PREFIX = "hmac-sha256:"
_MIN_KEY_LENGTH = 16


def signing_key(environ: os._Environ[str] | dict[str, str] | None = None) -> bytes | None:
    """The signing key from ``CUSTSEG_MODEL_KEY``, or ``None`` when it is not set.

    Raises
    ------
    ConfigError
        If the variable is set but empty or shorter than 16 characters (a short key
        is guessable, an empty one is almost always a mistake).
    """
    value = (os.environ if environ is None else environ).get(KEY_VARIABLE)
    if value is None:
        return None
    if len(value.strip()) < _MIN_KEY_LENGTH:
        raise ConfigError(
            f"{KEY_VARIABLE} is set but {'empty' if not value.strip() else 'too short'};"
            f" set it to a secret of at least {_MIN_KEY_LENGTH} characters, or unset it"
        )
    return value.encode("utf-8")


def sign(body: bytes, key: bytes) -> str:
    """``"hmac-sha256:<hex>"`` of ``body`` under ``key``."""
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: object, key: bytes) -> bool:
    """Whether ``signature`` is the signature of ``body`` under ``key`` (constant time)."""
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(signature.encode("utf-8"), sign(body, key).encode("utf-8"))
