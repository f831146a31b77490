"""Migration: where did the customers of each segment go between two scorings?

:func:`compare_scored` matches two scored tables (the output of ``custseg score`` or
:func:`~custseg.scoring.score_customers`, e.g. last quarter's and this quarter's) on the
customer identifier and counts the customers of every (segment then, segment now) pair.
Every customer present in both tables is counted in exactly one transition, so the
transitions add up to the matched customers; customers found in one table only are
listed apart.

Segment ids mean the same thing in both tables when the second model was fitted with
``custseg fit --previous`` (its lineage keeps the ids); the segment names in the files
show it, and a note warns when one id carries two names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ConfigError, DataError, SchemaError
from .scorer import SCORE_COLUMNS

__all__ = ["Migration", "TRANSITION_COLUMNS", "compare_scored", "compare_scored_files"]

TRANSITION_COLUMNS = [
    "from_segment",
    "from_name",
    "to_segment",
    "to_name",
    "customers",
    "share_of_from",
]
"""Columns of ``transitions.csv``: one row per (segment then, segment now) pair with customers."""
ONE_SIDE_COLUMNS = ["segment_id", "segment_name"]
# Flows quoted in the explanation.
_FLOWS_EXPLAINED = 3
_FLOWS_LISTED = 10


@dataclass(frozen=True)
class Migration:
    """Transitions between the segments of two scorings of the same customers.

    Attributes
    ----------
    id_column : str
        The identifier the tables were matched on.
    transitions : pandas.DataFrame
        Columns :data:`TRANSITION_COLUMNS`, one row per pair with at least one
        customer, by ``from_segment`` then ``to_segment``; ``customers`` adds up to
        ``summary["matched"]``.
    only_old, only_new : pandas.DataFrame
        Customers of one table only: the identifier, ``segment_id`` and ``segment_name``.
    matrix : numpy.ndarray of int64
        Customers per (old segment, new segment), rows ``summary["segments_old"]``,
        columns ``summary["segments_new"]`` (zeros included).
    summary : dict
        JSON-ready counts (``customers_old``, ``customers_new``, ``matched``,
        ``only_old``, ``only_new``, ``stayed``, ``moved``), the segments of each side,
        ``largest_flows``, ``explanation`` (one paragraph) and ``notes``.
    """

    id_column: str
    transitions: pd.DataFrame
    only_old: pd.DataFrame
    only_new: pd.DataFrame
    matrix: np.ndarray
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``migration.json``: the summary and the transitions."""
        rows = self.transitions.to_dict(orient="records")
        return {**self.summary, "transitions": [_plain_row(r) for r in rows]}


def compare_scored_files(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    *,
    id_column: str | None = None,
) -> Migration:
    """:func:`compare_scored` on two scored files (``.csv`` or ``.parquet``).

    Raises
    ------
    SourceError
        If a file cannot be read.
    SchemaError, DataError
        As :func:`compare_scored`.
    """
    from ..sources import read_table

    return compare_scored(
        read_table(old), read_table(new), id_column=id_column, names=(str(old), str(new))
    )


def compare_scored(
    old: pd.DataFrame,
    new: pd.DataFrame,
    *,
    id_column: str | None = None,
    names: tuple[str, str] = ("the old table", "the new table"),
) -> Migration:
    """Count the customers moving between segments from one scoring to the next.

    Parameters
    ----------
    old, new : pandas.DataFrame
        Scored customers: an identifier column, ``segment_id`` and (usually)
        ``segment_name``, one row per customer.
    id_column : str or None, default=None
        The identifier; by default the first column of ``old`` that ``new`` has too and
        that is not a score column (``custseg score`` writes the identifier first).
    names : tuple of str
        How errors and notes name the two tables (file paths for the command line).

    Returns
    -------
    Migration

    Raises
    ------
    SchemaError
        If a table lacks ``segment_id`` or the identifier column.
    DataError
        If a table is empty, an identifier is missing or repeats, or a segment id is not
        a whole number.
    """
    for frame, name in ((old, names[0]), (new, names[1])):
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{name} should be a pandas DataFrame, got {type(frame).__name__}")
        if "segment_id" not in frame.columns:
            raise SchemaError(
                f"{name} has no segment_id column: it is not a scored file; pass files written"
                " by `custseg score`"
            )
        if len(frame) == 0:
            raise DataError(f"{name} has no rows; pass a scored file with customers")
    key = _id_column(old, new, id_column, names)
    left = _side(old, key, names[0])
    right = _side(new, key, names[1])
    return _compare(left, right, key)


