"""``custseg demo``: the main job on the bundled sample."""

from __future__ import annotations

from pathlib import Path

import typer

from . import app


@app.command(
    "demo",
    epilog="Example: custseg demo --out demo-output",
)
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Output folder."),
) -> None:
    """Run custseg end to end on the bundled sample of 8,950 credit-card holders."""
    raise NotImplementedError("the demo pipeline is not assembled yet")
