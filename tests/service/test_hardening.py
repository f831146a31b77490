"""The service under pressure and misuse: real `custseg serve` processes on loopback.

Limits are set small so that each is reached quickly; the checks are functional
(answered at all, closed at all, status codes), never timing thresholds: timings are
in bench/bench_service.py and bench/stress_service.py.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from _service import API_KEY, _assert_clean_error, _records, _serve
from custseg.model import save_model
from custseg.scoring.batch import score_customers

MiB = 1024 * 1024
KEY = "a-model-signing-key-for-the-tests"


@pytest.fixture(scope="module")
def tight_server(model_file: Path) -> Iterator[str]:
    """No API key; one thread; short timeouts, a small memory budget, few idle connections."""
    yield from _serve(
        model_file,
        "--header-timeout",
        "1",
        "--body-timeout",
        "2",
        "--max-idle-connections",
        "4",
        "--max-body-bytes",
        str(MiB),
        "--max-buffered-bytes",
        str(2 * MiB),
        "--threads",
        "1",
    )


@pytest.fixture(scope="module")
def keyed_server(model_file: Path) -> Iterator[str]:
    yield from _serve(model_file, api_key=API_KEY)


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=15)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


# ------------------------------------------------------------------ malformed bodies


MALFORMED = [
    b'[{"CUST_ID": 1e400}]',
    b'{"records": [{"CUST_ID": -1e999}]}',
    b'[{"CUST_ID": "x", "BALANCE": 1' + b"0" * 5000 + b"}]",
    b'[{"CUST_ID": "\\ud800"}]',
    b'[{"CUST_ID": "a\\u0000b"}]',
    b'{"records": 5}',
    b'{"records": [], "more": 1}',
    b'{"records": [1]',
    b"[{}] trailing",
    b"[1,]",
    b"[,]",
    b'[{"a": 1}, ]',
    b"\x00\x01\x02",
    b"nul\x00l",
    b'"just a string"',
    b"null",
    b"true",
    b"{" * 50_000,
    b'[{"CUST_ID": {"nested": [[[[]]]]}}]',
    b"\xef\xbb\xbf[]",
    "[\u2028]".encode(),
    b'[{"CUST_ID": "x", "BALANCE": "Infinity"}]',
    b'[{"CUST_ID": "x", "BALANCE": -Infinity}]',
    b'[{"CUST_ID": "x"} , {"CUST_ID" : "y"}]',
    b'[{"CUST_ID": true}]',
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_every_malformed_body_is_a_4xx_with_a_message(keyed_server, body):
    response = httpx.post(
        f"{keyed_server}/v1/score",
        content=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.json()["detail"]


def test_records_with_odd_but_valid_values_are_answered(keyed_server, sample):
    records = _records(sample.head(4))
    records[0]["CUST_ID"] = "\ud800 lone surrogate"
    records[1]["BALANCE"] = "1" + "0" * 400  # a number as text beyond the float range
    records[2]["CUST_ID"] = 10**300  # a huge integer id
    records[3]["PURCHASES"] = "\u0000"
    body = json.dumps(records).encode()
    response = httpx.post(
        f"{keyed_server}/v1/score",
        content=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["scored", "rejected", "scored", "rejected"]


def test_an_id_beyond_the_float_range_is_a_422_naming_the_field(keyed_server, sample):
    records = _records(sample.head(2))
    body = json.dumps(records).replace('"C10002"', "1e400").encode()
    response = httpx.post(
        f"{keyed_server}/v1/score",
        content=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    detail = _assert_clean_error(response, 422)
    assert detail[0]["loc"] == ["body", 1, "CUST_ID"] and "string" in detail[0]["msg"]


# --------------------------------------------------------------------- booleans


def test_booleans_score_like_the_same_booleans_from_a_file(keyed_server, model, sample, tmp_path):
    frame = sample.head(6).copy()
    flags = [True, False, True, False, True, False]
    frame["PRC_FULL_PAYMENT"] = pd.array(flags, dtype="boolean")
    path = tmp_path / "flags.parquet"
    frame.to_parquet(path, index=False)
    from custseg.sources import read_table

    from_file = score_customers(model, read_table(path)).scored
    records = _records(sample.head(6))
    for record, flag in zip(records, flags, strict=True):
        record["PRC_FULL_PAYMENT"] = flag
    response = httpx.post(
        f"{keyed_server}/v1/score", json=records, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["segment_id"] for r in results] == from_file["segment_id"].tolist()
    np.testing.assert_allclose([r["distance"] for r in results], from_file["distance"])


# ------------------------------------------------------------- docs and metadata


def test_the_docs_page_is_self_contained(keyed_server):
    page = httpx.get(f"{keyed_server}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert 'fetch("openapi.json"' in text and "Authorization" in text
    assert "CUST_ID" not in text  # the model's columns come only with the key


def test_model_metadata_hides_the_query_and_paths(tmp_path, model):
    import asyncio

    from custseg.service import create_app

    training = {
        **model.training,
        "source": "/home/analyst/secret-project/customers.csv",
        "query": "SELECT * FROM hr.salaries WHERE name = 'Ana'",
        "query_sha256": "ab" * 32,
        "query_file": "/home/analyst/q.sql",
    }
    changed = dataclasses.replace(model, training=training)

    async def in_process() -> dict:
        transport = httpx.ASGITransport(app=create_app(changed))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return (await client.get("/v1/model")).json()

    hidden = asyncio.run(in_process())
    path = save_model(changed, tmp_path / "model.json")
    base_iter = _serve(path, "--expose-training")
    base = next(base_iter)
    try:
        shown = httpx.get(f"{base}/v1/model").json()
    finally:
        base_iter.close()
    for info, exposed in ((hidden, False), (shown, True)):
        text = json.dumps(info)
        assert ("hr.salaries" in text) is exposed
        assert ("/home/analyst" in text) is exposed
        assert info["training"]["query_sha256"] == "ab" * 32
        assert info["training"]["source"].endswith("customers.csv")


# ---------------------------------------------------------------------- limits


def test_a_silent_connection_is_closed_after_the_header_timeout(tight_server):
    silent = _connect(tight_server)
    partial = _connect(tight_server)
    partial.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
    try:
        assert _closed_within(silent, 10)
        assert _closed_within(partial, 10)
    finally:
        silent.close()
        partial.close()
    assert httpx.get(f"{tight_server}/healthz", timeout=10).status_code == 200


def test_idle_connections_beyond_the_cap_are_closed_oldest_first(tight_server):
    idle = [_connect(tight_server) for _ in range(8)]
    try:
        time.sleep(0.3)
        assert httpx.get(f"{tight_server}/healthz", timeout=10).status_code == 200
        closed = [_closed_within(sock, 0.5) for sock in idle]
        assert closed[:4] == [True] * 4  # the oldest went first
        assert sum(closed) >= 5
    finally:
        for sock in idle:
            sock.close()


def test_a_stalled_body_times_out_with_408(tight_server):
    sock = _connect(tight_server)
    try:
        sock.sendall(
            b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n[{"
        )
        sock.settimeout(15)
        answer = b""
        while part := sock.recv(65536):  # the server closes the connection after it
            answer += part
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive within 2 s" in answer


def test_stalled_uploads_beyond_the_memory_budget_get_503_and_others_are_answered(
    tight_server, sample
):
    # Each stalled upload announces ~1 MiB and sends most of it; the budget is 2 MiB.
    stalled = []
    answers: list[bytes] = []

    def upload() -> None:
        sock = _connect(tight_server)
        stalled.append(sock)
        sock.sendall(
            b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {MiB - 10}\r\n\r\n".encode()
            + b"["
            + b" " * (MiB // 2)
        )
        sock.settimeout(1.5)
        try:
            answers.append(sock.recv(65536))
        except TimeoutError:
            answers.append(b"")

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        refused = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
        assert len(refused) >= 1, answers
        assert all(b"retry-after: 2" in a.lower() for a in refused)
        ok = httpx.post(f"{tight_server}/v1/score", json=_records(sample.head(3)), timeout=10)
        assert ok.status_code == 200
    finally:
        for sock in stalled:
            sock.close()


def test_healthz_answers_while_large_requests_are_scored(tight_server, sample):
    records = _records(pd.concat([sample] * 2).head(10_000))
    body = json.dumps(records).encode()
    assert len(body) < 16 * MiB
    results: list[int] = []

    def big() -> None:
        # 10,000 records are over this server's 1 MiB limit: use the default server size.
        with httpx.Client(timeout=60) as client:
            for start in range(0, 10_000, 2_000):
                chunk = json.dumps(records[start : start + 2_000]).encode()
                results.append(client.post(f"{tight_server}/v1/score", content=chunk).status_code)

    worker = threading.Thread(target=big)
    worker.start()
    health = []
    while worker.is_alive():
        health.append(httpx.get(f"{tight_server}/healthz", timeout=10).status_code)
        time.sleep(0.01)
    worker.join()
    assert results == [200] * 5
    assert health and set(health) == {200}


# ------------------------------------------------- record limits before parsing


def _hostile(limit: int = 16 * MiB) -> bytes:
    """``[{},{},...]`` of exactly ``limit`` bytes: 5,592,405 empty records for 16 MiB."""
    n = (limit - 1) // 3
    return b"[" + b"{}," * (n - 1) + b"{}]"


def _server_pid(base: str) -> int:
    port = base.rsplit(":", 1)[1]
    found = [pid for pid, args in _processes().items() if f"--port\0{port}\0" in args]
    assert len(found) == 1, found
    return found[0]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class _PeakRss:
    """Samples a process's resident memory in a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = _rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module", params=["1", "8"], ids=["threads1", "threads8"])
