"""From a fitted large segmentation to the model: explanation on the uniform sample.

Profiles, rules, names, the drift reference and the report read a uniform sample of
rows held in memory (:data:`EXPLAIN_SAMPLE` rows at most); sizes, shares, inertia and
the all-row indices come from the engine's pass over every row. The model says both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cluster.kmeans import assign_checked
from ..config import FitConfig
from ..explain import name_segments, profile_segments, segment_rules
from ..model import Segment, SegmentationModel
from ..prepare import PreparationPlan, RowCheck, TableSchema, reference_statistics

__all__ = ["EXPLAIN_SAMPLE", "RULE_SAMPLE", "k_values", "build_model"]

EXPLAIN_SAMPLE = 200_000
"""Rows of the uniform sample kept in memory: order statistics of the plan, choice of k,
K-means (local stream engine), silhouette, profiles, rules, drift reference, report."""
RULE_SAMPLE = 20_000


def k_values(cfg: FitConfig, n_rows: int) -> list[int]:
    """The k swept: the configured range (and ``cfg.k``), as the local fit sweeps them."""
    lo, hi = cfg.k_range
    values = list(range(lo, min(hi, n_rows - 1) + 1))
    if cfg.k is not None and cfg.k not in values and cfg.k >= 2:
        values = sorted({*values, cfg.k})
    return values


def build_model(
    *,
    schema: TableSchema,
    plan: PreparationPlan,
    sample: RowCheck,
    sample_X: np.ndarray,
    centroids: np.ndarray,
    sizes: np.ndarray,
    metrics: dict[str, Any],
    selection: dict[str, Any],
    cfg: FitConfig,
    playbook: Any,
    training: dict[str, Any],
    n_columns: int,
) -> SegmentationModel:
    """Explain the segments on the sample and assemble the :class:`SegmentationModel`."""
    seed = cfg.random_state
    k = int(centroids.shape[0])
    n_rows = int(sizes.sum())
    labels = assign_checked(sample_X, centroids).labels
    derived = plan.derive(sample)
    explained = [*plan.input_numeric, *[f.name for f in plan.domain_features if f.kind == "ratio"]]
    clustering = [s.column for s in plan.numeric_steps] + [c.column for c in plan.categorical_steps]
    profiles = profile_segments(derived, labels, columns=explained, clustering_features=clustering)
    rules = segment_rules(
        derived, labels, columns=explained, sample_size=RULE_SAMPLE, random_state=seed
    )
    names = name_segments(profiles, playbook=playbook)
    segments = [
        Segment(
            id=i,
            size=int(sizes[i]),
            share=float(sizes[i] / n_rows),
            name=names[i].name,
            description=names[i].description,
            strategies=list(names[i].strategies),
            traits=list(names[i].traits),
            rule=rules.for_segment(i),
            playbook_key=names[i].playbook_key,
        )
        for i in range(k)
    ]
    reference = reference_statistics(sample.frame, schema, random_state=seed)
    reference["rows"] = n_rows
    return SegmentationModel(
        schema=schema.to_dict(),
        preparation=plan.to_dict(),
        feature_names=list(plan.feature_names),
        centroids=np.asarray(centroids, dtype=np.float64).tolist(),
        segments=segments,
        metrics=metrics,
        k_selection=selection,
        profiles={**profiles.to_dict(), "rules": rules.to_dict()},
        drift_reference=reference,
        training={
            "rows": n_rows,
            "columns": int(n_columns),
            "explained_on": {"rows": int(len(sample.frame)), "sample": "uniform"},
            **training,
        },
        settings={**cfg.to_dict(), "k": k},
    )
