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

from .._utils.checks import check_frame
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
        check_frame(frame, name)
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
    return _compare(left, right, key, names)


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
    segment = pd.to_numeric(frame["segment_id"], errors="coerce")
    whole = segment.notna() & np.isfinite(segment) & (segment == segment.round())
    if not bool(whole.all()):
        row = int(np.flatnonzero(~whole.to_numpy())[0]) + 1
        raise DataError(
            f"{name}: segment_id {frame['segment_id'].iloc[row - 1]!r} in row {row} is not a"
            " segment number; pass files written by `custseg score`"
        )
    label = (
        frame["segment_name"].astype(str)
        if "segment_name" in frame.columns
        else pd.Series("", index=frame.index)
    )
    # Columns stay pandas (Arrow text): converting a million ids to Python strings costs
    # more than the whole comparison.
    return pd.DataFrame(
        {
            "id": text.reset_index(drop=True),
            "segment": segment.astype(np.int64).reset_index(drop=True),
            "name": label.reset_index(drop=True),
        }
    )


def _id_text(ids: pd.Series) -> pd.Series:
    """Identifiers as text, whole numbers without a decimal point (1001.0 -> "1001")."""
    if pd.api.types.is_numeric_dtype(ids) and not pd.api.types.is_bool_dtype(ids):
        values = ids.to_numpy(dtype=np.float64)
        if np.all(values == np.round(values)):
            return pd.Series(values.astype(np.int64).astype(str), index=ids.index)
    return ids.astype(str)


def _names(side: pd.DataFrame) -> dict[int, str]:
    """Most frequent name of each segment id."""
    counts = side.groupby(["segment", "name"]).size().reset_index(name="n")
    counts = counts.sort_values(["segment", "n"], ascending=[True, False])
    return dict(zip(counts["segment"].astype(int), counts["name"], strict=False))


def _compare(
    left: pd.DataFrame, right: pd.DataFrame, key: str, names: tuple[str, str]
) -> Migration:
    # One hash pass over both identifier columns; everything after is integer arithmetic
    # on the codes (a pandas merge of a million text keys costs several times more).
    codes, _ = pd.factorize(pd.concat([left["id"], right["id"]], ignore_index=True))
    codes = np.asarray(codes, dtype=np.int64)
    n_codes = int(codes.max()) + 1
    old_codes, new_codes = codes[: len(left)], codes[len(left) :]
    for side, side_codes, name in ((left, old_codes, names[0]), (right, new_codes, names[1])):
        counts = np.bincount(side_codes, minlength=n_codes)
        if bool((counts > 1).any()):
            first = int(np.flatnonzero(counts[side_codes] > 1)[0])
            example = side["id"].iloc[first]
            raise DataError(
                f"{name}: {key} {example!r} appears {int(counts[side_codes[first]])} times"
                f" ({int((counts > 1).sum())} identifiers repeat); migration needs one row per"
                " customer"
            )
    old_segment = left["segment"].to_numpy()
    new_segment = right["segment"].to_numpy()
    new_by_code = np.full(n_codes, -1, dtype=np.int64)
    new_by_code[new_codes] = new_segment
    in_old = np.zeros(n_codes, dtype=bool)
    in_old[old_codes] = True
    matched = new_by_code[old_codes] >= 0  # rows of the old table found in the new one
    if not bool(matched.any()):
        raise DataError(
            f"no customer is in both tables (e.g. {key} {left['id'].iloc[0]!r} and"
            f" {right['id'].iloc[0]!r}); pass two scorings of the same customers, or name the"
            " identifier with --id-column"
        )
    old_names, new_names = _names(left), _names(right)
    seg_old, seg_new = sorted(old_names), sorted(new_names)
    row = np.searchsorted(seg_old, old_segment[matched])
    col = np.searchsorted(seg_new, new_by_code[old_codes[matched]])
    matrix = np.bincount(row * len(seg_new) + col, minlength=len(seg_old) * len(seg_new)).reshape(
        len(seg_old), len(seg_new)
    )
    i, j = np.nonzero(matrix)
    customers = matrix[i, j]
    from_segment = np.asarray(seg_old, dtype=np.int64)[i]
    to_segment = np.asarray(seg_new, dtype=np.int64)[j]
    transitions = pd.DataFrame(
        {
            "from_segment": from_segment,
            "from_name": [old_names[int(s)] for s in from_segment],
            "to_segment": to_segment,
            "to_name": [new_names[int(s)] for s in to_segment],
            "customers": customers.astype(np.int64),
            "share_of_from": customers / matrix.sum(axis=1)[i],
        },
        columns=TRANSITION_COLUMNS,
    )
    only_old = _rows(left, ~matched, key)
    only_new = _rows(right, ~in_old[new_codes], key)
    sizes = {
        "customers_old": len(left),
        "customers_new": len(right),
        "only_old": len(only_old),
        "only_new": len(only_new),
    }
    summary = _summary(key, transitions, (old_names, new_names), sizes)
    return Migration(key, transitions, only_old, only_new, matrix, summary)


def _rows(side: pd.DataFrame, mask: np.ndarray, key: str) -> pd.DataFrame:
    """Customers of one table only: identifier, segment id and name, in table order."""
    part = side[mask].reset_index(drop=True)
    return pd.DataFrame(
        {key: part["id"], "segment_id": part["segment"], "segment_name": part["name"]}
    )


def _summary(
    key: str,
    transitions: pd.DataFrame,
    names: tuple[dict[int, str], dict[int, str]],
    sizes: dict[str, int],
) -> dict[str, Any]:
    """The summary document of a comparison.

    ``names`` are the old and the new segment names; ``sizes`` the customers of each
    table (``customers_old``, ``customers_new``) and of one table only (``only_old``,
    ``only_new``).
    """
    old_names, new_names = names
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
        "customers_old": sizes["customers_old"],
        "customers_new": sizes["customers_new"],
        "matched": matched,
        "only_old": sizes["only_old"],
        "only_new": sizes["only_new"],
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
