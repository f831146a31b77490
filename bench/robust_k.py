"""Is the recommended k a property of the data or of the seed?

For CC_GENERAL and the synthetic tables of ``bench/_trap_tables.py`` (shaped like public
banking and retail tables, with their traps), ``fit_segments`` runs with seeds 0-9
and default settings; the script prints, per table, the k recommended with each seed,
how many seeds agree with the most frequent k, and the median fit time.

    .venv/bin/python bench/robust_k.py
    .venv/bin/python bench/robust_k.py --seeds 20 --tables cc_general retail
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    from _trap_tables import TABLES
    from custseg import fit_segments, read_table
    from custseg.sources import sample_path

    makers = {"cc_general": lambda: read_table(sample_path())} | {
        name: make for name, make in TABLES.items()
    }
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tables", nargs="*", choices=sorted(makers), default=list(makers))
    args = parser.parse_args()
    print(_load())
    rows = []
    for name in args.tables:
        frame = makers[name]()
        ks, times, cpu, stabilities, refits = [], [], [], [], []
        for seed in range(args.seeds):
            started, used = time.perf_counter(), time.process_time()
            model = fit_segments(frame, random_state=seed)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            ks.append(model.k)
            stabilities.append(model.metrics.get("stability_ari"))
            refits.append(sum(c.stability_resamples for c in model.k_selection.candidates))
        modal, agree = collections.Counter(ks).most_common(1)[0]
        rows.append((name, frame.shape, ks, modal, agree, statistics.median(times)))
        print(
            f"{name:14s} {frame.shape[0]:>6,} rows: k per seed {ks}  ->  k = {modal} in"
            f" {agree}/{args.seeds}; median fit {statistics.median(times):.2f} s"
            f" (cpu {statistics.median(cpu):.2f} s); stability of the chosen k"
            f" {[round(s, 2) if s is not None else None for s in stabilities]};"
            f" refits per fit {refits}",
            flush=True,
        )
    print()
    print("| table | rows × columns | k per seed (0–9) | agreement | median fit |")
    print("| --- | ---: | --- | ---: | ---: |")
    for name, shape, ks, modal, agree, seconds in rows:
        print(
            f"| {name} | {shape[0]:,} × {shape[1]} | {' '.join(map(str, ks))} |"
            f" k = {modal}: {agree}/{len(ks)} | {seconds:.2f} s |"
        )
    print(_load())


if __name__ == "__main__":
    main()
