"""Cost of the content checks a model load and a K-means start now run.

Prints medians and ratios:

- the walk that refuses numbers beyond float range and NUL characters
  (``custseg._utils.plain_json.unsafe_value``) against the whole ``model_from_json``
  of a model of the bundled sample (k = 4, 17 features);
- the look for fewer distinct rows than k (``custseg.cluster.kmeans``) against one
  Lloyd start on 20,000 x 17 rows, the sweep's default sample.

Run: ``.venv/bin/python bench/bench_load_checks.py``
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

import numpy as np

from custseg import fit_segments
from custseg._utils.plain_json import unsafe_value
from custseg.cluster.kmeans import _distinct_rows_if_fewer, lloyd
from custseg.model import model_from_json, model_to_json
from custseg.sources.duckdb import sample_path
from custseg.sources.files import read_table


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    model = fit_segments(read_table(sample_path()), k=4, k_range=(4, 4), random_state=0)
    text = model_to_json(model)
    document = json.loads(text)
    walk = median_seconds(lambda: unsafe_value(document), 50)
    load = median_seconds(lambda: model_from_json(text), 50)
    print(
        f"model of {len(text):,} bytes: walk {walk * 1e3:.2f} ms, model_from_json"
        f" {load * 1e3:.2f} ms (walk {walk / load:.1%} of the load)"
    )
    rows = np.random.default_rng(0).normal(size=(20_000, 17))
    for k in (2, 10):
        look = median_seconds(lambda k=k: _distinct_rows_if_fewer(rows, k), 50)
        start = median_seconds(lambda k=k: lloyd(rows, k, 1, np.random.default_rng(1)), 10)
        print(
            f"k={k}: distinct-row look {look * 1e3:.3f} ms, one Lloyd start"
            f" {start * 1e3:.1f} ms (look {look / start:.2%} of a start)"
        )


if __name__ == "__main__":
    main()
