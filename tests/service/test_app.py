"""The scoring service: the real `custseg serve` process, called over HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from _service import API_KEY, _assert_clean_error, _records, _serve
from custseg.scoring.batch import SCORE_COLUMNS, score_customers


@pytest.fixture(scope="module")
def server(model_file: Path) -> Iterator[str]:
    """Default limits, API key required."""
    yield from _serve(model_file, api_key=API_KEY)


@pytest.fixture(scope="module")
def small_server(model_file: Path) -> Iterator[str]:
    """No API key; at most 50 records and 20,000 bytes per request."""
    yield from _serve(model_file, "--max-records", "50", "--max-body-bytes", "20000")


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as c:
        yield c


# ------------------------------------------------------------------------- answers


def test_answers_equal_batch_scoring_for_every_sample_customer(client, model, sample):
    expected = score_customers(model, sample).scored
    results: list[dict] = []
    for start in range(0, len(sample), 1500):
        response = client.post("/v1/score", json=_records(sample.iloc[start : start + 1500]))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["n_records"] == body["n_scored"] == len(body["results"])
        results += body["results"]
    assert [r["id"] for r in results] == expected["CUST_ID"].tolist()
    assert all(r["status"] == "scored" and r["reason"] is None for r in results)
    for column in ("segment_id", "segment_name", "runner_up_id"):
        assert [r[column] for r in results] == expected[column].tolist()
    for column in ("distance", "margin", "distance_percentile"):
        got = np.array([r[column] for r in results])
        np.testing.assert_allclose(got, expected[column], rtol=1e-12, atol=1e-12)
    assert [r["flags"] for r in results] == expected["flags"].astype(object).where(
        expected["flags"].notna(), None
    ).tolist()
    assert set(SCORE_COLUMNS) <= set(results[0])


def test_the_scoring_contract_answers_with_codes_and_counts(client, model, sample):
    records = _records(sample.head(6))
    records[2]["CUST_ID"] = None
    records[4]["CUST_ID"] = records[0]["CUST_ID"]
    records[5]["BALANCE"] = 1e9
    records[5]["CASH_ADVANCE"] = 1e9
    response = client.post("/v1/score", json=records)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {
        "missing_id": 1,
        "duplicate_id": 1,
        "unseen_level": 0,
        "out_of_profile": 1,
    }
    results = body["results"]
    assert results[2]["status"] == "rejected"
    assert results[2]["reason"].startswith("missing_id: CUST_ID is empty")
    assert results[5]["flags"] == "out_of_profile" and results[5]["distance_percentile"] == 100.0
    # A repeat is counted, and scored: the service flags, files can reject (--reject).
    assert results[4]["status"] == "scored"
    assert body["counts"]["out_of_profile"] == sum(r["flags"] == "out_of_profile" for r in results)


def test_a_bad_record_is_answered_in_place_with_its_reason(client, model, sample):
    records = _records(sample.head(5))
    records[1]["PURCHASES"] = "abc"
    records[3]["BALANCE"] = "12.5"  # numbers as text are fine
    response = client.post("/v1/score", json={"records": records})
    assert response.status_code == 200
    body = response.json()
    assert (body["n_records"], body["n_scored"], body["n_rejected"]) == (5, 4, 1)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["id"] for r in results] == sample["CUST_ID"].head(5).tolist()
    bad = results[1]
    assert bad["status"] == "rejected" and bad["segment_id"] is None
    assert "PURCHASES" in bad["reason"] and "abc" in bad["reason"]
    frame = sample.head(5).copy()
    frame["BALANCE"] = frame["BALANCE"].astype(object)
    frame.loc[3, "BALANCE"] = "12.5"
    expected = score_customers(model, frame.drop(index=1)).scored
    assert [r["segment_id"] for r in results if r["status"] == "scored"] == expected[
        "segment_id"
    ].tolist()


def test_model_metadata_and_catalogue(client, model):
    info = client.get("/v1/model").json()
    assert info["k"] == 4 and info["id_column"] == "CUST_ID"
    assert info["input_columns"] == list(model.preparation.input_numeric)
    assert [s["name"] for s in info["segments"]] == model.segment_names()
    first = info["segments"][0]
    assert set(first) >= {"id", "name", "description", "strategies", "size", "share"}
    assert first["size"] == model.segments[0].size and first["strategies"]
    assert info["max_records"] == 10_000


def test_health_is_open_and_openapi_follows_the_key(server, small_server):
    health = httpx.get(f"{server}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    _assert_clean_error(httpx.get(f"{server}/openapi.json"), 401)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    spec = httpx.get(f"{server}/openapi.json", headers=headers).json()
    assert {"/v1/score", "/v1/model", "/healthz"} <= set(spec["paths"])
    assert httpx.get(f"{small_server}/openapi.json").status_code == 200  # no key set


# --------------------------------------------------------------------------- auth


def test_api_key_is_required_when_set(server, sample):
    records = _records(sample.head(2))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
        for method, path in (("POST", "/v1/score"), ("GET", "/v1/model")):
            response = httpx.request(
                method, f"{server}{path}", json=records, headers=headers, timeout=30
            )
            _assert_clean_error(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"


def test_no_key_needed_when_unset(small_server, sample):
    response = httpx.post(f"{small_server}/v1/score", json=_records(sample.head(3)))
    assert response.status_code == 200 and response.json()["n_scored"] == 3


# -------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b'{"customers": []}', 422, "list of records"),
        (b"42", 422, "list of records"),
        (b"[]", 422, "empty"),
        (b"[1, 2]", 422, "JSON object"),
        (b"{not json", 400, "not valid JSON"),
        (b'[{"BALANCE": NaN}]', 400, "NaN"),
        (b"", 400, "empty"),
        (b"\xff\xfe", 400, "UTF-8"),
        (b"[" * 100_000, 400, "nested"),
    ],
)
def test_bodies_that_are_not_lists_of_records(client, body, status, message):
    response = client.post("/v1/score", content=body, headers={"Content-Type": "application/json"})
    detail = _assert_clean_error(response, status)
    assert message in json.dumps(detail)


def test_invalid_records_name_the_field_and_the_reason(client, sample):
    records = _records(sample.head(3))
    del records[0]["TENURE"]
    records[2]["PAYMENTS"] = {"amount": 3}
    records[1]["CASH_ADVANCE"] = [1, 2]
    detail = _assert_clean_error(client.post("/v1/score", json=records), 422)
    assert isinstance(detail, list)
    where = {(d["loc"][1], d["loc"][2]): d["msg"] for d in detail}
    assert set(where) == {(0, "TENURE"), (1, "CASH_ADVANCE"), (2, "PAYMENTS")}
    assert "missing" in where[(0, "TENURE")]
    assert "array" in where[(1, "CASH_ADVANCE")]
    assert "object" in where[(2, "PAYMENTS")]


def test_oversized_bodies_and_too_many_records_get_413(small_server, sample):
    url = f"{small_server}/v1/score"
    records = _records(sample.head(48))  # within the record limit, over the byte limit
    big = json.dumps(records).encode()
    assert len(big) > 20_000
    _assert_clean_error(httpx.post(url, content=big), 413)

    def stream():  # chunked transfer: no Content-Length, the streamed size counts
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    response = httpx.post(url, content=stream(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert "limit of 20000 bytes" in str(_assert_clean_error(response, 413))

    many = [{"CUST_ID": str(i)} for i in range(51)]
    assert "limit of 50" in str(_assert_clean_error(httpx.post(url, json=many), 413))
    ok = httpx.post(url, json=_records(sample.head(10)))
    assert ok.status_code == 200


def test_unknown_routes_and_methods_are_json_errors(client):
    _assert_clean_error(client.get("/v1/nothing"), 404)
    _assert_clean_error(client.get("/v1/score"), 405)


def test_numbers_beyond_the_float_range_are_rejected_in_place(client, sample):
    records = _records(sample.head(3))
    body = json.dumps(records)
    body = body.replace(f'"BALANCE": {records[0]["BALANCE"]}', '"BALANCE": 1e400', 1)
    body = body.replace(f'"PAYMENTS": {records[2]["PAYMENTS"]}', '"PAYMENTS": 1' + "0" * 400, 1)
    response = client.post("/v1/score", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "scored", "rejected"]
    assert "BALANCE" in results[0]["reason"] and "PAYMENTS" in results[2]["reason"]