def _id_column(
    old: pd.DataFrame, new: pd.DataFrame, id_column: str | None, names: tuple[str, str]
) -> str:
    if id_column is not None:
        if not isinstance(id_column, str):
            raise ConfigError(f"id_column={id_column!r} should be a column name")
        for frame, name in ((old, names[0]), (new, names[1])):
            if id_column not in frame.columns:
                raise SchemaError(
                    f"{name} has no column {id_column!r} (--id-column); its columns are"
                    f" {', '.join(map(str, frame.columns[:8]))}"
                )
        return id_column
    for column in old.columns:
        if column in new.columns and column not in SCORE_COLUMNS:
            return str(column)
    raise SchemaError(
        f"{names[0]} and {names[1]} have no identifier column in common; name it with"
        " id_column (--id-column)"
    )


def _side(frame: pd.DataFrame, key: str, name: str) -> pd.DataFrame:
    """Identifier (as text), segment id and name of one table, checked."""
    ids = frame[key]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0]) + 1
        raise DataError(
            f"{name}: {int(ids.isna().sum())} rows have no {key} (first: row {row}); every"
            " customer needs an identifier to be followed"
        )
    text = _id_text(ids)
    repeated = text[text.duplicated()]
    if len(repeated):
        example = repeated.iloc[0]
        raise DataError(
            f"{name}: {key} {example!r} appears {int((text == example).sum())} times"
            f" ({repeated.nunique()} identifiers repeat); migration needs one row per customer"
        )
    segment = pd.to_numeric(frame["segment_id"], errors="coerce")
    whole = segment.notna() & np.isfinite(segment) & (segment == segment.round())
    if not bool(whole.all()):
        row = int(np.flatnonzero(~whole.to_numpy())[0]) + 1
        raise DataError(
            f"{name}: segment_id {frame['segment_id'].iloc[row - 1]!r} in row {row} is not a"
            " segment number; pass files written by `custseg score`"
        )
    label = (
        frame["segment_name"].astype(str).to_numpy()
        if "segment_name" in frame.columns
        else np.full(len(frame), "", dtype=object)
    )
    return pd.DataFrame(
        {"id": text.to_numpy(), "segment": segment.astype(np.int64).to_numpy(), "name": label}
    )


def _id_text(ids: pd.Series) -> pd.Series:
    """Identifiers as text, whole numbers without a decimal point (1001.0 -> "1001")."""
    if pd.api.types.is_numeric_dtype(ids) and not pd.api.types.is_bool_dtype(ids):
        values = ids.to_numpy(dtype=np.float64)
        if np.all(values == np.round(values)):
            return pd.Series(values.astype(np.int64).astype(str), index=ids.index)
    return ids.astype(str).str.strip()


def _names(side: pd.DataFrame) -> dict[int, str]:
    """Most frequent name of each segment id."""
    counts = side.groupby(["segment", "name"]).size().reset_index(name="n")
    counts = counts.sort_values(["segment", "n"], ascending=[True, False])
    return dict(zip(counts["segment"].astype(int), counts["name"], strict=False))