def default_server(request, model_file: Path) -> Iterator[str]:
    """The default limits (16 MiB, 10,000 records, 256 MiB budget), one worker."""
    yield from _serve(model_file, "--workers", "1", "--threads", request.param)


def test_bodies_of_millions_of_empty_records_are_refused_while_counted(default_server, sample):
    # The attack: 8 clients at once, each 16 MiB of [{},{},...] (5.6M records).
    # Decoding one such body builds 5.6M dicts (~400 MB); counting first refuses it
    # at record 10,001 with only the body itself in memory.
    hostile = _hostile()
    assert len(hostile) == 16 * MiB
    pid = _server_pid(default_server)
    answers: list[httpx.Response] = []
    normal: list[int] = []

    def send() -> None:
        answers.append(httpx.post(f"{default_server}/v1/score", content=hostile, timeout=120))

    senders = [threading.Thread(target=send) for _ in range(8)]
    with _PeakRss(pid) as rss:
        for thread in senders:
            thread.start()
        while any(thread.is_alive() for thread in senders) or not normal:
            ok = httpx.post(f"{default_server}/v1/score", json=_records(sample.head(5)), timeout=60)
            normal.append(ok.status_code)
        for thread in senders:
            thread.join()
    assert len(answers) == 8
    for response in answers:
        message = _assert_clean_error(response, 413)
        assert "more than 10,000 records" in message, message
        assert "limit of 10,000 per request" in message, message
    assert set(normal) == {200}
    # At rest the server holds ~180 MB; the bodies 8 x 16 MiB. Before the fix: 735 MB.
    assert rss.peak < 500, f"peak RSS {rss.peak:.0f} MB"


