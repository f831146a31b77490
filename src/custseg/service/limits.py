"""The service's limits: what one server process accepts, holds and waits for.

Every limit is per worker process; ``custseg serve`` exposes each as an option.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .._utils.checks import check_int, is_number
from .._utils.text import plain
from ..exceptions import ConfigError

__all__ = ["ServiceLimits"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class ServiceLimits:
    """Bounds on memory, time and connections of the scoring service.

    Attributes
    ----------
    max_records : int, default=10000
        Records per ``POST /v1/score`` or ``/v1/drift`` request (413 beyond), counted
        before any record is decoded.
    max_body_bytes : int, default=16 MiB
        Largest request body (413 beyond), on ``Content-Length`` and on bytes received;
        also the bytes of large bodies (over 256 KiB) decoded and scored at once.
        Decoding takes up to about 15 times the body, so a worker holds at most its
        memory at rest + ``max_buffered_bytes`` + 15 x ``max_body_bytes``.
    max_buffered_bytes : int, default=256 MiB
        Request bodies held in memory at once, all requests together; a request that
        would go beyond gets 503 with ``Retry-After`` (the first 256 KiB of every
        request are not counted, so small requests pass while large uploads wait).
    body_timeout : float, default=30
        Seconds for a whole body to arrive once the headers are in (408 beyond).
    header_timeout : float, default=10
        Seconds for a connection to send complete request headers, counted from the
        connection (or the previous answer); the connection is closed beyond.
    keep_alive : float, default=5
        Seconds an idle keep-alive connection stays open after an answer.
    max_connections : int, default=1024
        Open connections and requests; beyond, new requests get 503 at once.
    max_idle_connections : int, default=256
        Connections without a request in progress; beyond, the oldest are closed.
    threads : int, default=1
        Requests parsed and scored at once (off the event loop); others wait their turn.
        Bodies over 256 KiB have as many threads of their own, so that small requests
        never queue behind them.
        Python runs one thread at a time, so more threads add overlap, not speed, and
        delay the event loop (/healthz); use more worker processes for more cores.
    """

    max_records: int = 10_000
    max_body_bytes: int = 16 * MiB
    max_buffered_bytes: int = 256 * MiB
    body_timeout: float = 30.0
    header_timeout: float = 10.0
    keep_alive: float = 5.0
    max_connections: int = 1024
    max_idle_connections: int = 256
    threads: int = 1

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            option = "--" + item.name.replace("_", "-")
            if item.type in ("int", int):
                check_int(value, item.name, minimum=1, option=option)
            elif not (is_number(value) and 0 < value < 1e6):
                raise ConfigError(
                    f"{item.name}={plain(value)!r} ({option}) should be a number of seconds"
                    " above 0 and below 1000000, e.g. 30"
                )
        if self.max_buffered_bytes < self.max_body_bytes:
            raise ConfigError(
                f"max_buffered_bytes={self.max_buffered_bytes} (--max-buffered-bytes) should be"
                f" at least max_body_bytes={self.max_body_bytes}, or no large body could arrive"
            )

    def to_dict(self) -> dict[str, Any]:
        """The limits as plain data."""
        return asdict(self)