def _compare(left: pd.DataFrame, right: pd.DataFrame, key: str) -> Migration:
    merged = left.merge(right, on="id", how="outer", suffixes=("_old", "_new"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    if len(both) == 0:
        raise DataError(
            f"no customer is in both tables (e.g. {key} {left['id'].iloc[0]!r} and"
            f" {right['id'].iloc[0]!r}); pass two scorings of the same customers, or name the"
            " identifier with --id-column"
        )
    old_names, new_names = _names(left), _names(right)
    pairs = both.groupby(["segment_old", "segment_new"]).size().reset_index(name="customers")
    pairs["segment_old"] = pairs["segment_old"].astype(np.int64)
    pairs["segment_new"] = pairs["segment_new"].astype(np.int64)
    from_totals = pairs.groupby("segment_old")["customers"].transform("sum")
    transitions = pd.DataFrame(
        {
            "from_segment": pairs["segment_old"],
            "from_name": pairs["segment_old"].map(old_names),
            "to_segment": pairs["segment_new"],
            "to_name": pairs["segment_new"].map(new_names),
            "customers": pairs["customers"].astype(np.int64),
            "share_of_from": pairs["customers"] / from_totals,
        },
        columns=TRANSITION_COLUMNS,
    ).reset_index(drop=True)

    seg_old = sorted(old_names)
    seg_new = sorted(new_names)
    matrix = np.zeros((len(seg_old), len(seg_new)), dtype=np.int64)
    row = {s: i for i, s in enumerate(seg_old)}
    col = {s: j for j, s in enumerate(seg_new)}
    for a, b, n in zip(pairs["segment_old"], pairs["segment_new"], pairs["customers"], strict=True):
        matrix[row[int(a)], col[int(b)]] = int(n)

    only_old = _one_side(merged, key, "left_only", "_old")
    only_new = _one_side(merged, key, "right_only", "_new")
    summary = _summary(
        key, left, right, transitions, old_names, new_names, len(only_old), len(only_new)
    )
    return Migration(key, transitions, only_old, only_new, matrix, summary)


def _one_side(merged: pd.DataFrame, key: str, which: str, suffix: str) -> pd.DataFrame:
    """Customers of one table only: identifier, segment id and name."""
    part = merged[merged["_merge"] == which]
    return pd.DataFrame(
        {
            key: part["id"].to_numpy(),
            "segment_id": part[f"segment{suffix}"].astype(np.int64).to_numpy(),
            "segment_name": part[f"name{suffix}"].to_numpy(),
        }
    )


def _summary(
    key: str,
    left: pd.DataFrame,
    right: pd.DataFrame,
    transitions: pd.DataFrame,
    old_names: dict[int, str],
    new_names: dict[int, str],
    n_only_old: int,
    n_only_new: int,
) -> dict[str, Any]:
    matched = int(transitions["customers"].sum())
    same = transitions["from_segment"] == transitions["to_segment"]
    stayed = int(transitions.loc[same, "customers"].sum())
    moved_rows = transitions[~same].sort_values(
        ["customers", "from_segment", "to_segment"], ascending=[False, True, True]
    )
    by_from = transitions.groupby("from_segment")["customers"].sum()
    stayed_by = transitions[same].set_index("from_segment")["customers"]
    segments_old = [
        {
            "segment_id": s,
            "name": old_names[s],
            "customers": int(by_from.get(s, 0)),
            "stayed": int(stayed_by.get(s, 0)),
        }
        for s in sorted(old_names)
    ]
    by_to = transitions.groupby("to_segment")["customers"].sum()
    segments_new = [
        {"segment_id": s, "name": new_names[s], "customers": int(by_to.get(s, 0))}
        for s in sorted(new_names)
    ]
    flows = [_plain_row(r) for r in moved_rows.head(_FLOWS_LISTED).to_dict(orient="records")]
    notes = [
        f"segment {s} is {old_names[s]!r} in the old table and {new_names[s]!r} in the new one:"
        " the same id may not mean the same segment (a model fitted with --previous keeps the"
        " ids of the segments that continue)"
        for s in sorted(set(old_names) & set(new_names))
        if old_names[s] != new_names[s]
    ]
    summary = {
        "id_column": key,
        "customers_old": len(left),
        "customers_new": len(right),
        "matched": matched,
        "only_old": n_only_old,
        "only_new": n_only_new,
        "stayed": stayed,
        "moved": matched - stayed,
        "segments_old": segments_old,
        "segments_new": segments_new,
        "largest_flows": flows,
        "notes": notes,
    }
    summary["explanation"] = _explanation(summary)
    return summary


def _explanation(summary: dict[str, Any]) -> str:
    """One paragraph: how many stayed and moved, the largest flows, who came and went."""
    matched, stayed, moved = summary["matched"], summary["stayed"], summary["moved"]
    text = (
        f"Of the {matched:,} customers in both tables, {stayed:,} ({stayed / matched:.1%})"
        f" stayed in their segment and {moved:,} ({moved / matched:.1%}) moved."
    )
    flows = summary["largest_flows"][:_FLOWS_EXPLAINED]
    if flows:
        parts = [
            f"{f['customers']:,} from {f['from_name']} ({f['from_segment']}) to {f['to_name']}"
            f" ({f['to_segment']}), {f['share_of_from']:.1%} of {f['from_name']}"
            for f in flows
        ]
        joined = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]
        text += f" The largest {'flow' if len(parts) == 1 else 'flows'}: {joined}."
    text += (
        f" {summary['only_old']:,} customers are only in the old table (gone, or not scored"
        f" this time) and {summary['only_new']:,} only in the new one (new customers)."
    )
    return text


def _plain_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, np.integer):
            value = int(value)
        elif isinstance(value, np.floating):
            value = float(value)
        out[str(name)] = value
    return out
