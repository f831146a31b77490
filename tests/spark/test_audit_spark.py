"""The audit of a Spark fit reads the protected column in the driver's sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _audit_data import gender_trap
from custseg.config import FitConfig
from custseg.pipeline import fit_to_folder


def test_the_spark_engine_audits_its_sample(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    gender_trap().to_parquet(path, index=False)
    config = FitConfig(k=2, n_resamples=3)
    model = fit_to_folder(path, tmp_path / "out", engine="spark", config=config, report=False).model
    audit = model.profiles["audit"]
    assert [c["column"] for c in audit["characteristics"]] == ["Sex"]
    assert audit["characteristics"][0]["clustered"] is False
    assert {f["level"] for f in audit["flags"]} == {"Male", "Female"}
    assert any(w["kind"] == "protected_composition" for w in model.warnings)
