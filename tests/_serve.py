"""Run the real ``custseg serve`` process on a free loopback port for a test module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(model_file: Path, *options: str, api_key: str | None = None) -> Iterator[str]:
    """Run `custseg serve` until the generator is closed; yield its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_API_KEY"}
    if api_key is not None:
        env["CUSTSEG_API_KEY"] = api_key
    script = Path(sys.executable).with_name("custseg")
    args = [str(script), "serve", "--model", str(model_file), "--port", str(port), *options]
    # The log goes to a file: a pipe nobody reads could fill up and block the server.
    log = model_file.with_name(f"serve-{port}.log")
    with log.open("wb") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"custseg serve exited with {process.returncode}: {log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("custseg serve did not answer /healthz within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
