"""The scoring service under hostile load: figures for docs/inference.md ("Under pressure").

Starts the real ``custseg serve`` (default limits) on a free 127.0.0.1 port and runs:

A. 2,000 idle connections (connected, never send a byte) plus 100 uploads that announce
   16 MiB, send as much as the server takes and then stall. While they hang on, it
   samples the server's resident memory (RSS, every 50 ms) and times normal requests
   (100 records each). Prints the peak RSS and the slowest normal request.
B. Two clients post 10,000-record requests back to back while a third asks /healthz
   every 20 ms. Prints /healthz p50/p99/max latency and the scoring requests' rate.
C. Eight clients at once post 16 MiB bodies of ``[{},{},...]`` (5,592,405 empty
   records each, far over the record limit) while normal 100-record requests are sent
   one after another. Prints the server's peak RSS, the answers to the hostile bodies
   and the median and slowest normal request (``--rounds`` rounds, medians).
   ``--body keys`` sends instead the costliest body to decode that the counts let
   through (one record of 1.4 million distinct short field names, 16 MiB), ``--body
   records`` eight valid 10,000-record requests.
P. In-process, no server: the memory that parsing a body takes on top of the body
   (``tracemalloc`` peak over body size) for valid and hostile bodies: the constant
   of "memory per request = body x constant" in docs/inference.md.

    .venv/bin/python bench/stress_service.py                 # fits a k=8 model first
    .venv/bin/python bench/stress_service.py --workers 2 --model out/model.json
    .venv/bin/python bench/stress_service.py --phase C --threads 8 --rounds 3
    .venv/bin/python bench/stress_service.py --phase C --threads 8 --body keys
    .venv/bin/python bench/stress_service.py --phase P
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _service_kit import bodies, fit_model, free_port, rss_mb, start_server  # noqa: E402

MiB = 1024 * 1024


def timed_post(port: int, body: bytes, path: str = "/v1/score") -> tuple[float, int]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return time.perf_counter() - start, status


def stalled_upload(port: int, sockets: list[socket.socket], outcome: list[str]) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sockets.append(sock)
    sock.sendall(
        b"POST /v1/score HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {16 * MiB}\r\n\r\n[".encode()
    )
    sent = 1
    piece = b" " * (64 * 1024)
    sock.settimeout(2.0)
    try:
        while sent < 16 * MiB - len(piece):
            sock.sendall(piece)
            sent += len(piece)
        outcome.append("sent all but the last bytes, stalled")
    except TimeoutError:
        outcome.append("server stopped reading, stalled")
    except OSError:
        outcome.append("refused (503) and closed")


def phase_a(port: int, server_pid: int, normal: bytes) -> dict[str, float]:
    idle: list[socket.socket] = []
    for _ in range(2000):
        try:
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    peak = rss_mb(server_pid)
    stalled: list[socket.socket] = []
    outcome: list[str] = []
    threads = [
        threading.Thread(target=stalled_upload, args=(port, stalled, outcome)) for _ in range(100)
    ]
    for thread in threads:
        thread.start()
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_mb(server_pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for thread in threads:
        thread.join()
    normal_times = []
    statuses = []
    for _ in range(5):
        seconds, status = timed_post(port, normal)
        normal_times.append(seconds)
        statuses.append(status)
        time.sleep(0.2)
    time.sleep(1.0)
    stop.set()
    sampler.join()
    kinds = {kind: outcome.count(kind) for kind in set(outcome)}
    for sock in idle + stalled:
        sock.close()
    time.sleep(1.0)
    return {
        "idle_connections": float(len(idle)),
        "peak_rss_mb": peak,
        "rss_after_mb": rss_mb(server_pid),
        "normal_max_s": max(normal_times),
        "normal_median_s": statistics.median(normal_times),
        "normal_ok": float(statuses.count(200)),
        "outcomes": kinds,  # type: ignore[dict-item]
    }


def phase_b(port: int, big: bytes, seconds: float) -> dict[str, float]:
    stop = threading.Event()
    scored = []

    def load() -> None:
        while not stop.is_set():
            elapsed, status = timed_post(port, big)
            if status == 200:
                scored.append(elapsed)

    loaders = [threading.Thread(target=load) for _ in range(2)]
    for thread in loaders:
        thread.start()
    time.sleep(1.0)
    latencies = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        latencies.append(time.perf_counter() - start)
        time.sleep(0.02)
    conn.close()
    stop.set()
    for thread in loaders:
        thread.join()
    ms = np.asarray(latencies) * 1000
    return {
        "healthz_n": float(len(ms)),
        "healthz_p50_ms": float(np.percentile(ms, 50)),
        "healthz_p99_ms": float(np.percentile(ms, 99)),
        "healthz_max_ms": float(ms.max()),
        "big_requests": float(len(scored)),
        "big_median_s": statistics.median(scored) if scored else float("nan"),
    }


def hostile_body(limit: int = 16 * MiB) -> bytes:
    """``[{},{},...]`` of exactly ``limit`` bytes: as many records as the bytes allow."""
    n = (limit - 1) // 3
    return b"[" + b"{}," * (n - 1) + b"{}]"


def distinct_keys_body(limit: int = 16 * MiB) -> bytes:
    """One record of as many distinct short field names as ``limit`` bytes hold."""
    parts = []
    size = 4
    n = 0
    while True:
        part = f'"k{n:x}":0'
        if size + len(part) + 1 > limit:
            break
        parts.append(part)
        size += len(part) + 1
        n += 1
    return ("[{" + ",".join(parts) + "}]").encode()


def phase_c(port: int, server_pid: int, normal: bytes, hostile: bytes) -> dict[str, float]:
    clients = 8
    peak = rss_mb(server_pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_mb(server_pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    answers: list[tuple[float, int]] = []
    senders = [
        threading.Thread(target=lambda: answers.append(timed_post(port, hostile)))
        for _ in range(clients)
    ]
    for thread in senders:
        thread.start()
    normal_times = []
    statuses = []
    # Normal requests one after another while the hostile ones are sent, read and refused.
    while any(thread.is_alive() for thread in senders) or len(normal_times) < 3:
        seconds, status = timed_post(port, normal)
        normal_times.append(seconds)
        statuses.append(status)
        time.sleep(0.05)
    for thread in senders:
        thread.join()
    time.sleep(0.5)
    stop.set()
    sampler.join()
    codes = sorted(status for _, status in answers)
    return {
        "peak_rss_mb": peak,
        "rss_after_mb": rss_mb(server_pid),
        "hostile_statuses": codes,  # type: ignore[dict-item]
        "hostile_max_s": max(seconds for seconds, _ in answers),
        "normal_n": float(len(normal_times)),
        "normal_ok": float(statuses.count(200)),
        "normal_median_s": statistics.median(normal_times),
        "normal_max_s": max(normal_times),
    }


def phase_p(model: Path) -> dict[str, float]:
    import gc
    import tracemalloc

    from custseg import load_model
    from custseg.scoring.batch import Scorer
    from custseg.service._requests import ApiError, parse_records

    scorer = Scorer(load_model(model))
    required = [scorer.id_column or "CUST_ID", *scorer.required]
    records = bodies(1, 10_000, seed=4)[0]
    cases = {
        "10,000 sample records": records,
        "the same, one emoji in an id": records.replace(b'"C1', '"\U0001f600'.encode(), 1),
        "one record of distinct field names": distinct_keys_body(),
        "[{},{},...]": hostile_body(),
        "[1.5,1.5,...]": b"[" + b"1.5," * (4 * MiB - 1) + b"1.5]",
        "one record, 16 MiB of [[],[],...]": b'[{"CUST_ID": "a", "BALANCE": ['
        + b"[]," * ((16 * MiB - 40) // 3)
        + b"[]]}]",
    }
    ratios = {}
    for name, body in cases.items():
        gc.collect()
        tracemalloc.start()
        start = time.perf_counter()
        try:
            parsed = parse_records(
                body, required=required, id_column=required[0], max_records=10_000
            )
            outcome = f"{len(parsed):,} records"
            del parsed
        except ApiError as exc:
            outcome = f"refused {exc.status}"
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        ratios[name] = peak / len(body)
        print(
            f"P. {name}: {len(body) / MiB:.1f} MiB, {outcome} in {seconds:.2f} s, parsing"
            f" takes {peak / MiB:.1f} MiB more = {peak / len(body):.2f} x the body"
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="custseg serve --threads")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of phase B")
    parser.add_argument(
        "--phase", choices=["A", "B", "C", "P"], action="append", help="default: all"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of phase C (medians)")
    parser.add_argument("--body", choices=["empty", "keys", "records"], default="empty")
    args = parser.parse_args()
    phases = args.phase or ["A", "B", "C", "P"]
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or fit_model(Path(tmp))
        normal = bodies(1, 100, seed=1)[0]
        big = bodies(1, 10_000, seed=2)[0]
        options = ["--workers", str(args.workers)]
        if args.threads is not None:
            options += ["--threads", str(args.threads)]
        if "A" in phases or "B" in phases:
            port = free_port()
            server = start_server(model, port, *options)
            try:
                time.sleep(1.0)
                rest = rss_mb(server.pid)
                print(f"server RSS at rest: {rest:.0f} MB ({args.workers} worker(s))")
                if "A" in phases:
                    a = phase_a(port, server.pid, normal)
                    print(
                        f"A. {a['idle_connections']:.0f} idle connections + 100 stalled 16 MiB"
                        f" uploads ({a['outcomes']}): peak RSS {a['peak_rss_mb']:.0f} MB"
                        f" (after they left: {a['rss_after_mb']:.0f} MB); normal 100-record"
                        f" request {a['normal_ok']:.0f}/5 answered, slowest"
                        f" {a['normal_max_s']:.2f} s, median {a['normal_median_s']:.2f} s"
                    )
                    figures["a"] = {k: v for k, v in a.items() if k != "outcomes"}
                if "B" in phases:
                    b = phase_b(port, big, args.seconds)
                    print(
                        f"B. /healthz while 10,000-record requests run ({b['big_requests']:.0f}"
                        f" scored, median {b['big_median_s']:.2f} s each): p50"
                        f" {b['healthz_p50_ms']:.1f} ms, p99 {b['healthz_p99_ms']:.1f} ms, max"
                        f" {b['healthz_max_ms']:.1f} ms over {b['healthz_n']:.0f} requests"
                    )
                    figures["b"] = b
            finally:
                server.terminate()
                server.wait(timeout=30)
        if "C" in phases:
            hostile = {
                "empty": hostile_body,
                "keys": distinct_keys_body,
                "records": lambda: big,
            }[args.body]()
            rounds = []
            for _ in range(args.rounds):  # a fresh server each round: peaks are independent
                port = free_port()
                server = start_server(model, port, *options)
                try:
                    time.sleep(1.0)
                    rest = rss_mb(server.pid)
                    c = phase_c(port, server.pid, normal, hostile)
                    c["rss_at_rest_mb"] = rest
                    rounds.append(c)
                    print(
                        f"C. 8 x {len(hostile) / MiB:.1f} MiB {args.body} bodies at once: answered"
                        f" {c['hostile_statuses']} (slowest {c['hostile_max_s']:.2f} s); RSS"
                        f" at rest {rest:.0f} MB, peak {c['peak_rss_mb']:.0f} MB; normal"
                        f" 100-record requests meanwhile {c['normal_ok']:.0f}/"
                        f"{c['normal_n']:.0f} answered, median {c['normal_median_s']:.3f} s,"
                        f" slowest {c['normal_max_s']:.3f} s"
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=30)
            keys = ("rss_at_rest_mb", "peak_rss_mb", "hostile_max_s", "normal_median_s")
            medians = {k: statistics.median(r[k] for r in rounds) for k in keys}  # type: ignore[misc]
            medians["normal_max_s"] = max(r["normal_max_s"] for r in rounds)
            print(
                f"C. median of {len(rounds)} rounds: peak RSS {medians['peak_rss_mb']:.0f} MB"
                f" (at rest {medians['rss_at_rest_mb']:.0f} MB), hostile bodies answered within"
                f" {medians['hostile_max_s']:.2f} s, normal request median"
                f" {medians['normal_median_s']:.3f} s (slowest of all rounds"
                f" {medians['normal_max_s']:.3f} s)"
            )
            figures["c"] = medians
        if "P" in phases:
            figures["p"] = phase_p(model)
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
