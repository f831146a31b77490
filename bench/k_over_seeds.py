"""The recommended k for seeds 0-9 on CC_GENERAL and the realistic synthetic tables.

A recommendation that flips with the random seed is not a recommendation. For each
table, ``fit_segments`` runs with ``random_state`` 0..9 and default settings; the script
prints the k chosen with each seed, the most frequent k and how many seeds chose it, the
stability of every segment of the chosen k and the median fit time. It is a
measurement, not a pass/fail test (about 10-20 minutes on a shared 2-core machine).

Tables: CC_GENERAL (8,950 card holders), ``tests/_realistic.py``'s ``attrition_table``
with the public BankChurners' 10,127 rows and ``telco_table`` with the public Telco
churn table's 7,043 rows. With ``--demographics clustered`` (when ``FitConfig`` has
``cluster_descriptors``) the descriptor columns (age, gender, marital status...) are
clustered on as well; the default leaves them to the roles custseg infers.

    nice -n 10 .venv/bin/python bench/k_over_seeds.py
    nice -n 10 .venv/bin/python bench/k_over_seeds.py --tables attrition --seeds 5
    nice -n 10 .venv/bin/python bench/k_over_seeds.py --demographics both
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _tables() -> dict[str, Callable[[], pd.DataFrame]]:
    from _realistic import attrition_table, telco_table
    from custseg import read_table
    from custseg.sources import sample_path

    return {
        "cc_general": lambda: read_table(sample_path()),
        "attrition": lambda: attrition_table(n=10_127)[0],
        "telco": lambda: telco_table(n=7_043)[0],
    }


def _config(demographics: str, frame: pd.DataFrame) -> object | None:
    """A FitConfig clustering the descriptors too, or None (the defaults)."""
    from custseg import FitConfig
    from custseg.prepare import infer_schema

    if demographics == "default":
        return None
    if "cluster_descriptors" in {f.name for f in dataclasses.fields(FitConfig)}:
        return FitConfig(cluster_descriptors=True)
    schema = infer_schema(frame)
    descriptors = list(getattr(schema, "descriptors", []))
    if not descriptors:
        return None  # before the descriptor role existed, demographics were clustered
    # A descriptor named in features is clustered on.
    return FitConfig(features=[*schema.features, *descriptors])


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _run(name: str, frame: pd.DataFrame, seeds: int, config: object | None) -> dict:
    from custseg import fit_segments

    ks, times, bands = [], [], []
    for seed in range(seeds):
        started = time.perf_counter()
        model = fit_segments(frame, random_state=seed, config=config)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        ks.append(model.k)
        per_segment = model.metrics.get("segment_stability") or []
        bands.append(" ".join(f"{s['jaccard']:.2f}" for s in per_segment) or "-")
        print(
            f"  {name} seed {seed}: k = {model.k} in {times[-1]:.1f} s;"
            f" segment stability {bands[-1]}",
            flush=True,
        )
    modal, agree = collections.Counter(ks).most_common(1)[0]
    return {
        "name": name,
        "shape": frame.shape,
        "ks": ks,
        "modal": modal,
        "agree": agree,
        "median": statistics.median(times),
    }


def main() -> None:
    tables = _tables()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tables", nargs="*", choices=sorted(tables), default=list(tables))
    parser.add_argument(
        "--demographics", choices=("default", "clustered", "both"), default="default"
    )
    args = parser.parse_args()
    variants = ["default", "clustered"] if args.demographics == "both" else [args.demographics]
    print(_load(), flush=True)
    results = []
    for variant in variants:
        for name in args.tables:
            frame = tables[name]()
            label = name if variant == "default" else f"{name} (demographics clustered)"
            results.append(_run(label, frame, args.seeds, _config(variant, frame)))
    print()
    print(f"| table | rows × columns | k per seed (0–{args.seeds - 1}) | mode | median fit |")
    print("| --- | ---: | --- | ---: | ---: |")
    for r in results:
        print(
            f"| {r['name']} | {r['shape'][0]:,} × {r['shape'][1]} | {' '.join(map(str, r['ks']))}"
            f" | k = {r['modal']}: {r['agree']}/{len(r['ks'])} | {r['median']:.1f} s |"
        )
    print(_load())


if __name__ == "__main__":
    main()
