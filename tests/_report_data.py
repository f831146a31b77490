"""Hand-made report data in the layout of ``build_report_data``, for rendering tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from custseg.cluster.indices import registered_indices

# The registry's three built-in indices as KIndex.describe() gives them.
INDICES = [entry.describe() for entry in registered_indices()[:3]]


def hand_made_report_data(k: int = 3, seed: int = 7) -> dict[str, Any]:
    """Report data for a small made-up segmentation, in the layout of build_report_data."""
    rng = np.random.default_rng(seed)
    names = ["Transactors", "Revolvers | heavy", "Cash-advance reliant", "Dormant"][:k]
    colors = ["#0173b2", "#de8f05", "#029e73", "#d55e00"][:k]
    sizes = [520, 310, 170, 90][:k]
    n = sum(sizes)
    features = ["BALANCE", "PURCHASES", "CASH_ADVANCE", "PRC_FULL_PAYMENT", "TENURE"]
    profiles = []
    for s in range(k):
        for j, feature in enumerate(features):
            population = 100.0 * (j + 1)
            lift = float(np.exp(rng.normal(0, 0.8)))
            profiles.append(
                {
                    "segment_id": s,
                    "segment_name": names[s],
                    "feature": feature,
                    "mean": population * lift,
                    "median": population * lift * 0.8,
                    "population_mean": population,
                    "lift": lift,
                    "effect_size": float(np.log(lift)),
                    "used_for_clustering": True,
                }
            )
    segments = []
    for s in range(k):
        mine = [p for p in profiles if p["segment_id"] == s]
        top = sorted(mine, key=lambda p: -abs(p["effect_size"]))[:3]
        segments.append(
            {
                "id": s,
                "name": names[s],
                "size": sizes[s],
                "share": sizes[s] / n,
                "training_share": sizes[s] / n,
                "description": f"Segment {s} customers <b>behave</b> alike.",
                "traits": [f"high {top[0]['feature'].lower()}", "pays in full"],
                "rule": {
                    "text": "PURCHASES > 1,000 and CASH_ADVANCE <= 50",
                    "precision": 0.91,
                    "coverage": 0.78,
                },
                "strategies": [f"Offer cashback rewards to segment {s}", "Review credit limits"],
                "color": colors[s],
                "top_profile": top,
            }
        )
    labels = np.repeat(np.arange(k), sizes)
    centres = rng.normal(0, 3, size=(k, 2))
    points = centres[labels] + rng.normal(0, 1, size=(n, 2))
    money = rng.lognormal(6, 1.5, size=n)
    money_edges = np.expm1(np.linspace(0, np.log1p(money.max()), 31))
    share = rng.uniform(0, 1, size=n)
    share_edges = np.linspace(0, 1, 31)
    candidates = [
        {
            "k": kk,
            "inertia": 10_000 / kk + 100 * kk,
            "silhouette": 0.2 + 0.02 * (kk == 4),
            "calinski_harabasz": 1500 - 50 * kk,
            "davies_bouldin": 1.2 + 0.05 * kk,
            "stability_ari": None if kk == 9 else 0.9 - 0.03 * kk,
            "min_share": 0.3 / kk,
            "excluded_because": "smallest segment 3.3% < 5.0%" if kk == 9 else None,
            "votes": ["best silhouette", "knee"] if kk == 4 else [],
        }
        for kk in range(2, 10)
    ]
    return {
        "version": 1,
        "title": "Customer segments report",
        "meta": {
            "custseg_version": "0.1.0",
            "model_version": "0.1.0",
            "model_created_at": "2024-05-01T10:00:00+00:00",
            "k": k,
            "training_rows": n,
            "random_state": 0,
        },
        "overview": {
            "n_rows": n + 2,
            "n_columns": len(features) + 1,
            "n_usable": n,
            "n_rejected": 2,
            "rejection_examples": ["PURCHASES: 'abc' is not a number"],
            "n_features_prepared": len(features),
            "id_column": "CUST_ID",
        },
        "columns": [
            {
                "name": "CUST_ID",
                "role": "id",
                "dtype": "str",
                "reason": "unique text values",
                "n_missing": 0,
                "share_missing": 0.0,
            }
        ]
        + [
            {
                "name": f,
                "role": "numeric",
                "dtype": "float64",
                "reason": "numbers",
                "n_missing": 3 * i,
                "share_missing": 3 * i / n,
            }
            for i, f in enumerate(features)
        ],
        "decisions": ["BALANCE: log1p because its skewness 2.4 is above 1"],
        "missing": [
            {"column": f, "n_missing": 3 * i, "share": 3 * i / n} for i, f in enumerate(features)
        ],
        "distributions": [
            {
                "column": "BALANCE",
                "edges": money_edges.tolist(),
                "counts": np.histogram(money, bins=money_edges)[0].tolist(),
                "log_scale": True,
                "skewness": 5.0,
                "median": float(np.median(money)),
            },
            {
                "column": "PRC_FULL_PAYMENT",
                "edges": share_edges.tolist(),
                "counts": np.histogram(share, bins=share_edges)[0].tolist(),
                "log_scale": False,
                "skewness": 0.1,
                "median": 0.5,
            },
        ],
        "correlation": {
            "method": "spearman",
            "columns": features,
            "matrix": np.corrcoef(rng.normal(size=(len(features), 50))).tolist(),
        },
        "k_selection": {
            "indices": copy.deepcopy(INDICES),
            "candidates": candidates,
            "knee": 4,
            "recommended_k": 4,
            "chosen_k": k,
            "explanation": "k = 4 is where the elbow bends and the silhouette peaks.",
            "rule": "the k with most votes among the stable k",
            "rows_used": 20_000,
            "sampled": True,
        },
        "segments": segments,
        "projection": {
            "x": points[:, 0].tolist(),
            "y": points[:, 1].tolist(),
            "labels": labels.tolist(),
            "centroids": centres.tolist(),
            "explained_variance_ratio": [0.41, 0.22],
            "n_drawn": n,
            "n_total": n,
        },
        "profiles": profiles,
        "lift": {
            "features": features,
            "segments": names,
            "matrix": [
                [
                    next(
                        p["lift"]
                        for p in profiles
                        if p["segment_id"] == s and p["feature"] == feature
                    )
                    for s in range(k)
                ]
                for feature in features
            ],
        },
        "feature_boxes": [
            {
                "feature": feature,
                "log_scale": feature != "PRC_FULL_PAYMENT",
                "boxes": [
                    {
                        "segment_id": s,
                        "q1": 10.0 * (s + 1),
                        "median": 30.0 * (s + 1),
                        "q3": 90.0 * (s + 1),
                        "low": 0.0,
                        "high": 900.0 * (s + 1),
                        "mean": 60.0 * (s + 1),
                    }
                    for s in range(k)
                ],
            }
            for feature in features[:4]
        ],
        "silhouette": {
            "value": 0.31,
            "exact": False,
            "sample_size": n,
            "ci_low": 0.29,
            "ci_high": 0.33,
            "per_segment": [0.3] * k,
            "values_by_segment": [
                sorted(rng.uniform(-0.1, 0.7, size=size).round(4).tolist(), reverse=True)
                for size in sizes
            ],
            "n_plotted": n,
        },
        "metrics": [
            {
                "name": "Customers segmented",
                "unit": "count",
                "value": n,
                "training": n,
                "detail": "",
                "explanation": "rows placed in a segment",
            },
            {
                "name": "Silhouette",
                "unit": "number",
                "value": 0.31,
                "training": 0.3,
                "detail": "estimated on 1,000 customers",
                "explanation": "closer to the own segment than to the next",
            },
            {
                "name": "Smallest segment share",
                "unit": "share",
                "value": 0.17,
                "training": 0.17,
                "detail": "",
                "explanation": "tiny segments are hard to act on",
            },
        ],
    }
