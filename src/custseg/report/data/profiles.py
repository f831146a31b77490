"""Data for the "Segment profiles" section: profile rows, the lift heatmap, box plots and
the level shares of categorical columns."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..._utils.numeric import skewness
from ..._utils.text import readable_name
from ...model import SegmentationModel
from ._common import use_log_scale

__all__ = ["SegmentProfiles", "segment_levels", "segment_profiles"]

_MAX_LIFT_FEATURES = 30
_N_BOX_FEATURES = 6
_N_TOP_PROFILE = 5


class SegmentProfiles(NamedTuple):
    """The four parts of the report data computed from one profile of the segments."""

    rows: list[dict[str, Any]]
    """One row per segment and feature (``profiles`` in the report data)."""
    lift: dict[str, Any]
    """``features``, ``segments`` (names) and ``matrix`` of the lift heatmap."""
    top: dict[int, list[dict[str, Any]]]
    """Per segment id, its most distinguishing profile rows (for the cards)."""
    boxes: list[dict[str, Any]]
    """Box-plot statistics of the most distinguishing features."""


def segment_profiles(
    model: SegmentationModel, derived: pd.DataFrame, labels: np.ndarray, schema: Any
) -> SegmentProfiles:
    """Profile the segments on this table's derived features.

    Parameters
    ----------
    model : SegmentationModel
        The fitted model (segment names, the features it clusters on).
    derived : pandas.DataFrame
        The usable rows with the preparation plan's derived features.
    labels : numpy.ndarray
        Segment of each row.
    schema : TableSchema
        The model's schema (the id column is not profiled).

    Returns
    -------
    SegmentProfiles
        Profile rows, the lift heatmap (the 30 features that separate segments most,
        in table order), the top 5 profile rows of each segment and box plots of the 6
        most distinguishing features.
    """
    from ...explain.profiles import profile_segments

    columns = _profile_columns(derived, schema)
    clustering = [step.column for step in model.preparation.numeric_steps]
    profiles = profile_segments(derived, labels, columns=columns, clustering_features=clustering)
    names = model.segment_names()
    table = profiles.table
    rows = [
        {
            "segment_id": int(r["segment_id"]),
            "segment_name": names[int(r["segment_id"])],
            "feature": str(r["feature"]),
            "mean": r["mean"],
            "median": r["median"],
            "population_mean": r["population_mean"],
            "lift": r["lift"],
            "effect_size": r["effect_size"],
            "used_for_clustering": bool(r["used_for_clustering"]),
        }
        for r in table.to_dict(orient="records")
    ]
    top = {
        int(sid): [
            {**row, "feature": str(feature)}
            for feature, row in profiles.top_features(int(sid), _N_TOP_PROFILE)[
                ["mean", "median", "population_mean", "lift", "effect_size"]
            ].iterrows()
        ]
        for sid in profiles.segment_ids
    }
    # The features that separate segments most: largest |effect size| in any segment.
    strength = (
        table.assign(abs_effect=table["effect_size"].abs())
        .groupby("feature", sort=False)["abs_effect"]
        .max()
    )
    ranked = [str(f) for f in strength.sort_values(ascending=False, kind="stable").index]
    lift_features = [f for f in columns if f in set(ranked[:_MAX_LIFT_FEATURES])]
    lookup = table.set_index(["feature", "segment_id"])["lift"]
    lift = {
        "features": lift_features,
        "segments": names,
        "matrix": [
            [float(lookup.get((feature, sid), math.nan)) for sid in range(model.k)]
            for feature in lift_features
        ],
    }
    # strength[f] == strength[f] is False for NaN: features with no measurable effect.
    box_features = [f for f in ranked if strength[f] == strength[f]][:_N_BOX_FEATURES]
    boxes = [_boxes(derived[feature], labels, feature, model.k) for feature in box_features]
    return SegmentProfiles(rows, lift, top, boxes)


def segment_levels(
    model: SegmentationModel,
    derived: pd.DataFrame,
    raw: pd.DataFrame,
    labels: np.ndarray,
    schema: Any,
) -> dict[str, Any]:
    """The level shares of every categorical, descriptor and text outcome column.

    Parameters
    ----------
    model : SegmentationModel
        The fitted model (segment names, the playbook's labels).
    derived : pandas.DataFrame
        The usable rows, checked (categorical columns cleaned as the model reads them).
    raw : pandas.DataFrame
        The same rows as the table gave them (descriptor and outcome columns).
    labels : numpy.ndarray
        Segment of each row.
    schema : TableSchema
        The model's schema (the columns' roles).

    Returns
    -------
    dict
        ``columns`` (``name``, ``role``, ``levels``, ``population`` shares),
        ``segments`` (``id``, ``name``, ``shares`` per column in level order,
        ``marked``: whether each of those levels is decisive,
        ``decisive`` levels with their phrase, share, population share and lift),
        ``rows`` (one per segment, column and level, for ``profiles.csv``),
        ``top_levels`` and the ``decisive`` thresholds.
    """
    from ...explain.levels import (
        DECISIVE_LIFT,
        DECISIVE_SHARE,
        TOP_LEVELS,
        level_roles,
        profile_levels,
    )
    from ...prepare.schema import column_lookup

    lookup = column_lookup(raw.columns)
    values: dict[str, np.ndarray] = {}
    for info in schema.columns:
        if info.role == "categorical" and info.name in derived.columns:
            values[info.name] = derived[info.name].to_numpy()
        elif info.role in ("descriptor", "outcome") and info.name in lookup:
            values[info.name] = raw[lookup[info.name]].to_numpy()
    frame = pd.DataFrame(values, index=pd.RangeIndex(len(labels)))
    roles = level_roles([(c.name, c.role) for c in schema.columns], frame)
    levels = profile_levels(frame, labels, columns=roles)
    names = model.segment_names()
    table = levels.table
    columns = []
    for feature, rows in table.groupby("feature", sort=False):
        first = rows[rows["segment_id"] == levels.segment_ids[0]]
        columns.append(
            {
                "name": str(feature),
                "role": levels.roles[str(feature)],
                "levels": [str(v) for v in first["level"]],
                "population": first["population_share"].tolist(),
            }
        )
    segments = []
    for sid in range(model.k):
        mine = table[table["segment_id"] == sid]
        segments.append(
            {
                "id": sid,
                "name": names[sid],
                "shares": {
                    c["name"]: mine.loc[mine["feature"] == c["name"], "share"].tolist()
                    for c in columns
                },
                "marked": {
                    c["name"]: mine.loc[mine["feature"] == c["name"], "decisive"].tolist()
                    for c in columns
                },
                "decisive": _said_once(levels.decisive(sid) if sid in levels.segment_ids else None),
            }
        )
    level_rows = [
        {**r, "segment_name": names[int(r["segment_id"])], "feature": str(r["feature"])}
        for r in table.drop(columns=["decisive"]).to_dict(orient="records")
    ]
    return {
        "columns": columns,
        "segments": segments,
        "rows": level_rows,
        "top_levels": TOP_LEVELS,
        "decisive": {"share": DECISIVE_SHARE, "lift": DECISIVE_LIFT},
    }


def _said_once(decisive: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Decisive levels, one entry per phrase: six add-on columns whose level is "No
    internet service" are one fact, said once with the columns that hold it."""
    from ...explain.levels import level_phrase

    out: dict[str, dict[str, Any]] = {}
    for r in [] if decisive is None else decisive.to_dict(orient="records"):
        phrase = level_phrase(readable_name(str(r["feature"])), str(r["level"]))
        entry = out.setdefault(
            phrase.casefold(),
            {
                "phrase": phrase[:1].upper() + phrase[1:],
                "role": str(r["role"]),
                "level": str(r["level"]),
                "share": r["share"],
                "population_share": r["population_share"],
                "lift": r["lift"],
                "columns": [],
            },
        )
        entry["columns"].append(str(r["feature"]))
    return list(out.values())


def _profile_columns(derived: pd.DataFrame, schema: Any) -> list[str]:
    skip = {schema.id_column}
    return [
        str(c)
        for c in derived.columns
        if c not in skip
        and (
            pd.api.types.is_numeric_dtype(derived[c].dtype)
            and not pd.api.types.is_bool_dtype(derived[c].dtype)
        )
    ]


def _boxes(series: pd.Series, labels: np.ndarray, feature: str, k: int) -> dict[str, Any]:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    stats = []
    for segment in range(k):
        members = values[(labels == segment) & finite]
        if members.size == 0:
            continue
        low, q1, median, q3, high = np.percentile(members, [5, 25, 50, 75, 95])
        stats.append(
            {
                "segment_id": segment,
                "q1": q1,
                "median": median,
                "q3": q3,
                "low": low,
                "high": high,
                "mean": float(members.mean()),
            }
        )
    everything = values[finite]
    return {
        "feature": feature,
        "log_scale": use_log_scale(everything, skewness(everything)),
        # A 0/1 column is drawn as the share of each segment with a 1, not as boxes.
        "binary": bool(everything.size and np.isin(everything, (0.0, 1.0)).all()),
        "boxes": stats,
    }
