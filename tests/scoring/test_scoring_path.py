"""The path from score_file down to the scorer climbs back up a layer at most once.

The calls are traced (tests/_layers.py) from the public function to the first call of
``Scorer.assign_prepared``; each custseg module maps to its layer of the import-linter
contract in pyproject.toml. A climb is a call from a lower layer into a higher one (a
callback, a generator driven from below). The Spark half of this test is in
tests/spark/test_scoring_path.py.
"""

from __future__ import annotations

from pathlib import Path

from _layers import layer_levels, trace_path
from custseg.model import SegmentationModel, load_model
from custseg.scoring import score_file

TARGET = ("custseg.scoring.scorer", "assign_prepared")


def test_score_file_reaches_the_scorer_with_at_most_one_climb(
    model_file: Path, sample_csv: Path, tmp_path: Path
) -> None:
    model = load_model(model_file)
    assert isinstance(model, SegmentationModel)
    path, _ = trace_path(
        lambda: score_file(model, sample_csv, tmp_path / "scored.csv"), target=TARGET
    )
    assert path.reached
    climbs = path.climbs(layer_levels())
    # Today's one climb: the reading thread (_utils.stages) drives the file reader (sources).
    assert len(climbs) <= 1, climbs
    # The model is used as it is: no document is read or written on the way, and no
    # schema or plan rebuilt from one.
    assert "custseg.model.document" not in path.modules
    assert ("custseg.prepare.plan", "from_dict") not in path.functions, path.functions
