"""The default preparation against the notebook way on CC_GENERAL, for k = 3..8.

Both matrices go through the same ``choose_n_clusters`` (K-means with 4 k-means++
starts, exact silhouette, Calinski-Harabasz, Davies-Bouldin, bootstrap stability as the
mean adjusted Rand index of refits on resamples): only the preparation differs.

- notebook way: median imputation + ``StandardScaler`` on the 17 raw columns;
- custseg: the default ``PreparationPlan`` (log1p of right-skewed amounts, standard
  scaling; derived credit-card features are profile-only by default).

Silhouettes of different preparations live in different spaces: they are printed, not
compared. Prints a Markdown table (the one in the README).

    .venv/bin/python bench/compare_preparations.py [--seed 0] [--resamples 10]
"""

from __future__ import annotations

import argparse

import numpy as np


def _matrices() -> dict[str, np.ndarray]:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    from custseg.features import PreparationPlan
    from custseg.schema import check_rows, infer_schema
    from custseg.sources import read_table, sample_path

    frame = read_table(sample_path())
    raw = frame.drop(columns=["CUST_ID"]).to_numpy(dtype=np.float64)
    notebook = StandardScaler().fit_transform(SimpleImputer(strategy="median").fit_transform(raw))
    schema = infer_schema(frame)
    _, prepared = PreparationPlan.fit_transform(check_rows(frame, schema).frame, schema)
    return {"notebook way": notebook, "custseg default": prepared}


def main() -> None:
    from custseg.selection import choose_n_clusters

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resamples", type=int, default=10)
    args = parser.parse_args()
    rows: dict[int, list[str]] = {k: [] for k in range(3, 9)}
    recommended = {}
    for name, X in _matrices().items():
        selection = choose_n_clusters(
            X, range(3, 9), n_resamples=args.resamples, random_state=args.seed
        )
        recommended[name] = selection.recommended_k
        for c in selection.candidates:
            rows[c.k].append(f"{c.min_share:.1%} | {c.stability_ari:.2f} | {c.silhouette:.3f}")
    names = list(recommended)
    print(
        "| k | "
        + " | ".join(f"{n}: smallest segment | stability (ARI) | silhouette" for n in names)
        + " |"
    )
    print("|---|" + "---|---|---|" * len(names))
    for k, cells in rows.items():
        print(f"| {k} | " + " | ".join(cells) + " |")
    print()
    for name, k in recommended.items():
        print(f"recommended k ({name}, k in 3..8): {k}")


if __name__ == "__main__":
    main()
