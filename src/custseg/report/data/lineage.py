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
    if not lineage:
        return None
    names: dict[str, str] = lineage.get("previous_names", {})
    matched: dict[str, int] = lineage.get("matched", {})
    relative: dict[str, float] = lineage.get("relative_shift", {})
    renamed: dict[str, str] = lineage.get("renamed", {})
    nearest: dict[str, int] = lineage.get("nearest", {})
    rows: list[dict[str, Any]] = []
    for segment in model.segments:
        key = str(segment.id)
        old = matched.get(key)
        near = nearest.get(key)
        rows.append(
            {
                "id": segment.id,
                "name": segment.name,
                "status": "new" if old is None else "kept" if old == segment.id else "renumbered",
                "previous_id": old,
                "previous_name": names.get(str(old)) if old is not None else None,
                "relative_shift": relative.get(key),
                "nearest_id": near,
                "nearest_name": names.get(str(near)) if near is not None else None,
                "playbook_name": renamed.get(key),
            }
        )
    for old in lineage.get("retired", []):
        rows.append(
            {
                "id": None,
                "name": None,
                "status": "retired",
                "previous_id": old,
                "previous_name": names.get(str(old)),
                "relative_shift": None,
                "nearest_id": None,
                "nearest_name": None,
                "playbook_name": None,
            }
        )
    checksum = str(lineage.get("previous_checksum", ""))
    return {
        "previous_checksum": checksum.removeprefix("sha256:")[:12],
        "previous_created_at": lineage.get("previous_created_at"),
        "max_shift": lineage.get("max_shift"),
        "rows": rows,
    }
