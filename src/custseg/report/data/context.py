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
"""The playbook context of a model that records no playbook and that no playbook named."""


def playbook_context(model: SegmentationModel) -> dict[str, Any]:
    """Which playbook named the segments, how it was chosen, and the report's words.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model; models written before playbooks were recorded name none.

    Returns
    -------
    dict
        ``name``, ``key``, ``domain``, ``chosen_by`` (``"columns"``, ``"user"`` or
        ``None`` when not recorded), ``summary`` (one sentence, may be empty),
        ``customers``, ``practice`` and ``review``.
    """
    record = model.playbook or {}
    if record:
        wording = dict(DEFAULT_WORDING)
        wording.update({k: str(v) for k, v in (record.get("wording") or {}).items()})
        return {
            "name": str(record.get("name") or "custom"),
            "key": str(record.get("key") or ""),
            "domain": str(record.get("domain") or ""),
            "chosen_by": record.get("chosen_by"),
            "summary": str(record.get("summary") or ""),
            **wording,
        }
    named = any(s.playbook_key for s in model.segments)
    if named and not model.settings.get("playbook"):
        # Before playbooks were chosen from the columns, the credit-card playbook was
        # the only one shipped and the default.
        from ...explain import load_playbook

        card = load_playbook("credit_card")
        return {
            "name": card.name,
            "key": card.key,
            "domain": card.domain,
            "chosen_by": None,
            "summary": "",
            **card.wording,
        }
    return dict(NEUTRAL_CONTEXT)


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
        ``kind`` and ``message`` of each warning (a warning without a message shows
        its kind), plus its other details as recorded.
    """
    out = []
    for warning in model.warnings or []:
        if not isinstance(warning, dict):
            continue
        kind = str(warning.get("kind") or "warning")
        message = str(warning.get("message") or kind.replace("_", " "))
        out.append({**warning, "kind": kind, "message": message})
    return out
