"""Data for the "Outcomes by segment" table: churn rates, responses, scores per segment.

Outcome columns (labels such as churn or response flags, scores of earlier models) are
left out of the clustering and profiled per segment: for a business it is the table
that matters most. When this table has the outcome columns, the figures are measured
on it (read as the fit read them: :func:`custseg.prepare.outcomes.encode_outcome`, with
the level the model counted as 1); otherwise the training figures recorded in the model
are shown, and the table says so. A column holding only 0 and 1 is shown as a rate (%),
any other as a mean.

Beside each figure: its 95% interval, its lift (segment ÷ all customers) and whether
the segment is significantly above or below the rest of the customers, and per column
how strongly the segments separate it (Cramér's V or η², in words): the statistics of
:func:`custseg.explain.profile_outcomes`, measured on this table's rows or, for a
column it lacks, recorded at training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...explain.outcomes import profile_outcomes
from ...model import SegmentationModel
from ...prepare.outcomes import encode_outcome

__all__ = ["outcomes_by_segment"]


def outcomes_by_segment(
    model: SegmentationModel, rows: pd.DataFrame, labels: np.ndarray
) -> dict[str, Any] | None:
    """Per segment and outcome column, the rate or the mean; ``None`` without outcomes.

    Parameters
    ----------
    model : SegmentationModel
        The fitted model; ``model.profiles["outcomes"]`` (``columns``, ``population``
        and ``segments`` with ``id`` and ``values``) lists the outcome columns and
        their training figures.
    rows : pandas.DataFrame
        The usable rows of the raw table, in the order of ``labels``.
    labels : numpy.ndarray
        Segment of each row.

    Returns
    -------
    dict or None
        ``columns`` (per outcome: ``name``, ``kind`` = ``"rate"`` or ``"mean"`` and
        ``source`` = ``"table"`` or ``"training"``), ``population`` (one value per
        column) and ``segments`` (per segment: ``id`` and ``values``, one per column;
        ``None`` where a segment has no value), ``cells`` (per segment, one per column:
        ``low``, ``high``, ``lift``, ``direction`` = ``"above"``, ``"below"`` or
        ``None``; empty when unknown) and ``separation`` (per column: ``measure``,
        ``value``, ``strength`` and ``sentence``, or ``None``). ``None`` when the model
        records no outcome column.
    """
    record = model.profiles["outcomes"]
    names = [str(c) for c in record["columns"]]
    if not names:
        return None
    trained = {int(s["id"]): s["values"] for s in record["segments"]}
    population = record["population"]
    details = record["details"]
    columns = []
    table_population: list[Any] = []
    per_segment: list[list[Any]] = [[] for _ in range(model.k)]
    cells: list[list[dict[str, Any]]] = [[] for _ in range(model.k)]
    separation: list[dict[str, Any] | None] = []
    trained_stats = record.get("stats") or {}
    for name in names:
        positive = (details.get(name) or {}).get("positive")
        values = _numeric(rows[name], positive) if name in rows.columns else None
        measured = values is not None and bool(np.isfinite(values).any())
        stats = _table_stats(values, labels) if values is not None and measured else None
        stats = stats or trained_stats.get(name)
        separation.append(_separation(name, stats))
        for sid in range(model.k):
            cells[sid].append(_cell(stats, sid))
        if values is not None and measured:
            binary = bool(np.isin(values[np.isfinite(values)], (0.0, 1.0)).all())
            columns.append({"name": name, "kind": "rate" if binary else "mean", "source": "table"})
            table_population.append(float(np.nanmean(values)))
            for sid in range(model.k):
                members = values[(labels == sid) & np.isfinite(values)]
                per_segment[sid].append(float(members.mean()) if members.size else None)
            continue
        mean = population.get(name)
        binary = model.schema.column(name).n_unique == 2 and mean is not None and 0 <= mean <= 1
        columns.append({"name": name, "kind": "rate" if binary else "mean", "source": "training"})
        table_population.append(mean)
        for sid in range(model.k):
            per_segment[sid].append(trained.get(sid, {}).get(name))
    return {
        "columns": columns,
        "population": table_population,
        "segments": [
            {"id": sid, "values": per_segment[sid], "cells": cells[sid]} for sid in range(model.k)
        ],
        "separation": separation,
    }


def _table_stats(values: np.ndarray, labels: np.ndarray) -> dict[str, Any] | None:
    """The outcome's statistics on this table's rows."""
    frame = pd.DataFrame({"outcome": values})
    return dict(profile_outcomes(frame, labels, columns=["outcome"])["stats"]["outcome"])


def _cell(stats: dict[str, Any] | None, sid: int) -> dict[str, Any]:
    row = next((r for r in (stats or {}).get("segments", []) if r["id"] == sid), None)
    if row is None:
        return {}
    return {key: row.get(key) for key in ("low", "high", "lift", "direction")}


_MEASURES = {"cramers_v": "Cramér's V", "eta_squared": "η²"}


def _separation(name: str, stats: dict[str, Any] | None) -> dict[str, Any] | None:
    """How strongly the segments separate the outcome, with a sentence saying so."""
    found = (stats or {}).get("separation") or {}
    if found.get("value") is None:
        return None
    measure = _MEASURES.get(found["measure"], found["measure"])
    sentence = (
        f"The segments separate {name} {found['strength']}"
        f" ({measure} = {float(found['value']):.2f})."
    )
    return {**found, "sentence": sentence}


def _numeric(column: pd.Series, positive: str | None) -> np.ndarray | None:
    """The column as the fit read it, or ``None`` when it cannot be read the same way."""
    values, level = encode_outcome(column)
    if values is None or level == positive:
        return values
    if positive is None or level is None:
        return None  # numbers then, labels now (or the reverse): use the training figures
    present = column.dropna().astype(str)
    if positive not in set(present):
        return None
    # Two levels, the other one read as 1 here: count the model's level instead.
    return np.where(np.isnan(values), np.nan, 1.0 - values)
