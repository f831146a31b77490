"""The report package's shape: the data step imports no drawing code, and modules stay short."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import custseg.report

REPORT = Path(custseg.report.__file__).parent
# The data step and what it shares with drawing; none may reach the drawing step.
DATA_STEP = sorted([*(REPORT / "data").glob("*.py"), REPORT / "_shared.py"])
DRAWING = ("matplotlib", "jinja2", "custseg.report.figures", "custseg.report.render")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPORT.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            found.add(stem)
            # "from . import figures" imports a module, not a name.
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", DATA_STEP, ids=lambda p: str(p.relative_to(REPORT)))
def test_the_data_step_does_not_import_the_drawing_step(path: Path) -> None:
    drawing = sorted(
        name for name in _imports(path) for banned in DRAWING if name.startswith(banned)
    )
    assert drawing == []


def test_the_shared_module_imports_nothing_of_the_report() -> None:
    ours = [n for n in _imports(REPORT / "_shared.py") if n.startswith("custseg")]
    assert ours == []


def test_no_report_module_is_over_600_lines() -> None:
    lengths = {
        str(p.relative_to(REPORT)): len(p.read_text(encoding="utf-8").splitlines())
        for p in REPORT.rglob("*.py")
    }
    assert {name: n for name, n in lengths.items() if n > 600} == {}
