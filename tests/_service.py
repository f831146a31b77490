"""Helpers of the service tests: run the real `custseg serve` on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

API_KEY = "s3cret-key-for-tests"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(model_file: Path, *options: str, api_key: str | None = None) -> Iterator[str]:
    """Run `custseg serve` until the test module ends; yield its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_API_KEY"}
    if api_key is not None:
        env["CUSTSEG_API_KEY"] = api_key
    script = Path(sys.executable).with_name("custseg")
    args = [str(script), "serve", "--model", str(model_file), "--port", str(port), *options]
    # The server's log goes to a file: a pipe nobody reads could fill up and block it.
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


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _assert_clean_error(response: httpx.Response, status: int) -> object:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in response.text and 'File "' not in response.text
    detail = response.json()["detail"]
    assert detail
    return detail