def test_drift_counts_records_before_parsing_too(default_server):
    response = httpx.post(f"{default_server}/v1/drift", content=_hostile(2 * MiB), timeout=60)
    message = _assert_clean_error(response, 413)
    assert "more than 10,000 records" in message


def test_a_record_nesting_millions_of_arrays_is_refused_without_building_them(
    default_server, sample
):
    # One record, one field holding 16 MiB of [[],[],...]: counting records cannot stop
    # it, so nested values are skipped by a scan and reported, never decoded.
    record = _records(sample.head(1))[0]
    record["BALANCE"] = "here"
    head, tail = json.dumps([record]).encode().split(b'"here"')
    n = (16 * MiB - len(head) - len(tail) - 1) // 3
    body = head + b"[" + b"[]," * (n - 1) + b"[]]" + tail
    assert 16 * MiB - 3 <= len(body) <= 16 * MiB
    pid = _server_pid(default_server)
    with _PeakRss(pid) as rss:
        response = httpx.post(f"{default_server}/v1/score", content=body, timeout=120)
    detail = _assert_clean_error(response, 422)
    assert detail[0]["loc"] == ["body", 0, "BALANCE"] and "array" in detail[0]["msg"]
    assert rss.peak < 400, f"peak RSS {rss.peak:.0f} MB"


