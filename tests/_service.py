"""Helpers of the service tests: run the real `custseg serve` on a free loopback port."""

from __future__ import annotations

import httpx
import pandas as pd

from _serve import free_port, serve

API_KEY = "s3cret-key-for-tests"


_free_port = free_port
_serve = serve


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _assert_clean_error(response: httpx.Response, status: int) -> object:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in response.text and 'File "' not in response.text
    detail = response.json()["detail"]
    assert detail
    return detail
