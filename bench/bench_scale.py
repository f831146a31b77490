"""Beyond memory: the stream and Spark engines at 1M / 5M / 10M rows, scoring at scale.

Synthesises customers with the GUIDE's recipe (``bench/_synth.py``) into Parquet files
(1,000,000 rows per row group, not timed), then, each in a fresh process whose wall time
and peak resident memory (``ru_maxrss`` of the child) are measured:

1. ``custseg fit --engine stream --no-report`` at every ``--rows`` size, ``--runs`` times
   (medians), and ``--engine memory`` at 1,000,000 rows for reference; the ratio of peak
   memory at the largest size to that at 1,000,000 rows;
2. the inertia gap of the stream fit at 1,000,000 rows: its centroids against a full
   Lloyd K-means (k-means++, 4 starts) on all 1,000,000 prepared rows, same plan and k;
3. with ``--parts spark``: ``custseg fit --engine spark --spark-master local[2]`` at
   every size, k = 6 (``--spark-sweep``: k = 2..10); the peak is the driver's Python
   process (the JVM's heap is bounded by ``spark.driver.memory``);
4. ``custseg score`` Parquet -> Parquet: peak memory at the largest size, and at
   ``--score-rows`` (5,000,000) rows, alternating, ``--runs`` times: custseg, DuckDB
   running custseg's exported query (``COPY ... TO`` Parquet) and the pyarrow I/O floor
   (read the input, write six columns of the same types, no computation: custseg writes
   eight, with ``distance_percentile`` and ``flags``, and counts repeated identifiers);
   then one run with ``--reject duplicate_id`` (repeats looked up while streaming), and
   ``score_file`` in the benchmark's own process after a warm-up call, as DuckDB runs;
5. with ``--parts stages``: where scoring's CPU goes, stage by stage (read, check and
   prepare, assign, write) run one after the other over the ``--score-rows`` file, CPU
   seconds of the whole process (Arrow's reader threads included) per stage.

    .venv/bin/python bench/bench_scale.py                     # stream and score; 1M, 5M, 10M
    .venv/bin/python bench/bench_scale.py --parts spark --runs 1 --rows 1000000 5000000
    .venv/bin/python bench/bench_scale.py --parts stages --rows 5000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_RUN = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    " code)\n"
)


def _load() -> str:
    return "load average " + ", ".join(f"{v:.1f}" for v in os.getloadavg())


def measured(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    seconds, peak_kb, code = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    return float(seconds), int(peak_kb) / 1024


def synthesise_parquet(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from _synth import synthesise

    writer = None
    step = 1_000_000
    for i, start in enumerate(range(0, rows, step)):
        frame = synthesise(min(step, rows - start), random_state=i)
        frame["CUST_ID"] = [f"S{start + j:09d}" for j in range(len(frame))]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def inertia_gap(model_path: Path, data: Path) -> dict[str, float]:
    """The stream model's centroids against a full Lloyd fit on every prepared row."""
    from custseg import load_model, read_table
    from custseg.cluster.kmeans import assign, lloyd
    from custseg.prepare import PreparationPlan

    model = load_model(model_path)
    X = PreparationPlan.from_dict(model.preparation).transform(read_table(data))
    ours = assign(X, model.centroid_array).distance
    started = time.perf_counter()
    full, _ = lloyd(X, model.k, 4, np.random.default_rng(0))
    seconds = time.perf_counter() - started
    theirs = assign(X, full).distance
    return {
        "k": model.k,
        "stream_inertia": float(ours @ ours),
        "full_inertia": float(theirs @ theirs),
        "gap": float((ours @ ours) / (theirs @ theirs) - 1.0),
        "full_fit_seconds": seconds,
        "reported_gap": model.metrics.get("inertia_gap"),
    }


