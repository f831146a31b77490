"""Can a rare 0/1 flag make a segment of its own? Scaling of flags, measured.

Tables: the retail table of ``bench/_trap_tables.py`` (its campaign flags hold 1-7% of the
customers) with ``Complain`` (0.9%) clustered on by request, plus four flags that
carry no behaviour at all, on 0.5%, 1%, 2% and 3% of the customers; and the same flags
added to CC_GENERAL. Each table is prepared by custseg's plan, then the flag columns
are scaled three ways:

* ``0/1``: kept as they are (custseg's choice: variance p(1 - p) <= 0.25);
* ``standardised``: (x - p) / sqrt(p (1 - p)), as a plain ``StandardScaler`` (and the
  first release, whose log1p of a 0/1 column is a linear map) did;
* ``0/2``: twice the 0/1 column (a 50/50 flag then has unit variance).

``choose_n_clusters`` recommends k with seeds 0-4; a segment "belongs to" a flag when at
least 90% of its customers have the flag and it holds at least half of the flagged
customers. The script prints, per table and scaling, the recommended k per seed and how
many flag segments the recommended fits have (and over every k 2-10 of the sweeps).

    .venv/bin/python bench/rare_flags.py
    .venv/bin/python bench/rare_flags.py --seeds 10
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

RARE = {"flag_05": 0.005, "flag_1": 0.01, "flag_2": 0.02, "flag_3": 0.03}


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _with_flags(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for name, share in RARE.items():
        flagged = rng.choice(len(out), size=max(1, round(share * len(out))), replace=False)
        column = np.zeros(len(out), dtype=np.int64)
        column[flagged] = 1
        out[name] = column
    return out


def _prepared(frame: pd.DataFrame, exclude: list[str]) -> tuple[np.ndarray, list[str], dict]:
    from custseg.prepare import check_rows, infer_schema
    from custseg.prepare.plan import PreparationPlan

    features = [c for c in frame.columns if c not in exclude]
    schema = infer_schema(frame, features=features)
    plan, X = PreparationPlan.fit_transform(check_rows(frame, schema), schema)
    names = plan.feature_names
    flags = {
        name: j
        for j, name in enumerate(names)
        if name in frame.columns and set(np.unique(frame[name].dropna())) == {0, 1}
    }
    return np.asarray(X, dtype=np.float64), names, flags


def _scaled(X: np.ndarray, flags: dict[str, int], how: str) -> np.ndarray:
    out = X.copy()
    for j in flags.values():
        x = X[:, j]
        if how == "standardised":
            p = x.mean()
            out[:, j] = (x - p) / np.sqrt(p * (1 - p))
        elif how == "0/2":
            out[:, j] = 2 * x
    return out


def _flag_segments(labels: np.ndarray, frame: pd.DataFrame, flags: dict[str, int]) -> list[str]:
    found = []
    for name in flags:
        flagged = frame[name].to_numpy() == 1
        for g in np.unique(labels):
            members = labels == g
            purity = flagged[members].mean()
            held = (flagged & members).sum() / max(flagged.sum(), 1)
            if purity >= 0.9 and held >= 0.5:
                found.append(f"{name}@{g}")
    return found


def main() -> None:
    from _trap_tables import retail
    from custseg import read_table
    from custseg.cluster.selection import choose_n_clusters
    from custseg.sources import sample_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(_load())
    tables = {
        "retail + Complain + 4 rare flags": (
            _with_flags(retail()),
            ["ID", "Dt_Customer", "Response", "Z_CostContact", "Z_Revenue"],
        ),
        "cc_general + 4 rare flags": (_with_flags(read_table(sample_path())), ["CUST_ID"]),
    }
    for title, (frame, exclude) in tables.items():
        X, _, flags = _prepared(frame, exclude)
        shares = ", ".join(f"{n} {frame[n].mean():.1%}" for n in flags)
        print(f"\n{title}: {X.shape[0]:,} rows x {X.shape[1]} prepared columns; flags: {shares}")
        for how in ("0/1", "standardised", "0/2"):
            Xs = _scaled(X, flags, how)
            ks, at_k, anywhere = [], 0, 0
            for seed in range(args.seeds):
                selection = choose_n_clusters(Xs, random_state=seed)
                k = selection.recommended_k
                ks.append(k)
                at_k += len(_flag_segments(selection.fits[k].labels, frame, flags))
                anywhere += sum(
                    len(_flag_segments(fit.labels, frame, flags)) > 0
                    for fit in selection.fits.values()
                )
            print(
                f"  {how:13s} recommended k per seed {ks}; flag segments at the recommended"
                f" k: {at_k}; k (of {9 * args.seeds}) with a flag segment: {anywhere}",
                flush=True,
            )
    print(_load())


if __name__ == "__main__":
    main()
