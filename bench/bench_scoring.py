"""Batch scoring end to end, next to scikit-learn's KMeans.predict, and the SQL export at scale.

1. Fits a k=8 model on the bundled sample (or takes ``--model``).
2. Synthesises ``--rows`` customers with the GUIDE recipe (``bench/_synth.py``) into a
   Parquet file (not timed).
3. Runs ``custseg.scoring.batch.score_file`` Parquet -> Parquet ``--runs`` times, each in a
   fresh process, and reports rows/s and the peak resident memory of that process.
4. In another fresh process, prepares the same rows once and times
   ``sklearn.cluster.KMeans.predict`` and ``custseg.cluster.kmeans.assign`` on that matrix
   (same centroids), checking that both give the same labels.
5. Runs the DuckDB query of ``custseg.scoring.sqlexport.export_sql`` over the first
   ``--sql-rows`` rows of the Parquet file and compares its segments with step 3's
   output (agreement, rows/s).

    .venv/bin/python bench/bench_scoring.py                   # 5M rows, 3 runs, 1M SQL rows
    .venv/bin/python bench/bench_scoring.py --rows 1000000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _peak_rss_mb() -> float:
    # VmHWM is the peak resident memory of this process image. ru_maxrss would also
    # count the parent's peak before exec (Linux keeps it across execve).
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_score(model: Path, source: Path, out: Path, chunk_size: int) -> dict[str, float]:
    from custseg import load_model
    from custseg.scoring.batch import score_file

    loaded = load_model(model)
    start = time.perf_counter()
    cpu_start = time.process_time()
    summary = score_file(loaded, source, out, chunk_size=chunk_size)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {
        "rows": summary.rows_in,
        "scored": summary.scored,
        "seconds": seconds,
        "rows_per_s": summary.rows_in / seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_predict(model: Path, source: Path) -> dict[str, float]:
    import pyarrow.parquet as pq
    from sklearn.cluster import KMeans

    from custseg import load_model
    from custseg.cluster.kmeans import assign
    from custseg.prepare.plan import PreparationPlan
    from custseg.sources import iter_table

    loaded = load_model(model)
    plan = PreparationPlan.from_dict(loaded.preparation)
    n = pq.read_metadata(source).num_rows
    X = np.empty((n, len(plan.feature_names)))
    start = 0
    for chunk in iter_table(source, chunk_size=500_000):
        X[start : start + len(chunk)] = plan.transform(chunk)
        start += len(chunk)
    C = loaded.centroid_array
    # A fitted estimator whose centroids are then set to the model's (predict reads them).
    km = KMeans(n_clusters=len(C), init=C, n_init=1, max_iter=1).fit(C)
    km.cluster_centers_ = C.copy()
    t = time.perf_counter()
    sk_labels = km.predict(X)
    sk_seconds = time.perf_counter() - t
    t = time.perf_counter()
    ours = assign(X, C)
    our_seconds = time.perf_counter() - t
    return {
        "rows": n,
        "sklearn_predict_rows_per_s": n / sk_seconds,
        "assign_rows_per_s": n / our_seconds,
        "labels_equal": float(np.mean(sk_labels == ours.labels)),
    }


def child_sql(model: Path, source: Path, scored: Path, rows: int) -> dict[str, float]:
    import duckdb

    from custseg import load_model
    from custseg.scoring.sqlexport import export_sql

    sql = export_sql(load_model(model), dialect="duckdb", table="customers")
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW customers AS SELECT * FROM read_parquet('{source}') LIMIT {rows}")
        t = time.perf_counter()
        con.execute(f"CREATE TABLE by_sql AS {sql}")
        seconds = time.perf_counter() - t
        con.execute(f"CREATE VIEW by_python AS SELECT * FROM read_parquet('{scored}')")
        compared, agree, near_ties = con.execute(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE s.segment_id = p.segment_id),
                   count(*) FILTER (WHERE s.segment_id <> p.segment_id AND p.margin < 1e-9)
            FROM by_sql s JOIN by_python p USING (CUST_ID)
            """
        ).fetchone()
    return {
        "rows": compared,
        "sql_rows_per_s": compared / seconds,
        "agreement": agree / compared,
        "disagreements_at_ties": near_ties,
    }


def _child(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"bench step {args[0]} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _prepare(folder: Path, n_rows: int, model: Path | None) -> tuple[Path, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(HERE))
    from _synth import synthesise
    from custseg import save_model
    from custseg.pipeline import fit_segments
    from custseg.sources import read_table, sample_path

    if model is None:
        fitted = fit_segments(read_table(sample_path()), k=8, k_range=(8, 8), random_state=0)
        model = save_model(fitted, folder / "model.json")
    source = folder / "customers.parquet"
    writer = None
    step = 1_000_000
    for i, start in enumerate(range(0, n_rows, step)):
        frame = synthesise(min(step, n_rows - start), random_state=i)
        frame["CUST_ID"] = [f"S{start + j:09d}" for j in range(len(frame))]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(source, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    return model, source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=200_000)
    parser.add_argument("--sql-rows", type=int, default=1_000_000)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--child", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "score":
            result = child_score(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]))
        elif kind == "predict":
            result = child_predict(Path(rest[0]), Path(rest[1]))
        else:
            result = child_sql(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        model, source = _prepare(folder, args.rows, args.model)
        print(f"prepared {args.rows:,} synthetic customers in {time.perf_counter() - t:.1f} s")
        out = folder / "scored.parquet"
        runs = []
        for i in range(args.runs):
            run = _child("score", str(model), str(source), str(out), str(args.chunk_size))
            runs.append(run)
            print(
                f"score_file run {i + 1}: {run['rows']:,.0f} rows in {run['seconds']:.2f} s"
                f" ({run['cpu_seconds']:.2f} s CPU), {run['rows_per_s'] / 1e6:.2f}M rows/s,"
                f" peak RSS {run['peak_rss_mb']:.0f} MB"
            )
        predict = _child("predict", str(model), str(source))
        sql = _child("sql", str(model), str(source), str(out), str(args.sql_rows))

    rate = statistics.median(r["rows_per_s"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    rss = max(r["peak_rss_mb"] for r in runs)
    load = os.getloadavg()[0]
    print(
        f"score_file Parquet -> Parquet, median of {len(runs)} runs: {rate / 1e6:.2f}M rows/s,"
        f" {cpu:.2f} s CPU, largest peak RSS {rss:.0f} MB (chunk size {args.chunk_size:,};"
        f" load average {load:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"same prepared matrix ({predict['rows']:,.0f} rows): sklearn KMeans.predict"
        f" {predict['sklearn_predict_rows_per_s'] / 1e6:.2f}M rows/s, custseg assign"
        f" {predict['assign_rows_per_s'] / 1e6:.2f}M rows/s, same labels"
        f" {predict['labels_equal']:.2%}"
    )
    print(
        f"DuckDB export_sql over {sql['rows']:,.0f} rows: {sql['sql_rows_per_s'] / 1e6:.2f}M"
        f" rows/s, agreement with Python {sql['agreement']:.4%}"
        f" ({sql['disagreements_at_ties']:.0f} disagreements at ties)"
    )


if __name__ == "__main__":
    main()
