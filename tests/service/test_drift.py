"""POST /v1/drift and the lineage in GET /v1/model, on the real uvicorn server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest

from _over_time import STABLE_K, bootstrap, shifted, stable_model
from _serve import serve
from custseg import FitConfig, fit_segments, save_model
from custseg.model import SegmentationModel
from custseg.scoring import check_drift

API_KEY = "drift-key-for-tests"
MAX_RECORDS = 2_000
MAX_BODY = 700_000


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> SegmentationModel:
    """A retrained model: it carries a lineage."""
    config = FitConfig(k=STABLE_K, k_range=(STABLE_K, STABLE_K), n_resamples=1, random_state=0)
    return fit_segments(bootstrap(11), config=config, previous=stable_model())


@pytest.fixture(scope="module")
def server(model: SegmentationModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = save_model(model, tmp_path_factory.mktemp("drift-service") / "model.json")
    options = ("--max-records", str(MAX_RECORDS), "--max-body-bytes", str(MAX_BODY))
    yield from serve(path, *options, api_key=API_KEY)


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as c:
        yield c


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _without_time(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "created_at"}


def test_drift_answers_the_same_document_as_python(client, model):
    frame = shifted(3).head(1_000)
    response = client.post("/v1/drift", json=_records(frame))
    assert response.status_code == 200, response.text
    answer = response.json()
    expected = json.loads(json.dumps(check_drift(model, frame)))
    assert _without_time(answer) == _without_time(expected)
    assert answer["status"] == "red" and answer["verdict"].startswith("retrain recommended")
    assert answer["rows"] == 1_000


def test_records_need_no_identifier_and_may_be_wrapped(client):
    frame = bootstrap(4).head(1_200).drop(columns="CUST_ID")
    response = client.post("/v1/drift", json={"records": _records(frame)})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "green" and answer["rows_compared"] == 1_200


def test_model_metadata_includes_the_lineage(client, model):
    info = client.get("/v1/model").json()
    assert info["lineage"] == json.loads(json.dumps(model.lineage.to_dict()))
    assert info["lineage"]["matched"] == {str(i): i for i in range(STABLE_K)}
    spec = client.get("/openapi.json").json()
    assert "/v1/drift" in spec["paths"]
    assert "lineage" in spec["components"]["schemas"]["ModelInfo"]["properties"]


def test_limits_keys_and_bad_records(server, client):
    too_many = [{"BALANCE": 1.0}] * (MAX_RECORDS + 1)
    response = client.post("/v1/drift", json=too_many)
    assert response.status_code == 413 and f"limit of {MAX_RECORDS:,}" in response.json()["detail"]
    big = json.dumps(_records(bootstrap(5).head(MAX_RECORDS))).encode()
    assert len(big) > MAX_BODY
    response = client.post("/v1/drift", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert httpx.post(f"{server}/v1/drift", json=[{}]).status_code == 401
    response = client.post("/v1/drift", json=[{"BALANCE": 1.0}])
    assert response.status_code == 422
    assert any("TENURE" in item["msg"] for item in response.json()["detail"])
    unusable = _records(bootstrap(6).head(3).assign(PAYMENTS="abc"))
    response = client.post("/v1/drift", json=unusable)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "PAYMENTS" in detail and "Traceback" not in detail
