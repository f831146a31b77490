"""Whole fits: ``fit_segments`` on the sample against the notebook way, and 1M customers.

Part (a), in one process after imports, alternately ``--runs`` times:

- the notebook way: median imputation + ``StandardScaler`` on the 17 raw columns, then
  for k in 2..10 scikit-learn ``KMeans(n_init=10)`` and the exact ``silhouette_score``
  on all rows;
- custseg: ``fit_segments`` on the raw table (schema, preparation, k 2..10 with inertia
  and knee, exact silhouette, Calinski-Harabasz, Davies-Bouldin, bootstrap stability,
  final model, evaluation, profiles, rules, names).

Part (b): ``custseg fit`` as a user runs it on 1,000,000 synthetic customers (the
GUIDE's recipe, ``bench/_synth.py``) from a CSV file, with k selection and without
the report, in a fresh process per run; wall time and peak resident memory.

    .venv/bin/python bench/bench_fit.py                 # both parts, 3 runs each
    .venv/bin/python bench/bench_fit.py --part a --runs 5
    .venv/bin/python bench/bench_fit.py --part b --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def _notebook_way(frame) -> None:  # type: ignore[no-untyped-def]
    from sklearn.cluster import KMeans
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    raw = frame.drop(columns=["CUST_ID"]).to_numpy(dtype=np.float64)
    X = StandardScaler().fit_transform(SimpleImputer(strategy="median").fit_transform(raw))
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(X)
        silhouette_score(X, labels)


def part_a(runs: int) -> None:
    from custseg import fit_segments, read_table
    from custseg.sources import sample_path

    frame = read_table(sample_path())
    start = time.perf_counter()
    fit_segments(frame)
    print(f"first custseg call (warm-up, not counted): {time.perf_counter() - start:.2f} s")
    notebook, custseg = [], []
    for _ in range(runs):
        start = time.perf_counter()
        _notebook_way(frame)
        notebook.append(time.perf_counter() - start)
        start = time.perf_counter()
        model = fit_segments(frame)
        custseg.append(time.perf_counter() - start)
    nb, cs = statistics.median(notebook), statistics.median(custseg)
    print(f"(a) CC_GENERAL, k = 2..10, {runs} runs, medians")
    print(f"    notebook way (KMeans n_init=10 + exact silhouette): {nb:.2f} s")
    print(f"    custseg fit_segments (every index + final model):   {cs:.2f} s")
    print(f"    ratio: custseg is {nb / cs:.1f}x faster; recommended k = {model.k}")


_PEAK = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    " code)\n"
)


def part_b(rows: int, runs: int) -> None:
    from _synth import synthesise

    script = Path(sys.executable).with_name("custseg")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "customers.csv"
        synthesise(rows, random_state=0).to_csv(data, index=False)
        size_mb = data.stat().st_size / 1e6
        times, peaks = [], []
        for run in range(runs):
            out = Path(tmp) / f"fit{run}"
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _PEAK,
                    str(script),
                    "--quiet",
                    "fit",
                    "--input",
                    str(data),
                    "--out",
                    str(out),
                    "--no-report",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds, peak_kb, code = done.stdout.split()
            if code != "0":
                raise SystemExit(f"custseg fit failed: {done.stderr}")
            times.append(float(seconds))
            peaks.append(int(peak_kb) / 1024)
        metrics = (out / "metrics.json").read_text()
    print(f"(b) custseg fit on {rows:,} synthetic customers ({size_mb:.0f} MB CSV), {runs} runs")
    print(
        f"    wall time median {statistics.median(times):.1f} s"
        f" (runs: {', '.join(f'{t:.1f}' for t in times)})"
    )
    print(
        f"    peak RSS median {statistics.median(peaks):.0f} MB"
        f" (runs: {', '.join(f'{p:.0f}' for p in peaks)})"
    )
    import json

    summary = json.loads(metrics)
    print(
        f"    k = {summary['k']}, smallest segment {min(summary['shares']):.1%},"
        f" engine {summary['engine']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["a", "b", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    if args.part in ("a", "both"):
        part_a(args.runs)
    if args.part in ("b", "both"):
        part_b(args.rows, args.runs)


if __name__ == "__main__":
    main()