def _score_rates(folder: Path, data: Path, rows: int, runs: int) -> None:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from custseg import fit_segments, load_model, read_table, save_model
    from custseg.scoring import export_sql
    from custseg.sources import sample_path

    model_path = folder / "k8.json"
    save_model(
        fit_segments(read_table(sample_path()), k=8, k_range=(8, 8), random_state=0),
        model_path,
    )
    script = str(Path(sys.executable).with_name("custseg"))
    sql = export_sql(load_model(model_path), dialect="duckdb", table="customers")
    out = folder / "scored.parquet"
    times: dict[str, list[float]] = {"custseg": [], "duckdb": [], "floor": []}
    peaks: list[float] = []
    for _ in range(runs):
        seconds, peak = measured(
            [
                script,
                "--quiet",
                "score",
                "--model",
                str(model_path),
                "--input",
                str(data),
                "--out",
                str(out),
            ]
        )
        times["custseg"].append(seconds)
        peaks.append(peak)
        with duckdb.connect() as con:
            con.execute(f"CREATE VIEW customers AS SELECT * FROM read_parquet('{data}')")
            started = time.perf_counter()
            con.execute(f"COPY ({sql}) TO '{folder / 'duck.parquet'}' (FORMAT parquet)")
            times["duckdb"].append(time.perf_counter() - started)
        started = time.perf_counter()
        source = pq.ParquetFile(data, pre_buffer=False, buffer_size=1 << 20)
        writer = None
        for batch in source.iter_batches(batch_size=200_000):
            distance = batch.column(1).to_numpy(zero_copy_only=False)
            labels = pa.array(np.zeros(len(batch), dtype=np.int64))
            table = pa.table(
                {
                    "CUST_ID": batch.column(0),
                    "segment_id": labels,
                    "segment_name": labels.cast(pa.string()),
                    "distance": distance,
                    "runner_up_id": labels,
                    "margin": distance,
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(folder / "floor.parquet", table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
        times["floor"].append(time.perf_counter() - started)
        print(
            f"    run: custseg {times['custseg'][-1]:.2f} s, DuckDB {times['duckdb'][-1]:.2f} s,"
            f" pyarrow floor {times['floor'][-1]:.2f} s ({_load()})",
            flush=True,
        )
    med = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"(4) score {rows:,} rows Parquet -> Parquet, medians of {runs}:"
        f" custseg {rows / med['custseg'] / 1e6:.2f}M rows/s (peak RSS {max(peaks):.0f} MB),"
        f" DuckDB exported query {rows / med['duckdb'] / 1e6:.2f}M rows/s,"
        f" pyarrow read+write floor {rows / med['floor'] / 1e6:.2f}M rows/s"
    )
    print(
        f"    custseg / DuckDB speed {med['duckdb'] / med['custseg']:.2f}x;"
        f" custseg takes {med['custseg'] / med['floor']:.2f}x the I/O floor's time ({_load()})"
    )
    written = pq.read_schema(out)
    assert written.names[-2:] == ["distance_percentile", "flags"], written.names
    flags = pq.read_table(out, columns=["flags"]).column(0)
    print(
        f"    the scored file: {len(written.names)} columns, {flags.length() - flags.null_count:,}"
        f" rows flagged out_of_profile ({1 - flags.null_count / flags.length():.2%})"
    )
    seconds, _ = measured(
        [
            script,
            "--quiet",
            "score",
            "--model",
            str(model_path),
            "--input",
            str(data),
            "--out",
            str(out),
            "--reject",
            "duplicate_id",
        ]
    )
    print(
        f"    custseg score --reject duplicate_id: {seconds:.2f} s, {seconds / med['custseg']:.2f}x"
        f" the median custseg run ({_load()})"
    )
    # The same scoring in this process after imports and one warm-up call, as DuckDB and
    # the floor run above: what a fresh `custseg score` process adds is its start.
    from custseg.scoring import score_file

    model = load_model(model_path)
    score_file(model, data, folder / "warm.parquet")
    inside = []
    for _ in range(runs):
        started = time.perf_counter()
        score_file(model, data, folder / "inside.parquet")
        inside.append(time.perf_counter() - started)
    median = statistics.median(inside)
    print(
        f"    score_file in this process (after imports and a warm-up), medians of {runs}:"
        f" {rows / median / 1e6:.2f}M rows/s, {med['duckdb'] / median:.2f}x DuckDB's speed;"
        f" a fresh custseg process adds {med['custseg'] - median:.2f} s ({_load()})"
    )


def _score_stages(folder: Path, data: Path, rows: int, runs: int) -> None:
    from custseg import fit_segments, load_model, read_table, save_model
    from custseg._utils.numeric import single_threaded_blas
    from custseg.scoring.outputs import scored_table
    from custseg.scoring.scorer import Scorer
    from custseg.scoring.writer import ChunkWriter
    from custseg.sources import sample_path
    from custseg.sources.files import iter_arrow

    model_path = folder / "k8.json"
    if not model_path.exists():
        model = fit_segments(read_table(sample_path()), k=8, k_range=(8, 8), random_state=0)
        save_model(model, model_path)
    scorer = Scorer(load_model(model_path))
    stages = ("read", "check and prepare", "assign", "build and write")
    seconds: dict[str, list[float]] = {stage: [] for stage in stages}
    for _ in range(runs):
        cpu = dict.fromkeys(stages, 0.0)
        out = folder / "stages.parquet"
        out.unlink(missing_ok=True)
        writer = ChunkWriter(out, "parquet")
        chunks = iter_arrow(data, 200_000)
        first_row = 1
        with single_threaded_blas():
            while True:
                started = time.process_time()
                table = next(chunks, None)
                cpu["read"] += time.process_time() - started
                if table is None:
                    break
                started = time.process_time()
                prepared = scorer.prepare_table(table)
                cpu["check and prepare"] += time.process_time() - started
                started = time.process_time()
                chunk = scorer.assign_prepared(prepared)
                cpu["assign"] += time.process_time() - started
                started = time.process_time()
                writer.write(
                    scored_table(scorer, table, chunk, first_row=first_row, keep_columns=False)
                )
                cpu["build and write"] += time.process_time() - started
                first_row += table.num_rows
        writer.close()
        for stage in stages:
            seconds[stage].append(cpu[stage])
    shown = ", ".join(f"{stage} {statistics.median(seconds[stage]):.2f}" for stage in stages)
    total = sum(statistics.median(values) for values in seconds.values())
    print(
        f"(5) scoring CPU seconds per stage, {rows:,} rows, one stage at a time, medians of"
        f" {runs}: {shown}; {total:.2f} in all ({_load()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["stream", "spark", "score", "stages"],
        default=["stream", "score"],
        help="what to measure (spark: the Spark engine in local[2] mode)",
    )
    parser.add_argument(
        "--spark-sweep",
        action="store_true",
        help="Spark fits sweep k = 2..10 (default: k = 6 only, one MLlib fit of 4 starts)",
    )
    parser.add_argument("--score-rows", type=int, default=5_000_000)
    parser.add_argument("--folder", type=Path, default=None, help="keep the data here")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, {_load()}")
    script = str(Path(sys.executable).with_name("custseg"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for rows in sorted({*args.rows, 1_000_000, args.score_rows}):
            path = folder / f"customers_{rows}.parquet"
            if not path.exists():
                started = time.perf_counter()
                synthesise_parquet(path, rows)
                print(f"synthesised {rows:,} rows in {time.perf_counter() - started:.0f} s")
            files[rows] = path

        peaks: dict[int, float] = {}
        for rows in sorted(args.rows) if "stream" in args.parts else []:
            out = folder / f"stream_{rows}"
            runs = [
                measured(
                    [
                        script,
                        "--quiet",
                        "fit",
                        "--engine",
                        "stream",
                        "--input",
                        str(files[rows]),
                        "--out",
                        str(out),
                        "--no-report",
                    ]
                )
                for _ in range(args.runs)
            ]
            seconds = statistics.median(r[0] for r in runs)
            peaks[rows] = statistics.median(r[1] for r in runs)
            metrics = json.loads((out / "metrics.json").read_text())
            print(
                f"(1) stream fit {rows:,} rows: {seconds:.1f} s (runs"
                f" {', '.join(f'{r[0]:.1f}' for r in runs)}), peak RSS {peaks[rows]:.0f} MB,"
                f" k = {metrics['k']} ({_load()})",
                flush=True,
            )
        memory = (
            []
            if "stream" not in args.parts
            else [
                measured(
                    [
                        script,
                        "--quiet",
                        "fit",
                        "--engine",
                        "memory",
                        "--input",
                        str(files[1_000_000]),
                        "--out",
                        str(folder / "memory"),
                        "--no-report",
                    ]
                )
                for _ in range(args.runs)
            ]
        )
        if memory:
            print(
                f"    memory fit 1,000,000 rows: {statistics.median(r[0] for r in memory):.1f} s,"
                f" peak RSS {statistics.median(r[1] for r in memory):.0f} MB ({_load()})"
            )
        if 1_000_000 in peaks:
            largest = max(peaks)
            print(
                f"    peak memory {largest:,} rows / 1,000,000 rows (stream):"
                f" {peaks[largest] / peaks[1_000_000]:.2f}x"
            )
        if "stream" in args.parts:
            gap = inertia_gap(folder / "stream_1000000" / "model.json", files[1_000_000])
            print(
                f"(2) inertia gap at 1,000,000 rows, k = {gap['k']}: stream fit"
                f" {gap['stream_inertia']:.6g} vs full Lloyd (4 starts,"
                f" {gap['full_fit_seconds']:.1f} s) {gap['full_inertia']:.6g}: {gap['gap']:+.3%}"
                f" (the model's own estimate: {gap['reported_gap']:+.3%})"
            )
        if "spark" in args.parts:
            env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
            k = [] if args.spark_sweep else ["--k", "6", "--k-range", "6-6"]
            for rows in sorted(args.rows):
                seconds, peak = measured(
                    [
                        script,
                        "--quiet",
                        "fit",
                        "--engine",
                        "spark",
                        "--spark-master",
                        "local[2]",
                        "--input",
                        str(files[rows]),
                        "--out",
                        str(folder / f"spark_{rows}"),
                        "--no-report",
                        *k,
                    ],
                    env=env,
                )
                metrics = json.loads((folder / f"spark_{rows}" / "metrics.json").read_text())
                print(
                    f"(3) Spark local[2] fit {rows:,} rows: {seconds:.1f} s, driver peak RSS"
                    f" {peak:.0f} MB, k = {metrics['k']} ({_load()})",
                    flush=True,
                )
        if "score" in args.parts:
            largest = max(args.rows)
            _score_rates(folder, files[args.score_rows], args.score_rows, args.runs)
            _, peak = measured(
                [
                    script,
                    "--quiet",
                    "score",
                    "--model",
                    str(folder / "k8.json"),
                    "--input",
                    str(files[largest]),
                    "--out",
                    str(folder / "scored_big.parquet"),
                ]
            )
            print(f"    custseg score {largest:,} rows: peak RSS {peak:.0f} MB ({_load()})")
        if "stages" in args.parts:
            _score_stages(folder, files[args.score_rows], args.score_rows, args.runs)


if __name__ == "__main__":
    main()
