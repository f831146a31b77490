"""The package's size limits on functions: no body over 80 lines outside the command line.

A function's body is counted from its first statement after the docstring to the end
of its last statement, blank lines and comments inside included; a nested function is
counted inside its parent (and on its own). The command-line modules (``custseg.cli``)
are left out: a command's options are declared in its signature and body. The limit of
600 lines a module is ``tests/test_package.py``'s.
"""

from __future__ import annotations

import ast
from pathlib import Path

import custseg

PACKAGE = Path(custseg.__file__).parent
MAX_BODY_LINES = 80


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of ``node``'s body without its docstring (0 for a docstring alone)."""
    body = node.body
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        body = body[1:]
    if not body:
        return 0
    end = body[-1].end_lineno
    assert end is not None
    return end - body[0].lineno + 1


def long_functions(root: Path, limit: int) -> list[str]:
    """``path:line name (n lines)`` of every function under ``root`` longer than ``limit``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "cli" in path.relative_to(root).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = body_lines(node)
                if n > limit:
                    where = path.relative_to(root.parent)
                    found.append(f"{where}:{node.lineno} {node.name} ({n} lines)")
    return found


def test_the_measure_counts_bodies_without_docstrings_and_nested_functions_inside(tmp_path):
    package = tmp_path / "pkg"
    (package / "cli").mkdir(parents=True)
    inner = "\n".join(f"        x{i} = {i}" for i in range(3))
    (package / "a.py").write_text(
        'def short():\n    """Doc\n    on two lines."""\n    return 1\n\n\n'
        f"def outer():\n    y = 0\n\n    def inner():\n{inner}\n\n    return y\n"
    )
    (package / "cli" / "command.py").write_text("def long():\n" + "    x = 1\n" * 10)
    assert long_functions(package, 7) == ["pkg/a.py:7 outer (8 lines)"]
    assert long_functions(package, 8) == []
    tree = ast.parse((package / "a.py").read_text())
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert [body_lines(f) for f in functions] == [1, 8, 3]


def test_no_function_body_over_80_lines_outside_the_command_line():
    offenders = long_functions(PACKAGE, MAX_BODY_LINES)
    assert not offenders, (
        f"{len(offenders)} function(s) over {MAX_BODY_LINES} lines (docstring aside): "
        + "; ".join(offenders)
        + ". Split each into functions that do one job."
    )
