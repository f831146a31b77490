"""Remove outputs, execution counts and run metadata from Jupyter notebooks.

The repository keeps its notebooks without outputs: outputs are large, change on every
run and would hide the real changes in a diff. Standard library only, so that it runs in
a pre-commit hook or CI before anything is installed::

    python scripts/strip_notebooks.py            # strip notebooks/*.ipynb in place
    python scripts/strip_notebooks.py a.ipynb    # strip the given notebooks
    python scripts/strip_notebooks.py --check    # exit 1 if a notebook would change

What goes: every code cell's outputs and execution count; the per-cell run metadata
(``execution`` timings, ``ExecuteTime``, ``collapsed``, ``scrolled``); the notebook's
``widgets`` state and ``signature``; the Python version in ``language_info`` (it differs
between machines). Sources, cell ids, tags and the kernel specification are kept. The
file is written in nbformat's layout (sorted keys, one-space indent), atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CELL_RUN_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled")
NOTEBOOK_RUN_KEYS = ("widgets", "signature")


def strip(notebook: dict[str, Any]) -> dict[str, Any]:
    """Return ``notebook`` (parsed JSON) without outputs and run metadata; changes it in place."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        for key in CELL_RUN_KEYS:
            metadata.pop(key, None)
    metadata = notebook.get("metadata", {})
    for key in NOTEBOOK_RUN_KEYS:
        metadata.pop(key, None)
    language = metadata.get("language_info")
    if isinstance(language, dict):
        language.pop("version", None)
    return notebook


def render(notebook: dict[str, Any]) -> str:
    """The notebook as text, laid out as ``nbformat.write`` lays it out."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    # A crash mid-write must not leave a truncated notebook: write beside it, then rename.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        tmp.chmod(path.stat().st_mode & 0o777)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class NotANotebook(Exception):
    """A path that cannot be read as a notebook."""


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotANotebook(f"cannot read {path}: {exc.strerror}; check the path") from None
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotANotebook(f"{path} is not a notebook (invalid JSON: {exc.msg})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotANotebook(f"{path} is not a notebook (no cell list); pass .ipynb files")
    return text, notebook


def main(argv: list[str] | None = None) -> int:
    """Strip (or, with ``--check``, inspect) notebooks.

    Returns 0 on success, 1 when ``--check`` finds a notebook that would change, 2 when
    a path is not a readable notebook (nothing is written then for that path or after it).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)"
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook would change"
    )
    args = parser.parse_args(argv)
    paths = args.paths or sorted((REPO / "notebooks").glob("*.ipynb"))
    if not paths:
        print("error: no notebook given and none in notebooks/", file=sys.stderr)
        return 2
    dirty = []
    for path in paths:
        try:
            text, notebook = _read(path)
        except NotANotebook as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        clean = render(strip(notebook))
        if clean == text:
            continue
        dirty.append(path)
        if args.check:
            print(f"{path}: has outputs or run metadata; run scripts/strip_notebooks.py")
        else:
            _write_atomic(path, clean)
            print(f"stripped {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
