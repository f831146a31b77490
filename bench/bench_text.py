"""Spreadsheet-formula neutralisation of a scored chunk: its cost next to writing the CSV.

A table shaped like ``custseg score``'s output (text identifiers, segment id, a
dictionary-encoded segment name, distance, runner-up, margin) of ``--rows`` rows is
neutralised with :func:`custseg._utils.text.neutralise_formulas_arrow` three ways:

- ``clean``: no cell starts like a formula (the common case: the same table comes back);
- ``hostile``: 1 row in 100 has an identifier such as ``=1+1`` (a new id column is built);
- ``regex``: the obvious alternative, ``pyarrow.compute.match_substring_regex`` on the
  text columns, for comparison (detection only).

Each is timed ``--runs`` times, interleaved with writing the same table to CSV with
Arrow's writer (to /dev/null-like memory), and the script prints medians and the ratio
of each to the CSV write.

    .venv/bin/python bench/bench_text.py
    .venv/bin/python bench/bench_text.py --rows 5000000 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from custseg._utils.text import neutralise_formulas_arrow


def _table(rows: int, hostile_every: int | None) -> pa.Table:
    rng = np.random.default_rng(0)
    ids = np.char.add("C", np.arange(rows).astype("U9"))
    if hostile_every:
        ids[::hostile_every] = "=1+1"
    segment = rng.integers(0, 6, rows).astype(np.int32)
    names = pa.array([f"Segment {i}" for i in range(6)])
    return pa.table(
        {
            "CUST_ID": pa.array(ids, pa.large_string()),
            "segment_id": segment,
            "segment_name": pa.DictionaryArray.from_arrays(pa.array(segment), names),
            "distance": rng.random(rows),
            "runner_up_id": (segment + 1) % 6,
            "margin": rng.random(rows) - 0.5,
        }
    )


def _regex(table: pa.Table) -> Any:
    pattern = "^[=+\\-@\\t\\r]"
    return [
        pc.match_substring_regex(column, pattern)
        for column in table.columns
        if pa.types.is_large_string(column.type) or pa.types.is_string(column.type)
    ]


def _csv(table: pa.Table) -> None:
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink)


def _median_seconds(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    clean = _table(args.rows, None)
    hostile = _table(args.rows, 100)
    assert neutralise_formulas_arrow(clean) is clean
    assert neutralise_formulas_arrow(hostile)["CUST_ID"][0].as_py() == "'=1+1"
    contenders: dict[str, Callable[[], Any]] = {
        "clean": lambda: neutralise_formulas_arrow(clean),
        "hostile (1%)": lambda: neutralise_formulas_arrow(hostile),
        "regex detection": lambda: _regex(clean),
        "CSV write": lambda: _csv(clean),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.runs):
        for name, function in contenders.items():
            times[name].append(_median_seconds(function))
    write = statistics.median(times["CSV write"])
    print(f"{args.rows:,} rows, {args.runs} runs, medians:")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:16s} {1000 * median:9.2f} ms  ({min(values) * 1000:.2f}-"
            f"{max(values) * 1000:.2f})  {median / write:7.4f}x the CSV write"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
