"""Is k chosen on a 20,000-row sample the k of a sweep over every row?

The stream and Spark engines choose k on 20,000 rows of their uniform sample (the
in-memory engine too, above 20,000 rows). This script measures, over several seeds,
how often that choice equals the choice of the same sweep run on every row, and what
each costs, on two kinds of synthetic tables:

* ``cards``: customers synthesised from the bundled sample (the GUIDE's recipe,
  ``bench/_synth.py``), prepared by custseg's default plan;
* ``blobs``: well-separated Gaussian groups with a known k (6 groups, 8 features,
  group sizes from 4% to 30%).

    .venv/bin/python bench/k_on_sample.py --rows 100000 --seeds 5

Prints one line per table and seed, then the agreement and the median times.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _synth import synthesise
from custseg.cluster import choose_n_clusters
from custseg.prepare import PreparationPlan, check_rows, infer_schema


def _cards(rows: int, seed: int) -> np.ndarray:
    frame = synthesise(rows, random_state=seed)
    schema = infer_schema(frame)
    _, X = PreparationPlan.fit_transform(check_rows(frame, schema), schema)
    return np.asarray(X)


def _blobs(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shares = np.array([0.30, 0.25, 0.18, 0.13, 0.10, 0.04])
    centres = rng.normal(scale=4.0, size=(len(shares), 8))
    groups = rng.choice(len(shares), size=rows, p=shares)
    return centres[groups] + rng.normal(size=(rows, 8))


def _timed_k(X: np.ndarray, seed: int, sample_size: int | None) -> tuple[int, float]:
    started = time.perf_counter()
    selection = choose_n_clusters(X, range(2, 11), random_state=seed, sample_size=sample_size)
    return selection.recommended_k, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--tables", default="cards,blobs")
    args = parser.parse_args()
    makers = {"cards": _cards, "blobs": _blobs}
    for table in args.tables.split(","):
        agree, on_sample, on_all = 0, [], []
        for seed in range(args.seeds):
            X = makers[table](args.rows, seed)
            k_sample, t_sample = _timed_k(X, seed, args.sample)
            k_all, t_all = _timed_k(X, seed, None)
            agree += k_sample == k_all
            on_sample.append(t_sample)
            on_all.append(t_all)
            print(
                f"{table} seed {seed}: k on {args.sample:,} rows = {k_sample} ({t_sample:.1f} s),"
                f" k on all {args.rows:,} rows = {k_all} ({t_all:.1f} s)",
                flush=True,
            )
        sample_median, all_median = statistics.median(on_sample), statistics.median(on_all)
        print(
            f"{table}: same k in {agree} of {args.seeds} seeds; median {sample_median:.1f} s on"
            f" the sample vs {all_median:.1f} s on all rows"
            f" ({all_median / sample_median:.1f}x)"
        )


if __name__ == "__main__":
    main()
