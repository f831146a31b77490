"""Running the service: uvicorn with connection limits, timeouts and worker processes.

uvicorn closes idle keep-alive connections, but not a connection that never sends a
complete request, and it never limits idle connections: thousands of silent sockets
would hold file descriptors until a normal request has to wait. :class:`GuardedProtocol`
(uvicorn's h11 protocol with two additions) closes a connection whose request headers
do not arrive within ``header_timeout`` and, when more than ``max_idle_connections``
connections have no request in progress, closes the oldest of them.

With ``workers > 1`` uvicorn starts that many processes sharing the port; each
loads the model itself through :func:`app_from_environment`, from the settings
:func:`serve` puts in the environment (never the API key, which each process reads
from ``CUSTSEG_API_KEY`` like the first one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .._utils.checks import check_int
from ..exceptions import ConfigError
from .limits import ServiceLimits

__all__ = ["GuardedProtocol", "ServeSettings", "app_from_environment", "serve"]

_SETTINGS_VARIABLE = "CUSTSEG_SERVE_SETTINGS"
# A parsing thread hands the interpreter to the event loop after at most this long
# (Python's default is 5 ms): /healthz answers within milliseconds under load.
_SWITCH_INTERVAL = 0.001


@dataclass(frozen=True)
class ServeSettings:
    """Everything a worker process needs to build the app (no secret in here)."""

    model: str
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    require_signature: bool = False
    expose_training: bool = False

    def to_json(self) -> str:
        """The settings as JSON, for the worker processes' environment."""
        return json.dumps(
            {
                "model": self.model,
                "limits": self.limits.to_dict(),
                "require_signature": self.require_signature,
                "expose_training": self.expose_training,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        """Read :meth:`to_json`'s output."""
        data = json.loads(text)
        return cls(
            model=data["model"],
            limits=ServiceLimits(**data["limits"]),
            require_signature=bool(data["require_signature"]),
            expose_training=bool(data["expose_training"]),
        )


_limits = ServiceLimits()
_idle: OrderedDict[GuardedProtocol, None] = OrderedDict()


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout and a cap on idle connections."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        # asyncio sets TCP_NODELAY only on sockets it created itself; the listening
        # socket uvicorn hands to worker processes is not one: without this, Nagle's
        # algorithm and delayed ACKs add 40 ms to every keep-alive answer.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._become_idle()
        while len(_idle) > _limits.max_idle_connections:
            oldest, _ = _idle.popitem(last=False)
            oldest._close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete and self in _idle:
            # A request's headers are complete: the connection is busy, not idle.
            del _idle[self]
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._become_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        _idle.pop(self, None)
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _become_idle(self) -> None:
        _idle[self] = None
        _idle.move_to_end(self)
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(_limits.header_timeout, self._header_late)

    def _header_late(self) -> None:
        self._header_timer = None
        if self in _idle:
            self._close()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _close(self) -> None:
        _idle.pop(self, None)
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.close()


def _build_app(settings: ServeSettings) -> Any:
    from ..model import load_model
    from .app import create_app

    global _limits
    _limits = settings.limits
    sys.setswitchinterval(_SWITCH_INTERVAL)
    model = load_model(settings.model, require_signature=settings.require_signature)
    return create_app(
        model,
        api_key=os.environ.get("CUSTSEG_API_KEY"),
        limits=settings.limits,
        expose_training=settings.expose_training,
    )


def app_from_environment() -> Any:
    """The app of a worker process, from the settings :func:`serve` left in the environment."""
    text = os.environ.get(_SETTINGS_VARIABLE)
    if text is None:
        raise ConfigError(f"{_SETTINGS_VARIABLE} is not set; start the service with custseg serve")
    return _build_app(ServeSettings.from_json(text))


def serve(
    settings: ServeSettings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
) -> None:
    """Run the service until interrupted (Ctrl+C or SIGTERM).

    Parameters
    ----------
    settings : ServeSettings
        Model path and limits.
    host, port : str, int
        Where to listen.
    workers : int, default=1
        Server processes sharing the port (each with its own limits, threads and copy
        of the model).
    log_level : str, default="info"
        uvicorn's log level.
    """
    import uvicorn

    check_int(workers, "workers", minimum=1, option="--workers")
    limits = settings.limits
    _raise_open_files_limit(2 * limits.max_connections + 256)
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "server_header": False,
        "http": GuardedProtocol,
        "loop": "asyncio",
        "lifespan": "on",
        "limit_concurrency": limits.max_connections,
        "timeout_keep_alive": limits.keep_alive,
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        uvicorn.run(_build_app(settings), **common)
        return
    os.environ[_SETTINGS_VARIABLE] = settings.to_json()
    uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=workers, **common)


def _raise_open_files_limit(wanted: int) -> None:
    """Let the process hold every connection it accepts (the soft limit is often 1024)."""
    try:
        import resource
    except ImportError:  # not POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def model_path(path: str | os.PathLike[str]) -> str:
    """An absolute model path, valid in worker processes whatever their folder."""
    return str(Path(path).resolve())
