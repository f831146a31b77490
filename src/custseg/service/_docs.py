"""The ``/docs`` page: one self-contained HTML file from the package, no CDN.

FastAPI's default page loads Swagger UI from a CDN, which fails without network
access. This page carries its own script: it reads ``openapi.json`` (asking for the
API key when the service needs one) and lists every endpoint with its schemas.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["docs_html"]


@cache
def docs_html() -> bytes:
    """The page's bytes (read from ``custseg/service/static/docs.html`` once)."""
    return (resources.files("custseg.service") / "static" / "docs.html").read_bytes()
