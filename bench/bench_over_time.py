"""Drift, lineage and migration at scale, next to scoring the same rows.

1. Fits a k = 6 model on the bundled sample (not timed).
2. Synthesises ``--rows`` customers with the GUIDE recipe (``bench/_synth.py``), and a
   shifted copy (money columns x 3) (not timed).
3. Times, ``--runs`` times each, in this process:

   - ``score_customers(model, frame)``: the baseline, scoring the same rows in memory;
   - ``check_drift(model, frame)``: drift needs the scoring plus the binning of every
     feature, so the ratio to the baseline is its own cost;
   - ``align_segments(model, frame, labels)``: placing the segments of a new fit in the
     previous model's space (a stratified sample of 200,000 rows beyond that);
   - ``compare_scored(old, new)``: matching two scorings of ``--rows`` customers (5% of
     them gone, as many new) and counting the transitions.

Prints medians (and ranges) and the ratio of drift to scoring.

    .venv/bin/python bench/bench_over_time.py                  # 1,000,000 rows, 3 runs
    .venv/bin/python bench/bench_over_time.py --rows 200000 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from _synth import synthesise

MONEY = [
    "BALANCE",
    "PURCHASES",
    "ONEOFF_PURCHASES",
    "INSTALLMENTS_PURCHASES",
    "CASH_ADVANCE",
    "CREDIT_LIMIT",
    "PAYMENTS",
    "MINIMUM_PAYMENTS",
]


def _timed(label: str, runs: int, call: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"{label:<48} median {median:7.3f} s  (runs {min(times):.3f}-{max(times):.3f} s)")
    return median, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from custseg import fit_segments
    from custseg.engines.lineage import align_segments
    from custseg.scoring import check_drift, compare_scored, score_customers
    from custseg.sources import read_table, sample_path

    print(f"load average before: {os.getloadavg()[0]:.2f}; rows {args.rows:,}; runs {args.runs}")
    model = fit_segments(read_table(sample_path()), k=6, k_range=(6, 6), random_state=0)
    frame = synthesise(args.rows, random_state=0)
    shifted = frame.copy()
    shifted[MONEY] = shifted[MONEY] * 3

    base, scored = _timed(
        "score_customers (baseline)", args.runs, lambda: score_customers(model, frame)
    )
    drift, document = _timed(
        "check_drift, same population", args.runs, lambda: check_drift(model, frame)
    )
    _, shifted_document = _timed(
        "check_drift, money x 3", args.runs, lambda: check_drift(model, shifted)
    )
    labels = scored.scored["segment_id"].to_numpy()
    _timed(
        "align_segments (new fit -> previous space)",
        args.runs,
        lambda: align_segments(model, frame, labels),
    )

    old = scored.scored
    gone = old.sample(frac=0.05, random_state=1).index
    new = old.drop(index=gone).copy()
    joined = old.loc[gone].assign(CUST_ID=[f"J{i:09d}" for i in range(len(gone))])
    new = new.sample(frac=1.0, random_state=2)  # another order, as another file would have
    new = pd.concat([new, joined], ignore_index=True)
    _, migration = _timed(
        "compare_scored (two scorings)", args.runs, lambda: compare_scored(old, new)
    )

    print(f"drift / scoring: {drift / base:.2f}x")
    print(f"same population: {document['verdict']}")
    print(f"money x 3:       {shifted_document['verdict']}")
    summary = migration.summary
    print(f"migration: {summary['matched']:,} matched, {summary['only_new']:,} new")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
