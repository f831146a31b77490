"""The path from score_spark down to the scorer climbs back up a layer at most once.

The driver's calls are traced from score_spark to its return; a worker's from the
batches Spark hands it (the function mapInArrow runs, called here in process on a
batch of the sample) to the first call of ``Scorer.assign_prepared``. Layers and climbs
as in tests/scoring/test_scoring_path.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from _layers import layer_levels, trace_path
from custseg.model import SegmentationModel, model_to_json
from custseg.scoring.spark import _score_batches, score_spark

TARGET = ("custseg.scoring.scorer", "assign_prepared")


def test_score_spark_reaches_the_scorer_with_at_most_one_climb(
    spark: Any, model: SegmentationModel, sample: pd.DataFrame, sample_parquet: Path, tmp_path: Path
) -> None:
    levels = layer_levels()
    driver, summary = trace_path(lambda: score_spark(model, sample_parquet, tmp_path / "out"))
    assert summary.rows_in == len(sample)
    batches = iter(pa.Table.from_pandas(sample.head(500), preserve_index=False).to_batches())
    worker, _ = trace_path(
        lambda: next(
            _score_batches(
                model_to_json(model), batches, codes=frozenset(), ranked=False, id_type="string"
            )
        ),
        target=TARGET,
    )
    assert worker.reached
    climbs = driver.climbs(levels) + worker.climbs(levels)
    assert len(climbs) <= 1, climbs
    # The worker reads the model's document once, then scores with its typed fields.
    assert worker.functions.count(("custseg.model.document", "model_from_json")) == 1
