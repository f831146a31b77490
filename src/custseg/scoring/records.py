"""JSON-like records scored with a :class:`~custseg.scoring.scorer.Scorer`: the service's path.

One result per record, in order, each with its status and score columns, plus the counts
of the scoring contract (:mod:`custseg.scoring.contract`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._utils.lazy import lazy_module
from .contract import FLAGS_COLUMN, PERCENTILE_COLUMN, contract_counts, json_id
from .scorer import Scorer

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["score_json", "score_records"]


def score_records(scorer: Scorer, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Score JSON-like records; one result per record, in order.

    The results of :func:`score_json` without its counts.
    """
    return score_json(scorer, records)[0]


def score_json(
    scorer: Scorer, records: Sequence[Mapping[str, Any]], *, reject: frozenset[str] = frozenset()
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Score JSON-like records; one result per record, in order, and the counts.

    Each result has ``index`` (position in ``records``), ``id``, ``status``
    (``"scored"`` or ``"rejected"``), the score columns (``None`` when rejected)
    and ``reason`` (``None`` when scored). The counts are those of
    :class:`~custseg.scoring.batch.ScoreSummary`: ``missing_id``, ``duplicate_id``,
    ``unseen_level`` and ``out_of_profile``.

    Raises
    ------
    SchemaError
        If a record lacks a field the model needs.
    """
    if scorer.id_column is not None:
        ids = [json_id(record.get(scorer.id_column)) for record in records]
    else:
        ids = [None] * len(records)
    chunk = scorer.score_plain_records(
        records, ids if scorer.id_column is not None else None, reject
    )
    if chunk is None:
        fields = ([scorer.id_column] if scorer.id_column is not None else []) + scorer.required
        frame = pd.DataFrame.from_records(list(records), columns=fields)
        chunk = scorer.assign_prepared(
            scorer.prepare_frame(frame), reject=reject, count_duplicates=True
        )
    labels = chunk.labels.tolist()
    names = scorer.names[chunk.labels].tolist()
    distance = chunk.distance.tolist()
    runner_up: list[Any] = chunk.runner_up.tolist()
    margin: list[Any] = chunk.margin.tolist()
    percentile = scorer.percentiles(chunk).tolist()
    flags = scorer.flag_codes.texts(chunk.flags)
    if len(scorer.names) == 1:
        # One segment has no runner-up (-1) and an infinite margin: JSON says null.
        runner_up = margin = [None] * len(labels)
    reasons = chunk.reasons.tolist()
    out: list[dict[str, Any]] = []
    i_ok = i_bad = 0
    for index, (identifier, usable) in enumerate(zip(ids, chunk.ok.tolist(), strict=True)):
        if usable:
            out.append(
                {
                    "index": index,
                    "id": identifier,
                    "status": "scored",
                    "segment_id": labels[i_ok],
                    "segment_name": names[i_ok],
                    "distance": distance[i_ok],
                    "runner_up_id": runner_up[i_ok],
                    "margin": margin[i_ok],
                    PERCENTILE_COLUMN: percentile[i_ok],
                    FLAGS_COLUMN: flags[i_ok],
                    "reason": None,
                }
            )
            i_ok += 1
        else:
            out.append(
                {
                    "index": index,
                    "id": identifier,
                    "status": "rejected",
                    "segment_id": None,
                    "segment_name": None,
                    "distance": None,
                    "runner_up_id": None,
                    "margin": None,
                    PERCENTILE_COLUMN: None,
                    FLAGS_COLUMN: None,
                    "reason": reasons[i_bad],
                }
            )
            i_bad += 1
    return out, contract_counts(chunk.counts)
