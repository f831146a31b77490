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
        "Example: CUSTSEG_API_KEY=secret custseg serve --model out/model.json --port 8000\n\n"
        "Then: curl -H 'Authorization: Bearer secret' -d @customers.json"
        " http://127.0.0.1:8000/v1/score"
    ),
)
def serve(
    model: Path = typer.Option(..., "--model", "-m", help="Model file written by `custseg fit`."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to listen on (loopback only by default)."
    ),
    port: int = typer.Option(8000, "--port", "-p", help="TCP port."),
    max_records: int = typer.Option(
        10_000, "--max-records", help="Most records accepted in one request."
    ),
    max_body_bytes: int = typer.Option(
        16 * 1024 * 1024, "--max-body-bytes", help="Largest request body in bytes."
    ),
) -> None:
    """Serve POST /v1/score, POST /v1/drift, GET /v1/model and GET /healthz for a model.

    Set CUSTSEG_API_KEY to require `Authorization: Bearer <key>` on /v1/ requests.
    """
    try:
        import uvicorn

        from ..service import create_app
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the service needs the 'serve' extra ({exc.name} is missing); install it with"
            " pip install 'custseg[serve]'"
        ) from exc
    from ..model import load_model

    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} should be between 1 and 65535")
    api_key = os.environ.get("CUSTSEG_API_KEY")
    if api_key is not None and not api_key.strip():
        raise ConfigError("CUSTSEG_API_KEY is set but empty; set it to a secret or unset it")
    loaded = load_model(model)
    application = create_app(
        loaded, api_key=api_key, max_records=max_records, max_body_bytes=max_body_bytes
    )
    _check_port_free(host, port)
    if host not in _LOOPBACK and api_key is None:
        info(
            f"warning: listening on {host} without an API key; anyone who reaches this"
            " address can score customers (set CUSTSEG_API_KEY)"
        )
    shown = f"[{host}]" if ":" in host else host
    info(
        f"Serving {count(loaded.k, 'segment')} of {model} on http://{shown}:{port}"
        f" (API key {'required' if api_key else 'not required'}; Ctrl+C stops)"
    )
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning" if STATE.quiet else "info",
        access_log=False,
        server_header=False,
    )
