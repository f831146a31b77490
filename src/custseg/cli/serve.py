"""``custseg serve``: the HTTP scoring service for one model."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import typer

from .._utils.text import count
from ..exceptions import ConfigError
from . import app
from ._common import STATE, info

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _check_port_free(host: str, port: int) -> None:
    # uvicorn reports a taken port by exiting the process; check first for a clear error.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or --host"
            ) from exc


@app.command(
    "serve",
    epilog=(
        "Example: CUSTSEG_API_KEY=secret custseg serve --model out/model.json --port 8000"
        " --workers 2\n\n"
        "Then: curl -H 'Authorization: Bearer secret' -d @customers.json"
        " http://127.0.0.1:8000/v1/score\n\n"
        "Every limit is per worker process."
    ),
)
def serve(
    model: Path = typer.Option(..., "--model", "-m", help="Model file written by `custseg fit`."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to listen on (loopback only by default)."
    ),
    port: int = typer.Option(8000, "--port", "-p", help="TCP port."),
    workers: int = typer.Option(1, "--workers", help="Server processes sharing the port."),
    threads: int = typer.Option(
        1,
        "--threads",
        help="Requests parsed and scored at once per worker, off the event loop (more cores:"
        " --workers).",
    ),
    max_records: int = typer.Option(
        10_000, "--max-records", help="Most records accepted in one request."
    ),
    max_body_bytes: int = typer.Option(
        16 * 1024 * 1024, "--max-body-bytes", help="Largest request body in bytes."
    ),
    max_buffered_bytes: int = typer.Option(
        256 * 1024 * 1024,
        "--max-buffered-bytes",
        help="Request bodies held in memory at once (503 with Retry-After beyond).",
    ),
    body_timeout: float = typer.Option(
        30.0, "--body-timeout", help="Seconds for a request body to arrive (408 beyond)."
    ),
    header_timeout: float = typer.Option(
        10.0, "--header-timeout", help="Seconds for request headers to arrive (closed beyond)."
    ),
    keep_alive: float = typer.Option(
        5.0, "--keep-alive", help="Seconds an idle keep-alive connection stays open."
    ),
    max_connections: int = typer.Option(
        1024, "--max-connections", help="Open connections and requests (503 beyond)."
    ),
    max_idle_connections: int = typer.Option(
        256, "--max-idle-connections", help="Idle connections kept; the oldest are closed beyond."
    ),
    require_signature: bool = typer.Option(
        False,
        "--require-signature",
        help="Refuse a model without a valid signature under CUSTSEG_MODEL_KEY.",
    ),
    expose_training: bool = typer.Option(
        False,
        "--expose-training",
        help="Let GET /v1/model show the training SQL text and source path.",
    ),
) -> None:
    """Serve POST /v1/score, POST /v1/drift, GET /v1/model and GET /healthz for a model.

    Set CUSTSEG_API_KEY to require `Authorization: Bearer <key>` on /v1/ requests and on
    /openapi.json.
    """
    try:
        import uvicorn  # noqa: F401

        from ..service import create_app
        from ..service.limits import ServiceLimits
        from ..service.server import ServeSettings, model_path
        from ..service.server import serve as run_service
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the service needs the 'serve' extra ({exc.name} is missing); install it with"
            " pip install 'custseg[serve]'"
        ) from exc
    from ..model import load_model

    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} should be between 1 and 65535")
    if workers < 1:
        raise ConfigError(f"--workers {workers} should be at least 1")
    api_key = os.environ.get("CUSTSEG_API_KEY")
    if api_key is not None and not api_key.strip():
        raise ConfigError("CUSTSEG_API_KEY is set but empty; set it to a secret or unset it")
    limits = ServiceLimits(
        max_records=max_records,
        max_body_bytes=max_body_bytes,
        max_buffered_bytes=max_buffered_bytes,
        body_timeout=body_timeout,
        header_timeout=header_timeout,
        keep_alive=keep_alive,
        max_connections=max_connections,
        max_idle_connections=max_idle_connections,
        threads=threads,
    )
    # The model is loaded and checked (signature too) before the port is opened.
    loaded = load_model(model, require_signature=require_signature)
    create_app(loaded, api_key=api_key, limits=limits)
    _check_port_free(host, port)
    if host not in _LOOPBACK and api_key is None:
        info(
            f"warning: listening on {host} without an API key; anyone who reaches this"
            " address can score customers (set CUSTSEG_API_KEY)"
        )
    shown = f"[{host}]" if ":" in host else host
    info(
        f"Serving {count(loaded.k, 'segment')} of {model} on http://{shown}:{port}"
        f" ({count(workers, 'worker')}; API key"
        f" {'required' if api_key else 'not required'}; Ctrl+C stops)"
    )
    settings = ServeSettings(
        model=model_path(model),
        limits=limits,
        require_signature=require_signature,
        expose_training=expose_training,
    )
    run_service(
        settings,
        host=host,
        port=port,
        workers=workers,
        log_level="warning" if STATE.quiet else "info",
    )
