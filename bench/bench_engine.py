"""The engine at scale: assignment throughput, the K-means engines, and one million rows.

1. ``assign``: 5,000,000 rows x 20 features (float64) to 8 centroids, ``--runs`` times;
   median seconds and rows per second.
2. K-means engines on ``--rows`` synthesised customers (``bench/_synth.py``, prepared
   by the package's preparation plan), k = 8: Lloyd on all rows, MiniBatch, and Lloyd on
   a sample of 3,000 rows per centroid then assign all; seconds, inertia and the
   reported ``inertia_gap``.
3. The engine part of ``custseg fit`` on ``--rows`` customers, in a fresh process:
   ``choose_n_clusters`` (on a 20,000-row sample), the final fit on a sample, the
   assignment of every row and ``evaluate_segmentation``; seconds per step and the
   peak resident memory of the process (synthesis and preparation included).

    .venv/bin/python bench/bench_engine.py
    .venv/bin/python bench/bench_engine.py --rows 1000000 --runs 5 --skip-engines
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _prepared(n_rows: int) -> tuple[np.ndarray, float]:
    sys.path.insert(0, str(HERE))
    from _synth import synthesise
    from custseg.prepare import check_rows, infer_schema
    from custseg.prepare.plan import PreparationPlan

    frame = synthesise(n_rows, random_state=0)
    started = time.perf_counter()
    schema = infer_schema(frame)
    _, X = PreparationPlan.fit_transform(check_rows(frame, schema).frame, schema)
    return X, time.perf_counter() - started


def bench_assign(runs: int) -> None:
    from custseg.cluster.kmeans import assign

    rng = np.random.default_rng(0)
    X = rng.normal(size=(5_000_000, 20))
    centroids = rng.normal(size=(8, 20))
    assign(X[:10_000], centroids)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assign(X, centroids)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"assign 5,000,000 x 20 to 8 centroids: {median:.2f} s "
        f"= {X.shape[0] / median / 1e6:.1f}M rows/s (median of {runs})"
    )


def bench_engines(n_rows: int) -> None:
    from custseg.cluster.kmeans import fit_kmeans

    X, _ = _prepared(n_rows)
    print(f"K-means k=8 on {n_rows:,} prepared rows x {X.shape[1]} features:")
    results = {}
    for name, options in (
        ("lloyd, all rows, n_init=4", {"engine": "lloyd"}),
        ("minibatch, n_init=4", {"engine": "minibatch"}),
        ("sample (3,000/centroid) + assign", {"sample_size": "auto"}),
    ):
        started = time.perf_counter()
        fit = fit_kmeans(X, 8, n_init=4, random_state=0, **options)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        results[name] = fit.inertia
        gap = "-" if fit.inertia_gap is None else f"{fit.inertia_gap:.2%}"
        print(
            f"  {name:<34} {seconds:6.2f} s  inertia {fit.inertia:,.0f}  "
            f"reported gap {gap}  fitted on {fit.fit_rows:,} rows"
        )
    full = results["lloyd, all rows, n_init=4"]
    for name, inertia in results.items():
        print(f"  {name:<34} inertia vs Lloyd on all rows: {inertia / full - 1:+.2%}")


def child_pipeline(n_rows: int) -> dict[str, float]:
    from custseg.cluster.evaluation import evaluate_segmentation
    from custseg.cluster.kmeans import fit_kmeans
    from custseg.cluster.selection import choose_n_clusters

    X, prepare_seconds = _prepared(n_rows)
    seconds = {"prepare (not the engine)": prepare_seconds}
    started = time.perf_counter()
    selection = choose_n_clusters(X, random_state=0)
    seconds["choose_n_clusters"] = time.perf_counter() - started
    for part, value in selection.timings.items():
        seconds[f"  of which {part}"] = value
    k = selection.recommended_k
    started = time.perf_counter()
    fit = fit_kmeans(X, k, random_state=0, sample_size="auto")
    seconds["fit_kmeans (sample + assign all)"] = time.perf_counter() - started
    started = time.perf_counter()
    evaluate_segmentation(
        X, fit.labels, fit.centroids, random_state=0, stability=selection.stability_for(k)
    )
    seconds["evaluate_segmentation"] = time.perf_counter() - started
    seconds["engine total"] = sum(
        v for name, v in seconds.items() if "not the engine" not in name and "of which" not in name
    )
    seconds["k"] = k
    seconds["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds


def bench_pipeline(n_rows: int) -> None:
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(n_rows)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    print(f"engine of `custseg fit` on {n_rows:,} customers (fresh process, k={result['k']}):")
    for name, value in result.items():
        if name in ("k", "peak_rss_mb"):
            continue
        print(f"  {name:<36} {value:6.2f} s")
    print(f"  peak resident memory of the process   {result['peak_rss_mb']:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-engines", action="store_true")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child_pipeline(args.child)))
        return
    print(_load())
    bench_assign(args.runs)
    if not args.skip_engines:
        bench_engines(args.rows)
    bench_pipeline(args.rows)
    print(_load())


if __name__ == "__main__":
    main()
