"""The package's shape: public API, old import paths, and the size limits of the layout."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import custseg

PACKAGE = Path(custseg.__file__).parent


def test_every_public_name_imports() -> None:
    for name in custseg.__all__:
        assert getattr(custseg, name) is not None
    assert sorted(dir(custseg)) == sorted(set(dir(custseg)))


@pytest.mark.parametrize(("old", "new"), sorted(custseg._MOVED.items()))
def test_old_module_paths_import_the_moved_module_with_a_warning(old: str, new: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_documented_old_imports_still_give_the_same_objects() -> None:
    for old in ("custseg.features", "custseg.schema", "custseg.segmenter"):
        sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning):
        from custseg.features import PreparationPlan, PrepConfig
        from custseg.schema import check_rows, infer_schema
        from custseg.segmenter import assign
    from custseg.cluster import assign as new_assign
    from custseg.prepare import PreparationPlan as NewPlan
    from custseg.prepare import check_rows as new_check_rows
    from custseg.prepare import infer_schema as new_infer_schema

    assert PreparationPlan is NewPlan and PrepConfig is custseg.PrepConfig
    assert check_rows is new_check_rows and infer_schema is new_infer_schema
    assert assign is new_assign


def test_at_most_twelve_top_level_modules_and_none_over_600_lines() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_an_old_path_leaves_the_moved_module_its_own_identity() -> None:
    # Importing under an old name must not rename the module: its functions import
    # their siblings relative to the package (``from .fitter import ...``).
    sys.modules.pop("custseg.features", None)
    with pytest.warns(DeprecationWarning):
        importlib.import_module("custseg.features")
    plan = importlib.import_module("custseg.prepare.plan")
    assert plan.__spec__.name == "custseg.prepare.plan"
    assert plan.__spec__.parent == plan.__package__ == "custseg.prepare"
    frame = custseg.read_table(custseg.sources.sample_path()).head(300)
    schema = custseg.infer_schema(frame)
    assert plan.PreparationPlan.fit(frame, schema).transform(frame).shape[0] == 300
