"""Data for the "Choosing the number of segments" section, driven by the index registry.

The indices come from :func:`custseg.cluster.indices.registered_indices`, read when the
report is built: the data lists every registered index (``indices``) and every candidate
carries its value under each index name, so the figure panels, the caption and the table
columns follow the registry. An index added with
:func:`~custseg.cluster.indices.register_index` reaches the report without editing it.
"""

from __future__ import annotations

from typing import Any

from ...cluster.indices import index, registered_indices
from ...model import SegmentationModel

__all__ = ["KNEE_VOTE", "k_selection", "segment_stability"]

KNEE_VOTE = "knee"
"""The vote of the knee of the inertia curve: its name in the model and its words in the report."""

# Columns of the candidates table that do not depend on the registry.
_LEADING_KEYS = ("k", "inertia")
_TRAILING_KEYS = ("stability_ari", "min_share", "excluded_because")


def k_selection(model: SegmentationModel) -> dict[str, Any]:
    """The k that were compared, the indices that judged them, and the recommendation.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model; its ``k_selection`` record may be empty (k chosen by the analyst).

    Returns
    -------
    dict
        ``indices`` (``KIndex.describe()`` of every registered index, in registry order:
        ``name``, ``label``, ``direction``, ``title``, ``votes``, ``description``),
        ``candidates`` (sorted by k: ``k``, ``inertia``, one value per index name,
        ``stability_ari``, ``min_share``, ``excluded_because`` and ``votes`` in words),
        ``knee``, ``recommended_k``, ``chosen_k``, ``explanation``, ``rule``,
        ``rows_used``, ``sampled`` and ``segment_stability`` (:func:`segment_stability`).
    """
    indices = registered_indices()
    names = [entry.name for entry in indices]
    selection = model.k_selection
    if selection is None:
        return {
            "indices": [entry.describe() for entry in indices],
            "candidates": [],
            "knee": None,
            "recommended_k": None,
            "chosen_k": model.k,
            "explanation": f"The model was fitted with k = {model.k} segments, chosen by the"
            " analyst; no comparison of other values of k was recorded.",
            "rule": None,
            "rows_used": None,
            "sampled": False,
            "segment_stability": segment_stability(model),
        }
    candidates = []
    for candidate in sorted(selection.candidates, key=lambda c: c.k):
        # to_dict() holds every registered index: None where this fit did not measure it.
        values = candidate.to_dict()
        row = {key: values[key] for key in (*_LEADING_KEYS, *names, *_TRAILING_KEYS)}
        candidates.append({**row, "votes": [_vote_words(v) for v in candidate.votes]})
    return {
        "indices": [entry.describe() for entry in indices],
        "candidates": candidates,
        "knee": selection.knee,
        "recommended_k": selection.recommended_k,
        "chosen_k": model.k,
        "explanation": selection.explanation,
        "rule": selection.rule,
        "rows_used": selection.rows_used,
        "sampled": selection.sampled,
        "segment_stability": segment_stability(model),
    }


def segment_stability(model: SegmentationModel) -> list[dict[str, Any]]:
    """Each segment's stability under resampling, as ``metrics.json`` holds it.

    One row per segment: ``id``, ``name``, ``jaccard`` (mean Jaccard of its best match
    in the refits), ``half_width`` (of its 95% interval), ``band`` and ``resamples``;
    empty when the fit measured none (k given outside the sweep, or an older model).
    """
    records = model.metrics.get("segment_stability") or []
    names = {s.id: s.name or f"Segment {s.id}" for s in model.segments}
    return [
        {
            "id": record["segment_id"],
            "name": names.get(record["segment_id"], f"Segment {record['segment_id']}"),
            "jaccard": record["jaccard"],
            "half_width": record["half_width"],
            "band": record["band"],
            "resamples": record["resamples"],
        }
        for record in records
    ]


def _vote_words(name: str) -> str:
    if name == KNEE_VOTE:
        return KNEE_VOTE
    try:
        return f"best {index(name).label}"
    except KeyError:
        # A model fitted when another index was registered: show its name as recorded.
        return name
