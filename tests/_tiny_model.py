"""A small real model built without fitting K-means: for tests of the model's format."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custseg.cluster.typicality import distance_profile
from custseg.config import PrepConfig
from custseg.model import DistanceProfile, PlaybookRecord, Segment, SegmentationModel
from custseg.prepare import PreparationPlan, check_rows, infer_schema, reference_statistics

PLAYBOOK = PlaybookRecord(
    key="neutral",
    name="Neutral",
    domain="",
    source="shipped",
    chosen_by="columns",
    summary="Neutral playbook: no domain playbook fits the columns.",
    wording={},
    match={},
    candidates=[],
)


def tiny_model(k: int = 3, d: int = 4, **fields: Any) -> SegmentationModel:
    """A model of ``k`` segments over ``d`` numeric columns ``f0``..., with an id column."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, d)), columns=[f"f{i}" for i in range(d)])
    frame.insert(0, "ID", [f"c{i}" for i in range(len(frame))])
    schema = infer_schema(frame, id_column="ID")
    checked = check_rows(frame, schema)
    plan, _ = PreparationPlan.fit_transform(checked, schema, PrepConfig(skew="none"))
    width = len(plan.feature_names)
    values = {
        "schema": schema,
        "preparation": plan,
        "feature_names": list(plan.feature_names),
        "centroids": rng.normal(size=(k, width)).tolist(),
        "segments": [Segment(id=i, size=10 * (k - i), share=0.1, name=f"S{i}") for i in range(k)],
        "distance_profile": DistanceProfile(
            **distance_profile(np.ones(k), np.arange(k), k, rows_of_table=k)
        ),
        "playbook": PLAYBOOK,
        "training": {"rows": len(frame)},
        "drift_reference": reference_statistics(checked.frame, schema, random_state=0),
        "profiles": {"levels": {"columns": {}, "segments": []}},
    }
    return SegmentationModel(**{**values, **fields})
