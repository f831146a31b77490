"""From fitted segments to the model: explanation, names, outcomes, warnings, lineage.

Every engine ends here. The in-memory fit (:func:`custseg.pipeline.fit_segments`)
explains its segments on every row; the stream and Spark engines on a uniform sample
of rows held in memory (:data:`EXPLAIN_SAMPLE` rows at most), while sizes, shares,
inertia and the all-row indices come from their pass over every row. The model says
which (``training["explained_on"]``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..cluster.kmeans import assign_checked
from ..cluster.selection import KSelection
from ..cluster.stability import UNSTABLE_BELOW
from ..cluster.typicality import distance_profile
from ..config import FitConfig
from ..exceptions import DataError
from ..explain import choose_playbook, name_segments, profile_segments, segment_rules
from ..explain.audit import audit_segments, audit_warning
from ..explain.leakage import OneColumnRule, single_column_rules
from ..explain.levels import LevelProfiles, level_roles, profile_levels
from ..explain.naming import SegmentNaming
from ..explain.outcomes import profile_outcomes
from ..explain.playbook import Playbook
from ..explain.profiles import SegmentProfiles
from ..explain.rules import RuleSet
from ..model import DistanceProfile, PlaybookRecord, Segment, SegmentationModel
from ..prepare import PreparationPlan, RowCheck, TableSchema, reference_statistics
from ..prepare.outcomes import encode_outcome, outcome_family
from ..prepare.redundancy import RedundancyGroup
from ..prepare.schema import column_lookup, text_values, value_kind
from .lineage import Lineage

__all__ = [
    "EXPLAIN_SAMPLE",
    "FIT_SAMPLE",
    "RULE_SAMPLE",
    "OnWarning",
    "assemble_model",
    "no_identifier_warning",
]

OnWarning = Callable[[dict[str, Any]], None]
"""Receives each warning of a fit (a dict with ``kind`` and ``message``) as soon as it is known."""

EXPLAIN_SAMPLE = 200_000
"""Rows of the uniform sample kept in memory by the large-table engines: order
statistics of the plan, choice of k, K-means (stream engine), silhouette, profiles,
rules, drift reference, report."""
FIT_SAMPLE = 100_000
"""Rows of the sample K-means is fitted on when a table is too big to fit on every row
(``FitConfig.fit_sample`` overrides it): a few thousand rows per centroid reach an
inertia within 1-3% of a fit on every row, and Lloyd's iterations over every row (Spark)
or the assignment of every row (stream, memory) follow."""
RULE_SAMPLE = 20_000
"""Rules are read from trees fitted on a stratified sample of this many rows (their
precision and coverage are then measured on every explained row): depth-3 trees need
no more to find their splits."""


def no_identifier_warning() -> dict[str, Any]:
    """The warning of a table without an identifier column (scores cannot be joined back)."""
    what = (
        "no identifier column found (no column with unique values and an id-like name,"
        " code-like text or account-number-like integers): scores cannot be joined back"
        " to customers;"
    )
    return {
        "kind": "no_identifier",
        "message": f"{what} name the customer key with id_column='...'",
        "cli_message": f"{what} name the customer key with --id-column COLUMN",
    }


def assemble_model(
    *,
    data: pd.DataFrame,
    checked: RowCheck,
    schema: TableSchema,
    plan: PreparationPlan,
    labels: np.ndarray,
    centroids: np.ndarray,
    sizes: np.ndarray,
    prepared: np.ndarray,
    metrics: dict[str, Any],
    selection: KSelection | None,
    cfg: FitConfig,
    playbook: Any,
    training: dict[str, Any],
    lineage: Lineage | None = None,
    warnings: list[dict[str, Any]] | None = None,
    warn: OnWarning | None = None,
) -> SegmentationModel:
    """Explain fitted segments and assemble the :class:`SegmentationModel`.

    Parameters
    ----------
    data : pandas.DataFrame
        The raw rows the segments are explained on (every row of the table, or a
        uniform sample), all usable, in the order of ``labels``.
    checked : RowCheck
        ``data`` checked against ``schema``.
    schema, plan : TableSchema, PreparationPlan
        The fitted schema and preparation.
    labels : numpy.ndarray
        Segment of each row of ``data``, in the final numbering.
    centroids : numpy.ndarray
        Centroids in the final numbering.
    sizes : numpy.ndarray
        Rows per segment among all rows of the table.
    prepared : numpy.ndarray
        ``data`` prepared by ``plan`` (the rows of ``labels``): their distances to the
        nearest centroid make the model's ``distance_profile``, on every row or on
        the uniform sample, like the explanation.
    metrics : dict
        The evaluation (plain data).
    selection : KSelection or None
        The k sweep (``None`` when the table allowed no k).
    cfg : FitConfig
        The settings of the fit.
    playbook : Playbook or None
        The playbook the user chose; ``None`` lets the columns choose one.
    training : dict
        What the data is (rows, columns, source...), stored in the model.
    lineage : Lineage or None, default=None
        How the segments continue those of a previous model (names carried over).
    warnings : list of dict or None, default=None
        Warnings given earlier in the fit (no identifier), kept first in the model.
    warn : callable or None, default=None
        Receives each leakage warning as soon as it is found; the model holds them too.

    Returns
    -------
    SegmentationModel
    """
    seed = cfg.random_state
    k = int(centroids.shape[0])
    n_rows = int(np.sum(sizes))
    held = int(np.count_nonzero(sizes))
    if held < k:
        # K-means gives duplicate centroids when the table has fewer distinct rows than
        # k: a segment without a customer has no profile, name or rule.
        raise DataError(
            f"only {held} of the k={k} segments hold customers: the table has fewer"
            f" distinct customers than k after preparation; ask for at most {held}"
            f" segments (--k {held}) or add columns that tell the customers apart"
        )
    profiles, rules = _profiles_and_rules(data, checked, schema, plan, labels, seed)
    levels = _profile_levels(data, checked, schema, labels)
    choice = choose_playbook(list(data.columns), playbook)
    outcomes = _profile_outcomes(data, schema, labels)
    names = _name_segments(profiles, choice.playbook, levels, outcomes, schema)
    warnings = list(warnings or [])
    for warning in _fit_warnings(plan, checked, labels, [n.name for n in names]):
        warnings.append(warning)
        if warn is not None:
            warn(warning)
    segments = _segments(names, rules, sizes, n_rows)
    record = None
    if lineage is not None:
        segments, record = lineage.carry_identities(segments)
    segments = _with_stability(segments, metrics.get("segment_stability"), warnings, warn)
    audit = _sensitive_audit(data, schema, plan, labels, [s.name for s in segments], warnings, warn)
    # The distances scoring will compare with: to the nearest centroid (what scoring
    # assigns), which after Lloyd's last step is the row's own one.
    nearest = assign_checked(
        np.ascontiguousarray(prepared, dtype=np.float64),
        np.ascontiguousarray(centroids, dtype=np.float64),
    )
    profile = distance_profile(nearest.distance, nearest.labels, k, rows_of_table=n_rows)
    reference = reference_statistics(checked.frame, schema, random_state=seed)
    if len(checked.frame) < n_rows:
        reference["rows"] = n_rows
    return SegmentationModel(
        schema=schema,
        preparation=plan,
        feature_names=list(plan.feature_names),
        centroids=np.asarray(centroids, dtype=np.float64).tolist(),
        segments=segments,
        distance_profile=DistanceProfile(**profile),
        playbook=PlaybookRecord(**choice.to_dict()),
        metrics=metrics,
        k_selection=selection,
        profiles={
            **profiles.to_dict(),
            "rules": rules.to_dict(),
            "outcomes": outcomes,
            "levels": levels.to_dict(),
            "audit": audit,
        },
        drift_reference=reference,
        training=training,
        settings={**cfg.to_dict(), "k": k},
        lineage=record,
        warnings=warnings,
    )


def _with_stability(
    segments: list[Segment],
    records: list[dict[str, Any]] | None,
    warnings: list[dict[str, Any]],
    warn: OnWarning | None,
) -> list[Segment]:
    """Segments with their stability; an unstable one loses its strategies, with a warning.

    After naming (and the lineage's names): a segment that dissolves under resampling
    (mean Jaccard below 0.6) is no basis for a campaign, whatever the playbook says.
    """
    if not records:
        return segments
    out = []
    for segment, record in zip(segments, records, strict=True):
        value, band = record["jaccard"], record["band"]
        if band == "unstable":
            message = (
                f"segment {segment.id} ({segment.name}) is unstable: read with care; its"
                f" stability under resampling is {value:.2f} (mean Jaccard, below"
                f" {UNSTABLE_BELOW}), so it gets no strategies; compare the other k in the"
                " report's choice of k before acting on it"
            )
            warning = {
                "kind": "unstable_segment",
                "message": message,
                "cli_message": message,
                "segment_id": segment.id,
                "stability": value,
            }
            warnings.append(warning)
            if warn is not None:
                warn(warning)
            segment = replace(segment, strategies=[])
        out.append(replace(segment, stability=value, stability_band=band))
    return out


def _segments(names: list[Any], rules: Any, sizes: np.ndarray, n_rows: int) -> list[Segment]:
    return [
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
        for i in range(len(names))
    ]


def _fit_warnings(
    plan: PreparationPlan, checked: RowCheck, labels: np.ndarray, names: list[str]
) -> list[dict[str, Any]]:
    """One warning per group of columns that encode one fact, then the leakage guard's."""
    out = [_redundancy_warning(group) for group in plan.redundancy]
    group_of = {column: g for g in plan.redundancy for column in _copies(g)}
    for rule in single_column_rules(
        checked.frame,
        labels,
        numeric=plan.input_numeric,
        categorical=plan.input_categorical,
        groups=[_copies(g) for g in plan.redundancy],
    ):
        out.append(_leakage_warning(rule, names[rule.segment_id], group_of.get(rule.column)))
    return out


def _copies(group: RedundancyGroup) -> list[str]:
    """The columns of a group that carry its one fact, the clustered one first.

    In ``part = total - other`` only the total and the part that follows it are copies
    of each other: the other part is a fact of its own, and leaving it out would lose it.
    """
    if group.kind == "sum":
        part, (total, other) = group.repeats[0].column, (m.column for m in group.kept)
        if group.formula == f"{part} = {total} - {other}":
            return [total, part]
    return group.columns


def _redundancy_warning(group: RedundancyGroup) -> dict[str, Any]:
    message = group.message()
    keep = "" if not group.applied else "; keep every column with"
    return {
        "kind": "redundancy",
        "message": f"{message}{keep} keep_redundant=True" if keep else message,
        "cli_message": f"{message}{keep} --keep-redundant" if keep else message,
        "columns": group.columns,
        "group": group.to_dict(),
    }


def _leakage_warning(
    rule: OneColumnRule, segment_name: str, group: RedundancyGroup | None = None
) -> dict[str, Any]:
    found = (
        f"column {rule.column!r} alone reproduces segment {rule.segment_id}"
        f" ({segment_name}): {rule.text} has precision {rule.precision:.2f} and coverage"
        f" {rule.coverage:.2f}"
    )
    columns = list(rule.group) or [rule.column]
    if len(columns) == 1:
        what = f"{found}; if it is an outcome, a label or a score, leave it out with"
    else:
        # Leaving out one column of a group moves the rule to the next one: the advice
        # names every column that says the same thing.
        what = (
            f"{found}; {_group_words(columns, group)} say the same thing: if it is the fact"
            " the segment is built on, the segment may be legitimate; if it is an outcome,"
            " a label or a score, leave out the whole group with"
        )
    return {
        "kind": "leakage",
        "message": f"{what} exclude={columns!r}",
        "cli_message": f"{what} --exclude {shlex.quote(','.join(columns))}",
        "column": rule.column,
        "segment_id": rule.segment_id,
        "rule": rule.text,
        "precision": rule.precision,
        "coverage": rule.coverage,
        "exclude": columns,
    }


def _profiles_and_rules(
    data: pd.DataFrame,
    checked: RowCheck,
    schema: TableSchema,
    plan: PreparationPlan,
    labels: np.ndarray,
    seed: int,
) -> tuple[SegmentProfiles, RuleSet]:
    """Numeric profiles (behaviour, derived ratios, numeric descriptors) and the rules."""
    derived = plan.derive(checked)
    explained = [*plan.input_numeric, *[f.name for f in plan.domain_features if f.kind == "ratio"]]
    # Rules say how to find a segment's customers from what was segmented on, never
    # from who they are; numeric descriptors (age, dependents, senior flags) are
    # profiled beside the behaviour, text ones by level.
    rules = segment_rules(
        derived, labels, columns=explained, sample_size=RULE_SAMPLE, random_state=seed
    )
    for name, values in _numeric_descriptors(data, schema).items():
        derived[name] = values
        explained.append(name)
    clustering = [s.column for s in plan.numeric_steps] + [c.column for c in plan.categorical_steps]
    profiles = profile_segments(derived, labels, columns=explained, clustering_features=clustering)
    return profiles, rules


def _group_words(columns: list[str], group: RedundancyGroup | None) -> str:
    """``InternetService and the 6 columns whose level 'No internet service' repeats it``."""
    lead, others = columns[0], columns[1:]
    if group is not None and group.kind == "sum" and len(columns) > 2:
        return f"{', '.join(columns[:-1])} and {columns[-1]} ({group.formula})"
    levels = sorted({str(m.level) for m in group.repeats}) if group is not None else []
    if group is not None and group.kind == "levels" and len(levels) == 1:
        how = f"whose level {levels[0]!r} repeats it"
    else:
        how = "that repeat it" if len(others) > 1 else "that repeats it"
    many = f"the {len(others)} columns" if len(others) > 1 else "the column"
    return f"{lead} and {many} {how} ({', '.join(others)})"


def _numeric_descriptors(data: pd.DataFrame, schema: TableSchema) -> dict[str, np.ndarray]:
    """Descriptor columns that hold numbers, as float64 (NaN for gaps and non-numbers)."""
    lookup = column_lookup(data.columns)
    out: dict[str, np.ndarray] = {}
    for name in schema.descriptors:
        text = (
            text_values(data[lookup[name]])
            if value_kind(data[lookup[name]]) in ("text", "other")
            else data[lookup[name]]
        )
        numbers = pd.to_numeric(text, errors="coerce")
        if pd.api.types.is_bool_dtype(numbers.dtype):
            numbers = numbers.astype("float64")
        present = text.notna().sum()
        if not present or numbers.notna().sum() < 0.9 * present:
            continue
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        out[name] = np.where(np.isfinite(values), values, np.nan)
    return out


def _profile_levels(
    data: pd.DataFrame, checked: RowCheck, schema: TableSchema, labels: np.ndarray
) -> LevelProfiles:
    """Level shares of the categorical, descriptor and text outcome columns."""
    lookup = column_lookup(data.columns)
    columns: dict[str, np.ndarray] = {}
    for info in schema.columns:
        if info.role == "categorical":
            columns[info.name] = checked.frame[info.name].to_numpy()
        elif info.role in ("descriptor", "outcome") and info.name in lookup:
            columns[info.name] = data[lookup[info.name]].to_numpy()
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(labels)))
    roles = level_roles([(c.name, c.role) for c in schema.columns], frame)
    return profile_levels(frame, labels, columns=roles)


