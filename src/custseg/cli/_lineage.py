"""How ``custseg fit --previous`` shows the lineage of the new segments (stderr only).

Cheap to import: Rich only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigError
from ._common import STATE, err_console, info

if TYPE_CHECKING:
    from ..model import SegmentationModel

__all__ = ["check_previous_is_not_replaced", "print_lineage"]


def check_previous_is_not_replaced(previous: Path, out: Path) -> None:
    """Refuse ``--previous`` when this fit's ``model.json`` would overwrite it."""
    given = previous / "model.json" if previous.is_dir() else previous
    if given.resolve() == (out / "model.json").resolve():
        raise ConfigError(
            f"--previous {previous} is the model this fit would replace ({out / 'model.json'});"
            " write the new fit to another folder, e.g. --out segments-next/"
        )


def print_lineage(model: SegmentationModel) -> None:
    """The mapping from the previous segments to the new ones, as a table on stderr."""
    from rich.table import Table

    lineage: dict[str, Any] = model.lineage
    if STATE.quiet or not lineage:
        return
    previous: dict[str, str] = lineage.get("previous_names", {})
    matched: dict[str, int] = lineage.get("matched", {})
    shift: dict[str, float] = lineage.get("relative_shift", {})
    nearest: dict[str, int] = lineage.get("nearest", {})
    renamed: dict[str, str] = lineage.get("renamed", {})
    table = Table(title="Segments against the previous model", show_lines=False)
    for column in ("id", "name", "previous", "status", "shift"):
        table.add_column(column, justify="right" if column in ("id", "shift") else "left")
    for segment in model.segments:
        key = str(segment.id)
        if key in matched:
            old = matched[key]
            status = "kept" if old == segment.id else f"was {old}"
            if key in renamed:
                status += f" (playbook now: {renamed[key]})"
            table.add_row(
                key,
                segment.name,
                f"{old} {previous.get(str(old), '')}",
                status,
                f"{shift[key]:.2f}",
            )
        else:
            near = nearest.get(key)
            hint = (
                f"nearest previous: {near} {previous.get(str(near), '')}"
                if near is not None
                else ""
            )
            table.add_row(key, segment.name, "", "new", hint)
    for old in lineage.get("retired", []):
        table.add_row("", "", f"{old} {previous.get(str(old), '')}", "retired", "")
    err_console.print(table)
    info(
        f"{len(matched)} continued, {len(lineage.get('new', []))} new,"
        f" {len(lineage.get('retired', []))} retired (shift: distance moved, relative to the"
        f" distance to the nearest other previous segment; above {lineage.get('max_shift')}"
        " a segment counts as new)"
    )
