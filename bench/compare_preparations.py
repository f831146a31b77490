"""The default preparation against the notebook way on CC_GENERAL, for k = 3..8.

Both matrices go through the same ``choose_n_clusters`` (K-means with 4 k-means++
starts, exact silhouette, Calinski-Harabasz, Davies-Bouldin, bootstrap stability as the
mean adjusted Rand index of refits on resamples): only the preparation differs.

- notebook way: median imputation + ``StandardScaler`` on the 17 raw columns;
- custseg: the default ``PreparationPlan`` (log1p of right-skewed amounts, standard
  scaling; derived credit-card features are profile-only by default).

Silhouettes of different preparations live in different spaces: they are printed, not
compared. Prints a Markdown table (the one in the README).

    .venv/bin/python bench/compare_preparations.py [--seeds 0 1 2] [--resamples 5]
"""

from __future__ import annotations

import argparse

import numpy as np


def _matrices() -> dict[str, np.ndarray]:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    from custseg.prepare import check_rows, infer_schema
    from custseg.prepare.plan import PreparationPlan
    from custseg.sources import read_table, sample_path

    frame = read_table(sample_path())
    raw = frame.drop(columns=["CUST_ID"]).to_numpy(dtype=np.float64)
    notebook = StandardScaler().fit_transform(SimpleImputer(strategy="median").fit_transform(raw))
    schema = infer_schema(frame)
    _, prepared = PreparationPlan.fit_transform(check_rows(frame, schema).frame, schema)
    return {"notebook way": notebook, "custseg default": prepared}


def main() -> None:
    from custseg.cluster.selection import choose_n_clusters

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--resamples", type=int, default=5)
    args = parser.parse_args()
    ks = range(3, 9)
    # (preparation, k) -> per seed: (smallest share, stability, silhouette)
    results: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    matrices = _matrices()
    for name, X in matrices.items():
        for seed in args.seeds:
            selection = choose_n_clusters(X, ks, n_resamples=args.resamples, random_state=seed)
            for c in selection.candidates:
                results.setdefault((name, c.k), []).append(
                    (c.min_share, c.stability_ari, c.silhouette)
                )
    names = list(matrices)
    print(
        f"seeds {args.seeds}, {args.resamples} bootstrap refits per k; "
        "cells: median over seeds (min-max)"
    )
    print(
        "| k | "
        + " | ".join(f"{n}: smallest segment | stability (ARI) | silhouette" for n in names)
        + " |"
    )
    print("|---|" + "---|---|---|" * len(names))
    for k in ks:
        cells = []
        for name in names:
            share, ari, sil = (np.array(v) for v in zip(*results[(name, k)], strict=True))
            cells.append(
                f"{np.median(share):.1%} ({share.min():.1%}-{share.max():.1%}) | "
                f"{np.median(ari):.2f} ({ari.min():.2f}-{ari.max():.2f}) | {np.median(sil):.3f}"
            )
        print(f"| {k} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