SCANNED = [
    b'[{"CUST_ID": "[a]", "BALANCE": 1.5e3, "X": true}, {"CUST_ID": "b\\"}", "BALANCE": null}]',
    b'\xef\xbb\xbf [ {"CUST_ID" : "\\u00e9[" , "BALANCE":-0.5} ]\n',
    b'{"records": [{"CUST_ID": "[", "BALANCE": "12"}]}',
    b'[{"CUST_ID": "[", "BALANCE": [1, [2]], "extra": {"a": ["]"]}}, 5, [3], "s", null]',
    b'[{"CUST_ID": "[", "BALANCE": 1, "BALANCE": 2}]',
    b'[{"CUST_ID": "[", "BALANCE": 1}] [',
    b'[{"CUST_ID": "[", "BALANCE": NaN}]',
    b'[{"CUST_ID": "[", "BALANCE": 1},]',
    b'[{"CUST_ID": "[", "BALANCE": 1} {"CUST_ID": "y"}]',
    b'[{"CUST_ID": "[", "BALANCE": 01}]',
    b'[{"CUST_ID": "[", "BALANCE": 1}',
    b'[{"CUST_ID": "[", "BALANCE": "\xff"}]',
    b'{"records": [], "more": ["["]}',
    b"[" * 20 + b"]" * 20,
]


def _hollowed(value: object, depth: int = 0) -> object:
    """What the scan keeps of a decoded record: nested values become empty ones."""
    if isinstance(value, list):
        return []
    if isinstance(value, dict) and depth == 0:
        return {k: _hollowed(v, 1) for k, v in value.items()}
    return {} if isinstance(value, dict) else value


@pytest.mark.parametrize("body", SCANNED, ids=range(len(SCANNED)))
def test_the_counting_scan_reads_what_json_reads(body):
    # Brackets in strings send a body to the scan (the counts cannot rule nesting out);
    # it must find what the json module finds, or refuse what json refuses.
    from custseg.service._json_body import ApiError, _scan

    def refuse(name: str) -> None:
        raise ValueError(name)

    try:
        expected = json.loads(body.decode("utf-8-sig"), parse_constant=refuse)
    except ValueError:
        expected = None
    try:
        scanned = _scan(body, 3 if body.startswith(b"\xef\xbb\xbf") else 0, 100)
    except UnicodeDecodeError:  # parse_records answers 400 "not UTF-8"
        assert expected is None
        return
    except ApiError as exc:
        assert expected is None, exc.detail
        assert exc.status == 400 and "not valid JSON" in exc.detail
        return
    assert expected is not None, scanned
    if isinstance(expected, dict) and set(expected) == {"records"}:
        expected = expected["records"]
    if isinstance(expected, list):
        assert scanned == [_hollowed(record) for record in expected]
    else:  # not a list: the scan answers a stand-in of the same JSON type
        assert type(scanned) is type(expected)


def test_a_record_count_over_the_limit_is_named_with_where_counting_stopped():
    from custseg.service._requests import ApiError, parse_records

    for body, byte in ((b"[" + b"{}," * 99 + b"{}]", 31), (b"[" + b'"[",' * 99 + b"1]", 41)):
        with pytest.raises(ApiError) as caught:
            parse_records(body, required=["CUST_ID"], id_column="CUST_ID", max_records=10)
        assert caught.value.status == 413
        assert caught.value.detail.startswith("the body holds more than 10 records")
        assert f"counting stopped at record 11, byte {byte}" in caught.value.detail


