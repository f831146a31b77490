"""Warehouse URLs: the scheme that picks a source; masking lives in ``_utils.masking``."""

from __future__ import annotations

import re

from .._utils.masking import mask_url, url_password, url_secrets

__all__ = ["mask_url", "url_password", "url_scheme", "url_secrets"]


def url_scheme(url: str) -> str:
    """The dialect part of ``scheme+driver://...`` in lower case, ``""`` without one."""
    scheme, sep, _ = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        return ""
    return scheme.split("+", 1)[0].lower()
