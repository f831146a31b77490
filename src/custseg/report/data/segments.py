"""Data for the segment cards of the executive summary: size, colour, rule and suggestions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._utils.labels import abbreviate
from ..._utils.text import readable_name
from ...explain._traits import NAME_LABEL_LENGTH, NAME_LEVEL_LENGTH, TRAIT_LABEL_LENGTH
from ...model import SegmentationModel
from .._shared import segment_colors

__all__ = ["segment_cards", "shortened_in_segments"]


def segment_cards(
    model: SegmentationModel, sizes: np.ndarray, top_profiles: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """One card per segment of the model, sized on this table.

    Parameters
    ----------
    model : SegmentationModel
        The fitted model: names, descriptions, traits, rules and strategies.
    sizes : numpy.ndarray
        Customers of this table in each segment.
    top_profiles : dict of int to list of dict
        Per segment id, its most distinguishing profile rows.

    Returns
    -------
    list of dict
        ``id``, ``name``, ``size``, ``share``, ``training_share``, ``description``,
        ``traits``, ``rule`` (``text``, ``precision``, ``coverage`` or ``None``),
        ``strategies``, ``color``, ``top_profile``, ``stability`` and ``stability_band``
        (``"unstable"``: marked "unstable: read with care", without strategies).
    """
    colors = segment_colors(model.k)
    total = int(sizes.sum())
    return [
        {
            "id": seg.id,
            "name": seg.name or f"Segment {seg.id}",
            "size": int(sizes[seg.id]),
            "share": float(sizes[seg.id]) / total,
            "training_share": seg.share,
            "description": seg.description,
            "traits": list(seg.traits),
            "rule": _rule(seg.rule),
            "strategies": list(seg.strategies),
            "color": colors[seg.id],
            "top_profile": top_profiles.get(seg.id, []),
            # Mean Jaccard under resampling and its band (None: not measured).
            "stability": seg.stability,
            "stability_band": seg.stability_band,
        }
        for seg in model.segments
    ]


def _rule(rule: dict[str, Any]) -> dict[str, Any] | None:
    # A segment without a rule (Segment's default) or whose rule says nothing shows none.
    if not rule or not rule["text"]:
        return None
    return {"text": str(rule["text"]), "precision": rule["precision"], "coverage": rule["coverage"]}


def shortened_in_segments(
    model: SegmentationModel, cards: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """The column names that segment names, descriptions and traits shorten.

    Names and traits abbreviate a long label ("average balance kept current" for a
    130-character column); the reader gets the full names beside them. A shortened form
    is listed when it appears in a card's text.

    Returns
    -------
    list of dict
        ``shown`` (as the cards write it) and ``full`` (the column's name), in the
        table's column order.
    """
    texts = " \n ".join(
        str(part)
        for card in cards
        for part in (card["name"], card.get("description") or "", *card.get("traits", []))
    ).casefold()
    found: dict[str, str] = {}
    for info in model.schema.columns:
        label = readable_name(info.name)
        forms = {
            abbreviate(label, n) for n in (NAME_LABEL_LENGTH, NAME_LEVEL_LENGTH, TRAIT_LABEL_LENGTH)
        }
        # Longest first: a shorter form met only inside a longer one is not written alone.
        remaining = texts
        for shown in sorted(forms - {label}, key=len, reverse=True):
            if shown.casefold() in remaining:
                found.setdefault(shown, info.name)
                remaining = remaining.replace(shown.casefold(), " ")
    return [{"shown": shown, "full": full} for shown, full in found.items()]
