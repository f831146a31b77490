"""The lineage of the report: how the model's segments continue a previous model's."""

from __future__ import annotations

from typing import Any

from ...model import SegmentationModel

__all__ = ["lineage_section"]


def lineage_section(model: SegmentationModel) -> dict[str, Any] | None:
    """The segments against the previous model, or ``None`` without ``--previous``.

    Returns
    -------
    dict or None
        ``previous_checksum`` (short), ``previous_created_at``, ``max_shift`` and
        ``rows``: one per segment of the model (``id``, ``name``, ``status`` ``kept``,
        ``renumbered`` or ``new``, ``previous_id``, ``previous_name``,
        ``relative_shift``, ``playbook_name`` when the playbook now names it
        differently) then one per retired previous segment (``status`` ``retired``).
    """
    lineage = model.lineage
    if lineage is None:
        return None
    names = lineage.previous_names
    rows: list[dict[str, Any]] = []
    for segment in model.segments:
        old = lineage.matched.get(segment.id)
        near = lineage.nearest.get(segment.id)
        rows.append(
            {
                "id": segment.id,
                "name": segment.name,
                "status": "new" if old is None else "kept" if old == segment.id else "renumbered",
                "previous_id": old,
                "previous_name": names.get(old) if old is not None else None,
                "relative_shift": lineage.relative_shift.get(segment.id),
                "nearest_id": near,
                "nearest_name": names.get(near) if near is not None else None,
                "playbook_name": lineage.renamed.get(segment.id),
            }
        )
    for old in lineage.retired:
        rows.append(
            {
                "id": None,
                "name": None,
                "status": "retired",
                "previous_id": old,
                "previous_name": names.get(old),
                "relative_shift": None,
                "nearest_id": None,
                "nearest_name": None,
                "playbook_name": None,
            }
        )
    return {
        "previous_checksum": lineage.previous_checksum.removeprefix("sha256:")[:12],
        "previous_created_at": lineage.previous_created_at,
        "max_shift": lineage.max_shift,
        "rows": rows,
    }
