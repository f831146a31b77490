"""The exported scoring query on a real PostgreSQL server: rows/s and agreement with Python.

Starts a throwaway PostgreSQL (tests/_postgres.py; Debian's binaries, see
scripts/ensure-postgresql.sh), loads ``--rows`` synthetic customers (bench/_synth.py),
fits a k = 8 model on the bundled sample and runs ``export_sql(model, "postgres")`` as
``CREATE UNLOGGED TABLE ... AS <query>`` (every row and column computed on the server).
Prints rows/s (median of ``--runs``), the share of customers that get the same segment
as Python scoring, and, on ``--inline-rows`` rows, the same query with the CTEs left to
PostgreSQL's inlining (without ``MATERIALIZED``): the trap the dialect entry avoids.

    .venv/bin/python bench/bench_sql_postgres.py                   # 1,000,000 rows
    .venv/bin/python bench/bench_sql_postgres.py --rows 200000 --runs 3
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _postgres import load_frame, postgres_server  # noqa: E402
from _synth import synthesise  # noqa: E402
from custseg.pipeline import fit_segments  # noqa: E402
from custseg.scoring.batch import score_customers  # noqa: E402
from custseg.scoring.sqlexport import export_sql  # noqa: E402
from custseg.sources import read_table, sample_path  # noqa: E402


def copy_frame(server, frame, table: str) -> None:  # type: ignore[no-untyped-def]
    """Bulk load through COPY ... FROM STDIN (CSV), much faster than row by row."""
    load_frame(server, frame.head(0), table)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    data = buffer.getvalue().encode()
    names = ", ".join(f'"{name}"' for name in frame.columns)
    with server.connect() as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])
        cursor.execute(f"ANALYZE {table}")


def timed(server, sql: str) -> float:  # type: ignore[no-untyped-def]
    with server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS scored")
        start = time.perf_counter()
        cursor.execute(f"CREATE UNLOGGED TABLE scored AS {sql.split(chr(10), 1)[1]}")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inline-rows", type=int, default=300)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    sample = read_table(sample_path())
    model = fit_segments(sample, k=8, k_range=(8, 8), random_state=0)
    frame = synthesise(args.rows, random_state=0)
    frame["CUST_ID"] = [f"S{i:08d}" for i in range(len(frame))]
    sql = export_sql(model, dialect="postgres", table="customers")
    inlined = sql.replace(" AS MATERIALIZED (", " AS (")
    with postgres_server() as server:
        start = time.perf_counter()
        copy_frame(server, frame, "customers")
        print(f"loaded {args.rows:,} rows in {time.perf_counter() - start:.1f} s")
        seconds = [timed(server, sql) for _ in range(args.runs)]
        median = statistics.median(seconds)
        with server.connect() as connection, connection.cursor() as cursor:
            cursor.execute('SELECT "CUST_ID", segment_id FROM scored')
            got = dict(cursor.fetchall())
        expected = score_customers(model, frame).scored
        pairs = zip(expected["CUST_ID"], expected["segment_id"], strict=True)
        same = np.mean([got[i] == s for i, s in pairs])
        print(
            f"postgres export, {args.rows:,} rows: median {median:.2f} s of {args.runs}"
            f" ({', '.join(f'{s:.2f}' for s in seconds)}) = {args.rows / median:,.0f} rows/s;"
            f" same segment as Python for {same:.4%} of customers"
        )
        copy_frame(server, frame.head(args.inline_rows), "few")
        few_materialized = timed(server, sql.replace('"customers"', '"few"'))
        few_inlined = timed(server, inlined.replace('"customers"', '"few"'))
        print(
            f"{args.inline_rows} rows: MATERIALIZED CTEs {few_materialized:.3f} s, inlined CTEs"
            f" {few_inlined:.2f} s ({args.inline_rows / few_inlined:,.0f} rows/s,"
            f" {few_inlined / few_materialized:,.0f}x slower)"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