def test_the_scan_follows_nesting_32_levels_deep():
    from custseg.service._requests import ApiError, parse_records

    deep = b'[{"a": "[", "CUST_ID": ' + b"[" * 40 + b"]" * 40 + b"}]"
    with pytest.raises(ApiError) as caught:
        parse_records(deep, required=["CUST_ID"], id_column="CUST_ID", max_records=10)
    assert caught.value.status == 400
    assert "nested too deeply, in the record at index 0 (more than 32 levels)" in (
        caught.value.detail
    )


def test_a_record_of_megabytes_is_decoded_in_pieces_like_json_decodes_it():
    # One record of 150,000 fields (2 MiB): decoded 1,000 fields at a time, so that
    # other requests get the interpreter in between; the answer is json's.
    from custseg.service._requests import ApiError, parse_records

    values = ["1.5", '"t{x}"', "true", "null", "-2e3", '"\\u00e9"']
    fields = [f'"k{i}": {values[i % 6]}' for i in range(150_000)]
    fields.append('"k7": "last wins"')  # a duplicate key, as json keeps the last
    body = ("[{" + ", ".join(fields) + "}]").encode()
    assert len(body) > 2 * MiB
    with pytest.raises(ApiError) as caught:  # the required fields are missing
        parse_records(body, required=["CUST_ID"], id_column="CUST_ID", max_records=10)
    assert caught.value.detail[0]["loc"] == ["body", 0, "CUST_ID"]
    with_id = body.replace(b'[{"k0"', b'[{"CUST_ID": "a", "k0"', 1)
    parsed = parse_records(with_id, required=["CUST_ID"], id_column="CUST_ID", max_records=10)
    assert parsed == json.loads(with_id)


def test_large_bodies_are_decoded_one_body_limit_at_a_time():
    import asyncio

    from custseg.service._requests import FREE_BODY_BYTES, DecodeGate

    big = 10 * MiB
    gate = DecodeGate(16 * MiB)
    order: list[str] = []

    async def work(name: str, size: int, hold: float) -> None:
        held = await gate.enter(size)
        order.append(f"{name} in")
        await asyncio.sleep(hold)
        order.append(f"{name} out")
        gate.leave(held)

    async def scenario() -> None:
        first = asyncio.create_task(work("big1", big, 0.2))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(work("big2", big, 0.0))
        small = asyncio.create_task(work("small", FREE_BODY_BYTES, 0.0))
        await asyncio.gather(first, second, small)

    asyncio.run(scenario())
    # The second large body waits for the first; the small one passes at once.
    assert order == ["big1 in", "small in", "small out", "big1 out", "big2 in", "big2 out"]
    assert gate.used == 0


# ------------------------------------------------------- workers and signatures


def _processes() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
    return found


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_two_workers_share_the_port(model_file, sample, monkeypatch):
    iterator = _serve(model_file, "--workers", "2")
    base = next(iterator)
    try:
        with httpx.Client(timeout=30) as client:
            codes = {client.post(f"{base}/v1/score", json=_records(sample.head(5))).status_code}
        codes |= {httpx.get(f"{base}/healthz").status_code for _ in range(10)}
        assert codes == {200}
        port = base.rsplit(":", 1)[1]
        server = [pid for pid, args in _processes().items() if f"--port\0{port}\0" in args]
        assert len(server) == 1
        workers = [pid for pid in _processes() if _parent(pid) == server[0]]
        assert len(workers) >= 2  # two workers (and maybe multiprocessing's helper)
    finally:
        iterator.close()


def test_require_signature_refuses_an_unsigned_model(run_cli, model_file, tmp_path, model):
    result = run_cli(
        ["serve", "--model", model_file, "--require-signature", "--port", "1"],
        env={"CUSTSEG_MODEL_KEY": KEY},
    )
    assert result.exit_code == 2 and "not signed" in result.stderr
    signed = save_model(model, tmp_path / "signed.json", key=KEY.encode())
    # With the key, the model passes and the next check (the port) speaks.
    result = run_cli(
        ["serve", "--model", signed, "--require-signature", "--port", "0"],
        env={"CUSTSEG_MODEL_KEY": KEY},
    )
    assert result.exit_code == 2 and "--port 0" in result.stderr
    assert sys.executable
