"""Data for what frames the whole report: the playbook that named the segments, its
wording, and the warnings the fit raised.

The report speaks of the customers and the business the table is about: card holders
and "the bank's policies" only when the credit-card playbook named the segments,
shoppers and marketing policies with the retail playbook, neutral words otherwise.
"""

from __future__ import annotations

from typing import Any

from ...explain.playbook import DEFAULT_WORDING
from ...model import SegmentationModel

__all__ = ["NEUTRAL_CONTEXT", "playbook_context", "fit_warnings"]

NEUTRAL_CONTEXT: dict[str, Any] = {
    "name": "Neutral",
    "key": "neutral",
    "domain": "",
    "chosen_by": None,
    "summary": "",
    **DEFAULT_WORDING,
}
"""The playbook context of a report drawn without a model (the figures' defaults)."""


def playbook_context(model: SegmentationModel) -> dict[str, Any]:
    """Which playbook named the segments, how it was chosen, and the report's words.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model.

    Returns
    -------
    dict
        ``name``, ``key``, ``domain``, ``chosen_by`` (``"columns"`` or ``"user"``),
        ``summary`` (one sentence), ``customers``, ``practice`` and ``review``.
    """
    record = model.playbook
    return {
        "name": record.name,
        "key": record.key,
        "domain": record.domain,
        "chosen_by": record.chosen_by,
        "summary": record.summary,
        **DEFAULT_WORDING,
        **record.wording,
    }


def fit_warnings(model: SegmentationModel) -> list[dict[str, Any]]:
    """The warnings of the fit, as the report shows them.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model; ``model.warnings`` lists dictionaries with at least ``kind``
        and ``message``.

    Returns
    -------
    list of dict
        ``kind`` and ``message`` of each warning, plus its other details as recorded.
    """
    return [dict(warning) for warning in model.warnings]


def rollup_context(model: SegmentationModel) -> dict[str, Any] | None:
    """What a reader is told of the roll-up of a model fitted from transaction lines.

    ``sentence``: the lines and customers, the window and the as-of date, the recipe;
    ``left_out``: one phrase per reason with its count; ``None`` for a customer table.
    """
    record = model.training.get("transactions")
    if not record:
        return None
    counts = record.get("counts") or {}
    used = int(counts.get("lines_used", 0))
    customers = int(counts.get("customers", 0))
    sentence = (
        f"Segments were built from {used:,} transaction{'s' if used != 1 else ''} of"
        f" {customers:,} customer{'s' if customers != 1 else ''} over {record.get('window')}"
        f" ({record.get('window_start')} to {record.get('as_of')}, not included; as-of date:"
        f" {record.get('as_of_rule')}), rolled up with the {record.get('recipe')} recipe"
        f" from {record.get('source')}."
    )
    left_out = [
        f"{int(n):,} {'line' if int(n) == 1 else 'lines'} {why}"
        for why, n in (counts.get("left_out") or {}).items()
        if n
    ]
    netted = counts.get("netted") or {}
    for what, n in netted.items():
        if n:
            left_out.append(f"{int(n):,} {what} netted against purchases")
    return {"sentence": sentence, "left_out": left_out}
