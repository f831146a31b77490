"""Exact silhouette: custseg next to scikit-learn, in the same run.

Sizes: the bundled sample (8,950 rows, prepared by the package's preparation plan,
labels of a k=8 K-means), then 20,000 and 50,000 rows of 20 features in 8 segments
(``make_blobs``; the cost of an exact silhouette does not depend on the values). Each
size runs ``--runs`` times, scikit-learn and custseg interleaved, and prints the median
seconds, the ratio and the largest difference between the per-row values. scikit-learn
is skipped at 50,000 rows unless ``--sklearn-50k`` (it takes tens of seconds).

    .venv/bin/python bench/bench_silhouette.py
    .venv/bin/python bench/bench_silhouette.py --runs 5 --sklearn-50k
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np


def _seconds(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and CPU seconds (all threads of the process) of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - started, time.process_time() - cpu, result


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _sample_matrix() -> tuple[np.ndarray, np.ndarray]:
    from custseg.cluster.kmeans import fit_kmeans
    from custseg.prepare import check_rows, infer_schema
    from custseg.prepare.plan import PreparationPlan
    from custseg.sources import read_table, sample_path

    frame = read_table(sample_path())
    schema = infer_schema(frame)
    _, X = PreparationPlan.fit_transform(check_rows(frame, schema).frame, schema)
    return X, fit_kmeans(X, 8, random_state=0).labels


def _blobs(n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, n_features=20, centers=8, cluster_std=4.0, random_state=0)
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sklearn-50k", action="store_true")
    args = parser.parse_args()

    from sklearn.metrics import silhouette_samples

    from custseg.cluster.silhouette import silhouette_samples_exact

    cases = [("CC_GENERAL", *_sample_matrix()), ("blobs 20k", *_blobs(20_000))]
    cases.append(("blobs 50k", *_blobs(50_000)))
    silhouette_samples_exact(cases[0][1][:100], cases[0][2][:100])  # load lazy imports

    print(_load())
    print(
        f"{'data':<12} {'rows':>7} {'d':>3} {'k':>2}  {'sklearn s':>9}  {'custseg s':>9}  "
        f"{'ratio':>6}  {'cpu ratio':>9}  max |diff|"
    )
    for name, X, labels in cases:
        with_sklearn = X.shape[0] < 50_000 or args.sklearn_50k
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        difference = float("nan")
        for _ in range(args.runs):
            if with_sklearn:
                wall, cpu, reference = _seconds(partial(silhouette_samples, X, labels))
                theirs.append((wall, cpu))
            wall, cpu, values = _seconds(partial(silhouette_samples_exact, X, labels))
            ours.append((wall, cpu))
            if with_sklearn:
                difference = float(np.abs(values - reference).max())
        mine = statistics.median(w for w, _ in ours)
        mine_cpu = statistics.median(c for _, c in ours)
        head = f"{name:<12} {X.shape[0]:>7,} {X.shape[1]:>3} {len(np.unique(labels)):>2}  "
        if with_sklearn:
            base = statistics.median(w for w, _ in theirs)
            base_cpu = statistics.median(c for _, c in theirs)
            print(
                head + f"{base:>9.3f}  {mine:>9.3f}  {base / mine:5.1f}x  "
                f"{base_cpu / mine_cpu:8.1f}x  {difference:.1e}"
            )
        else:
            print(head + f"{'-':>9}  {mine:>9.3f}  {'-':>6}  {'-':>9}")
    print(
        f"medians of {args.runs} runs (wall clock; cpu = process CPU time, all threads); "
        "custseg uses up to 2 threads, scikit-learn its defaults"
    )
    print(_load())


if __name__ == "__main__":
    main()
