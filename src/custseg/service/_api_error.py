"""The error answer every request check raises (its own module: the body decoder and the
request checks both raise it)."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError"]


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
