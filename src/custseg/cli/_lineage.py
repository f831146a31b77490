"""How ``custseg fit --previous`` shows the lineage of the new segments (stderr only).

Cheap to import: Rich only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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

    lineage = model.lineage
    if STATE.quiet or lineage is None:
        return
    previous = lineage.previous_names
    table = Table(title="Segments against the previous model", show_lines=False)
    for column in ("id", "name", "previous", "status", "shift"):
        table.add_column(column, justify="right" if column in ("id", "shift") else "left")
    for segment in model.segments:
        key = str(segment.id)
        if segment.id in lineage.matched:
            old = lineage.matched[segment.id]
            status = "kept" if old == segment.id else f"was {old}"
            if segment.id in lineage.renamed:
                status += f" (playbook now: {lineage.renamed[segment.id]})"
            table.add_row(
                key,
                segment.name,
                f"{old} {previous.get(old, '')}",
                status,
                f"{lineage.relative_shift[segment.id]:.2f}",
            )
        else:
            near = lineage.nearest.get(segment.id)
            hint = f"nearest previous: {near} {previous.get(near, '')}" if near is not None else ""
            table.add_row(key, segment.name, "", "new", hint)
    for old in lineage.retired:
        table.add_row("", "", f"{old} {previous.get(old, '')}", "retired", "")
    err_console.print(table)
    info(
        f"{len(lineage.matched)} continued, {len(lineage.new)} new,"
        f" {len(lineage.retired)} retired (shift: distance moved, relative to the"
        f" distance to the nearest other previous segment; above {lineage.max_shift}"
        " a segment counts as new)"
    )
