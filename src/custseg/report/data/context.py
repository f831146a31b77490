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