def _name_segments(
    profiles: SegmentProfiles,
    playbook: Playbook,
    levels: LevelProfiles | None,
    outcomes: dict[str, Any],
    schema: TableSchema,
) -> list[SegmentNaming]:
    """Names and strategies: outcome strategies first, descriptors never a lever."""
    # Clustered on request or not, a descriptor is never a lever.
    descriptors = schema.all_descriptors
    return name_segments(
        profiles, playbook=playbook, levels=levels, outcomes=outcomes, descriptors=descriptors
    )


def _sensitive_audit(
    data: pd.DataFrame,
    schema: TableSchema,
    plan: PreparationPlan,
    labels: np.ndarray,
    names: list[str],
    warnings: list[dict[str, Any]],
    warn: OnWarning | None,
) -> dict[str, Any]:
    """The audit of the protected columns, read raw (descriptors are not in the matrix).

    A segment departing strongly from the population on one adds a warning.
    """
    lookup = column_lookup(data.columns)
    protected = schema.protected
    frame = pd.DataFrame(
        {name: data[lookup[name]].reset_index(drop=True) for name in protected},
        index=pd.RangeIndex(len(data)),
    )
    clustered = [*plan.input_numeric, *plan.input_categorical]
    audit = audit_segments(frame, labels, protected, k=len(names), clustered=clustered).to_dict()
    caution = audit_warning(audit, names)
    if caution is not None:
        warnings.append(caution)
        if warn is not None:
            warn(caution)
    return audit


def _profile_outcomes(
    data: pd.DataFrame, schema: TableSchema, labels: np.ndarray
) -> dict[str, Any]:
    """Outcome columns as numbers (flags 0/1), their means per segment and their kinds."""
    lookup = column_lookup(data.columns)
    columns: dict[str, np.ndarray] = {}
    details: dict[str, dict[str, Any]] = {}
    for name in schema.outcomes:
        values, positive = encode_outcome(data[lookup[name]])
        if values is None:
            continue
        columns[name] = values
        reason = schema.column(name).reason
        details[name] = {
            "kind": reason.split(";")[0],
            "family": outcome_family(reason),
            **({"positive": positive} if positive else {}),
        }
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(labels)))
    return profile_outcomes(frame, labels, columns=list(columns), details=details)
