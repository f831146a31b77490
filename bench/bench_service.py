"""Throughput, latency and memory of the scoring service on loopback.

Starts the real ``custseg serve`` process on a free 127.0.0.1 port and, for each number
of workers (``--workers``, default 1 and 2), each body size (``--records``, default 1
and 1,000 records) and each concurrency (``--concurrency``, default 1, 8, 32, 128),
sends requests from that many client threads (keep-alive connections, bodies encoded
beforehand so that the client spends as little CPU as possible). Prints requests/s,
p50 and p99 latency, errors and the server's peak resident memory (all its processes).
Each cell is bounded (``--requests`` per cell, ``--timeout`` seconds); medians of
``--runs`` runs.

    .venv/bin/python bench/bench_service.py                 # fits a k=8 model first
    .venv/bin/python bench/bench_service.py --model out/model.json --runs 3
    .venv/bin/python bench/bench_service.py --workers 1 --records 100 --concurrency 8
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _service_kit import bodies, fit_model, free_port, rss_mb, start_server  # noqa: E402


def run_once(
    port: int, payloads: list[bytes], n_requests: int, concurrency: int, timeout: float
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n_requests))
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = payloads[i % len(payloads)]
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/score", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200 and data.startswith(b'{"model"')
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - start)
            failed += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    lat = np.asarray(latencies) * 1000
    return {
        "requests": float(len(latencies)),
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "errors": float(errors + (n_requests - len(latencies))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=None, help="per cell (default by size)")
    parser.add_argument("--records", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or fit_model(Path(tmp))
        for workers in args.workers:
            port = free_port()
            server = start_server(model, port, "--workers", str(workers))
            try:
                for n_records in args.records:
                    payloads = bodies(20, n_records, seed=0)
                    n_requests = args.requests or (2000 if n_records <= 100 else 300)
                    for concurrency in args.concurrency:
                        run_once(port, payloads, 2 * concurrency, concurrency, args.timeout)
                        peak = rss_mb(server.pid)
                        runs = []
                        for _ in range(args.runs):
                            runs.append(
                                run_once(port, payloads, n_requests, concurrency, args.timeout)
                            )
                            peak = max(peak, rss_mb(server.pid))
                        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                        errors = sum(r["errors"] for r in runs)
                        rows.append((workers, n_records, concurrency, median, errors, peak))
                        print(
                            f"workers {workers}, {n_records:>5} records, concurrency"
                            f" {concurrency:>3}: {median['requests_per_s']:7.0f} req/s,"
                            f" p50 {median['p50_ms']:7.1f} ms, p99 {median['p99_ms']:7.1f} ms,"
                            f" errors {errors:.0f}, peak RSS {peak:.0f} MB"
                            f" (load {os.getloadavg()[0]:.1f})",
                            flush=True,
                        )
            finally:
                server.terminate()
                server.wait(timeout=30)
    print("\n| workers | records | concurrency | req/s | p50 ms | p99 ms | errors | peak RSS MB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for workers, n_records, concurrency, median, errors, peak in rows:
        print(
            f"| {workers} | {n_records:,} | {concurrency} | {median['requests_per_s']:,.0f} |"
            f" {median['p50_ms']:.1f} | {median['p99_ms']:.1f} | {errors:.0f} | {peak:,.0f} |"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
