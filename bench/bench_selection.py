"""Choosing k on the bundled sample: ``choose_n_clusters`` next to the notebook way.

The notebook way: for k in 2..10, scikit-learn ``KMeans(n_init=10)`` and the exact
``silhouette_score`` on all rows (no stability, no other index). custseg: the whole
``choose_n_clusters`` (k 2..10, 4 starts per k, inertia and knee, exact silhouette,
Calinski-Harabasz, Davies-Bouldin, stability from 5 bootstrap refits per k). Both run
on the sample prepared by the package's preparation plan, alternately, ``--runs``
times in one process; the script prints the medians, the ratio and custseg's median
time per part. The first custseg call (imports, thread pools) is timed separately.

    .venv/bin/python bench/bench_selection.py
    .venv/bin/python bench/bench_selection.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def _prepared() -> np.ndarray:
    from custseg.prepare import check_rows, infer_schema
    from custseg.prepare.plan import PreparationPlan
    from custseg.sources import read_table, sample_path

    frame = read_table(sample_path())
    schema = infer_schema(frame)
    _, X = PreparationPlan.fit_transform(check_rows(frame, schema).frame, schema)
    return X


def _notebook_way(X: np.ndarray, seed: int) -> dict[int, float]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    scores = {}
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X)
        scores[k] = float(silhouette_score(X, labels))
    return scores


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    from custseg.cluster.selection import choose_n_clusters

    X = _prepared()
    first = choose_n_clusters(X, random_state=0)
    cold = time.perf_counter() - started
    print(_load())
    print(f"data: {X.shape[0]:,} rows x {X.shape[1]} features (preparation plan)")
    print(f"first call, with imports and preparation: {cold:.2f} s")

    ours: list[float] = []
    theirs: list[float] = []
    parts: dict[str, list[float]] = {name: [] for name in first.timings}
    recommended = []
    for run in range(args.runs):
        t0 = time.perf_counter()
        _notebook_way(X, seed=run)
        theirs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        selection = choose_n_clusters(X, random_state=run)
        ours.append(time.perf_counter() - t0)
        for name, seconds in selection.timings.items():
            parts[name].append(seconds)
        recommended.append(selection.recommended_k)

    notebook, custseg = statistics.median(theirs), statistics.median(ours)
    print(f"notebook way (KMeans n_init=10 + silhouette_score, k 2..10): {notebook:.2f} s")
    print(f"choose_n_clusters (every index and stability, k 2..10):     {custseg:.2f} s")
    print(f"ratio: {notebook / custseg:.1f}x  (medians of {args.runs} runs)")
    print(
        "custseg parts (median s): "
        + ", ".join(f"{name} {statistics.median(v):.3f}" for name, v in parts.items())
    )
    print(f"recommended k per run: {recommended}")
    print(_load())


if __name__ == "__main__":
    main()
