"""Report data from a real fit on the bundled sample, and the files write_report writes."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custseg.cluster.indices import (
    KIndex,
    Measured,
    register_index,
    registered_indices,
    unregister_index,
)
from custseg.config import FitConfig
from custseg.exceptions import ConfigError, CustsegError, DataError, ModelError, SchemaError
from custseg.model import SegmentationModel
from custseg.pipeline import fit_segments
from custseg.report import build_report_data, render_report, write_report
from custseg.report.figures import FIGURE_NAMES, choice_of_k, k_index_panels
from custseg.report.figures.choice_of_k import STABILITY_PANEL
from custseg.report.render import PROFILE_COLUMNS, SECTIONS

N_ROWS = 1_500
K = 4


def _sample(n: int, seed: int = 0) -> pd.DataFrame:
    path = resources.files("custseg") / "data" / "CC_GENERAL.csv"
    with resources.as_file(path) as csv:
        frame = pd.read_csv(csv)
    return frame.sample(n=n, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _sample(N_ROWS)


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> SegmentationModel:
    config = FitConfig(k=K, k_range=(2, 6), n_init=2, n_resamples=2, random_state=0)
    return fit_segments(frame, config=config)


@pytest.fixture(scope="module")
def data(model: SegmentationModel, frame: pd.DataFrame) -> dict[str, Any]:
    return build_report_data(model, frame, random_state=0)


def test_report_data_is_plain_json(data: dict[str, Any]) -> None:
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data


def test_report_data_is_deterministic(
    model: SegmentationModel, frame: pd.DataFrame, data: dict[str, Any]
) -> None:
    assert build_report_data(model, frame, random_state=0) == data
    # The seed only drives samples, and 1,500 rows need none: nothing but the
    # recorded seed changes.
    other = build_report_data(model, frame, random_state=1)
    assert other["meta"]["random_state"] == 1
    assert {**other, "meta": data["meta"]} == data


def test_on_the_training_table_segments_are_the_training_segments(
    model: SegmentationModel, data: dict[str, Any]
) -> None:
    assert [s["size"] for s in data["segments"]] == [s.size for s in model.segments]
    assert [s["name"] for s in data["segments"]] == model.segment_names()
    assert sum(s["share"] for s in data["segments"]) == pytest.approx(1.0)
    assert data["overview"] == {
        "n_rows": N_ROWS,
        "n_columns": 18,
        "n_usable": N_ROWS,
        "n_rejected": 0,
        "rejection_examples": [],
        "n_features_prepared": len(model.feature_names),
        "id_column": "CUST_ID",
    }
    for seg, fitted in zip(data["segments"], model.segments, strict=True):
        assert seg["strategies"] == fitted.strategies
        assert seg["rule"] is None or seg["rule"]["text"] == fitted.rule.get("text")


def test_k_selection_comes_from_the_model(model: SegmentationModel, data: dict[str, Any]) -> None:
    selection = data["k_selection"]
    assert [c["k"] for c in selection["candidates"]] == [2, 3, 4, 5, 6]
    assert selection["chosen_k"] == K
    assert model.k_selection is not None
    assert selection["recommended_k"] == model.k_selection.recommended_k
    assert selection["explanation"] == model.k_selection.explanation
    inertia = [c["inertia"] for c in selection["candidates"]]
    assert inertia == sorted(inertia, reverse=True)


def test_k_selection_carries_the_index_registry(
    model: SegmentationModel, data: dict[str, Any]
) -> None:
    selection = data["k_selection"]
    assert selection["indices"] == [entry.describe() for entry in registered_indices()]
    assert model.k_selection is not None
    recorded = {c.k: c for c in model.k_selection.candidates}
    for candidate in selection["candidates"]:
        for entry in registered_indices():
            assert candidate[entry.name] == recorded[candidate["k"]].indices[entry.name]
    words = {f"best {entry.label}" for entry in registered_indices()} | {"knee"}
    votes = [v for c in selection["candidates"] for v in c["votes"]]
    assert set(votes) <= words
    # Votes only where there is a choice: the only eligible k beats no other.
    eligible = [c for c in model.k_selection.candidates if c.eligible]
    assert bool(votes) == (len(eligible) > 1)


def _no_value(
    X: np.ndarray, labelings: Any, rng: np.random.Generator, max_exact: int
) -> list[Measured]:
    return [Measured(float("nan")) for _ in labelings]


def _png_width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")


def test_an_index_added_to_the_registry_reaches_data_figure_and_table(
    model: SegmentationModel,
    frame: pd.DataFrame,
    data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built_in = registered_indices()
    extra = KIndex("dispersion", "Dispersion", "lower", "the lowest dispersion", _no_value)
    register_index(extra)
    try:
        _check_extra_index(model, frame, data, monkeypatch, built_in, extra)
    finally:
        unregister_index("dispersion")


def _check_extra_index(
    model: SegmentationModel,
    frame: pd.DataFrame,
    data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    built_in: tuple[KIndex, ...],
    extra: KIndex,
) -> None:
    recorded = model.k_selection
    assert recorded is not None
    candidates = [
        dataclasses.replace(
            c,
            indices={**c.indices, "dispersion": 0.1 * c.k},
            votes=[*c.votes, "dispersion"] if c.k == 3 else c.votes,
        )
        for c in recorded.candidates
    ]
    patched = dataclasses.replace(
        model, k_selection=dataclasses.replace(recorded, candidates=candidates)
    )

    selection = build_report_data(patched, frame, random_state=0)["k_selection"]
    assert selection["indices"][-1] == extra.describe()
    assert [c["dispersion"] for c in selection["candidates"]] == pytest.approx(
        [0.1 * k for k in range(2, 7)]
    )
    by_k = {c["k"]: c for c in selection["candidates"]}
    assert by_k[3]["votes"][-1] == "best Dispersion"

    # The figure: one panel per index, then stability; five panels take a 3 × 2 grid.
    panels = k_index_panels(selection)
    assert panels == [(i.name, i.title) for i in (*built_in, extra)] + [STABILITY_PANEL]
    drawn: list[int] = []
    real_png = choice_of_k.png

    def counting_png(fig: Any) -> bytes:
        drawn.append(sum(1 for ax in fig.axes if ax.axison))
        return real_png(fig)

    monkeypatch.setattr(choice_of_k, "png", counting_png)
    with_extra = render_report({**data, "k_selection": selection})
    without = render_report(data)
    # drawn: elbow and k indices with the extra index, then the same without it.
    assert drawn == [1, len(built_in) + 2, 1, len(built_in) + 1]
    assert _png_width(with_extra.figures["k_indices"]) > _png_width(without.figures["k_indices"])

    # The table: one column per index, in registry order, and the caption names it.
    text = " ".join(with_extra.html.split())
    head = re.search(r"<th class=\"num\">k</th>(.*?)</tr>", text)
    assert head is not None
    headers = re.findall(r"<th[^>]*>(.*?)</th>", head.group(1))
    assert headers == [
        "inertia",
        *(i.label for i in (*built_in, extra)),
        "stability",
        "smallest segment",
        "note",
    ]
    assert "<b>Dispersion</b>: lower is better." in text
    assert '<td class="num">0.300</td>' in text  # k = 3: 0.1 × 3
    assert "Dispersion</th>" not in without.html


def test_profiles_agree_with_the_table(frame: pd.DataFrame, data: dict[str, Any]) -> None:
    profiles = pd.DataFrame(data["profiles"])
    features = set(profiles["feature"])
    assert {"PURCHASES", "CASH_ADVANCE", "MONTHLY_AVG_PURCHASES", "CREDIT_UTILISATION"} <= features
    assert "CUST_ID" not in features
    assert len(profiles) == K * len(features)
    sizes = {s["id"]: s["size"] for s in data["segments"]}
    purchases = profiles[profiles["feature"] == "PURCHASES"].set_index("segment_id")
    # The size-weighted segment means add up to the table's mean.
    weighted = sum(purchases.loc[s, "mean"] * n for s, n in sizes.items()) / N_ROWS
    assert weighted == pytest.approx(frame["PURCHASES"].mean(), rel=1e-9)
    assert np.allclose(purchases["lift"], purchases["mean"] / frame["PURCHASES"].mean(), rtol=1e-9)
    for seg in data["segments"]:
        top = seg["top_profile"]
        assert 1 <= len(top) <= 5
        effects = [abs(row["effect_size"]) for row in top]
        assert effects == sorted(effects, reverse=True)


def test_missing_values_match_the_table(frame: pd.DataFrame, data: dict[str, Any]) -> None:
    missing = {m["column"]: m["n_missing"] for m in data["missing"]}
    assert missing["MINIMUM_PAYMENTS"] == int(frame["MINIMUM_PAYMENTS"].isna().sum()) > 0
    assert missing["PURCHASES"] == 0
    columns = {c["name"]: c for c in data["columns"]}
    assert columns["CUST_ID"]["role"] == "id"
    assert columns["MINIMUM_PAYMENTS"]["n_missing"] == missing["MINIMUM_PAYMENTS"]


def test_distributions_use_log_scale_for_skewed_amounts(data: dict[str, Any]) -> None:
    by_column = {d["column"]: d for d in data["distributions"]}
    assert by_column["PURCHASES"]["log_scale"] is True
    assert by_column["PRC_FULL_PAYMENT"]["log_scale"] is False
    assert sum(by_column["PURCHASES"]["counts"]) == N_ROWS
    assert by_column["PURCHASES"]["skewness"] > 1


def test_projection_and_silhouette_are_consistent(data: dict[str, Any]) -> None:
    projection = data["projection"]
    assert projection["n_total"] == N_ROWS
    assert projection["n_drawn"] == len(projection["x"]) == len(projection["labels"])
    assert set(projection["labels"]) == set(range(K))
    first, second = projection["explained_variance_ratio"]
    assert 0 < second <= first <= 1 and first + second <= 1 + 1e-12
    assert len(projection["centroids"]) == K
    silhouette = data["silhouette"]
    assert silhouette["exact"] is True
    assert -1 <= silhouette["value"] <= 1
    plotted = silhouette["values_by_segment"]
    assert [len(v) for v in plotted] == [s["size"] for s in data["segments"]]
    values = np.concatenate([np.asarray(v) for v in plotted])
    assert values.mean() == pytest.approx(silhouette["value"], abs=1e-3)


def test_correlation_is_a_valid_matrix(data: dict[str, Any]) -> None:
    correlation = data["correlation"]
    matrix = np.array(correlation["matrix"], dtype=float)
    assert matrix.shape == (len(correlation["columns"]),) * 2
    assert np.allclose(np.diag(matrix), 1.0)
    assert np.allclose(matrix, matrix.T)
    position = {name: i for i, name in enumerate(correlation["columns"])}
    # Customers who buy more make more purchase transactions.
    assert matrix[position["PURCHASES"], position["PURCHASES_TRX"]] > 0.8


def test_rows_with_unusable_values_are_counted_and_set_aside(
    model: SegmentationModel, frame: pd.DataFrame
) -> None:
    broken = frame.head(300).astype({"PURCHASES": "object"})
    broken.loc[[3, 7, 11], "PURCHASES"] = "abc"
    data = build_report_data(model, broken, random_state=0)
    overview = data["overview"]
    assert overview["n_rows"] == 300
    assert overview["n_rejected"] == 3
    assert overview["n_usable"] == 297
    assert sum(s["size"] for s in data["segments"]) == 297
    assert any("PURCHASES" in reason for reason in overview["rejection_examples"])


def test_new_customers_in_one_segment_without_ids_still_get_a_report(
    model: SegmentationModel, frame: pd.DataFrame, data: dict[str, Any]
) -> None:
    # All rows are drawn in the scatter at this size, so its labels are every row's.
    labels = np.asarray(data["projection"]["labels"])
    newcomers = frame[labels == 0].drop(columns=["CUST_ID"]).assign(BRANCH="north")
    only = build_report_data(model, newcomers, random_state=0)
    assert [s["size"] for s in only["segments"]] == [len(newcomers), 0, 0, 0]
    assert [s["top_profile"] == [] for s in only["segments"]] == [False, True, True, True]
    assert only["silhouette"]["value"] is None  # undefined with one occupied segment
    metrics = {m["name"]: m["value"] for m in only["metrics"]}
    assert metrics["Calinski–Harabasz"] is None and metrics["Davies–Bouldin"] is None
    roles = {c["name"]: c["role"] for c in only["columns"]}
    assert roles["BRANCH"] == "ignored" and "CUST_ID" not in roles
    html = render_report(only).html
    assert html.count("No customer of this table falls in this segment.") == 3


def test_a_large_table_is_sampled_for_the_silhouette_and_the_figures(
    model: SegmentationModel,
) -> None:
    # 24,000 customers synthesised from the sample (values jittered by +-10%):
    # above the exact-silhouette limit, so the estimate and the samples kick in.
    rng = np.random.default_rng(5)
    big = _sample(8_950).sample(n=24_000, replace=True, random_state=5).reset_index(drop=True)
    amounts = big.columns.drop("CUST_ID")
    big[amounts] = big[amounts] * rng.uniform(0.9, 1.1, size=(len(big), len(amounts)))
    big["CUST_ID"] = [f"S{i:06d}" for i in range(len(big))]
    data = build_report_data(model, big, random_state=0)
    sizes = [s["size"] for s in data["segments"]]
    assert sum(sizes) == 24_000
    silhouette = data["silhouette"]
    assert silhouette["exact"] is False
    assert silhouette["sample_size"] < 24_000
    assert silhouette["ci_low"] <= silhouette["value"] <= silhouette["ci_high"]
    plotted = [len(v) for v in silhouette["values_by_segment"]]
    # Rounding the proportional quotas can add at most one row per segment.
    assert sum(plotted) == silhouette["n_plotted"] <= 4_000 + K
    assert min(plotted) > 0
    # Each segment keeps about its share of the plotted customers.
    assert np.allclose(np.array(plotted) / sum(plotted), np.array(sizes) / 24_000, atol=0.01)
    projection = data["projection"]
    assert projection["n_drawn"] <= 5_000 + K < projection["n_total"] == 24_000
    assert set(projection["labels"]) == set(range(K))
    detail = {m["name"]: m for m in data["metrics"]}["Silhouette"]["detail"]
    assert detail.startswith(f"estimated on {silhouette['sample_size']:,} customers, 95% interval")


def test_metrics_table_compares_this_table_with_training(
    model: SegmentationModel, data: dict[str, Any]
) -> None:
    metrics = {m["name"]: m for m in data["metrics"]}
    assert metrics["Customers segmented"]["value"] == N_ROWS
    assert metrics["Silhouette"]["value"] == data["silhouette"]["value"]
    assert metrics["Calinski–Harabasz"]["value"] > 0
    assert metrics["Davies–Bouldin"]["value"] > 0
    assert metrics["Inertia"]["training"] == pytest.approx(metrics["Inertia"]["value"], rel=1e-6)
    assert metrics["Smallest segment share"]["value"] == pytest.approx(
        min(s.share for s in model.segments)
    )


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, f: build_report_data({"k": 3}, f), ModelError, "got dict"),  # type: ignore[arg-type]
        (lambda m, f: build_report_data(m, f.to_dict()), DataError, "got dict"),  # type: ignore[arg-type]
        (lambda m, f: build_report_data(m, f.head(0)), DataError, "0 rows"),
        (lambda m, f: build_report_data(m, f, random_state=-1), ConfigError, "random_state=-1"),
        (
            lambda m, f: build_report_data(m, f.drop(columns=["CASH_ADVANCE"])),
            SchemaError,
            "CASH_ADVANCE",
        ),
    ],
)
def test_invalid_inputs_raise_one_line_errors(
    model: SegmentationModel, frame: pd.DataFrame, call: Any, error: type, match: str
) -> None:
    with pytest.raises(error, match=match) as info:
        call(model, frame)
    assert isinstance(info.value, CustsegError)
    assert "\n" not in str(info.value)


def test_write_report_writes_every_file_atomically(
    model: SegmentationModel, frame: pd.DataFrame, data: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "report"
    written = write_report(model, frame, out)
    expected = {"report.html", "summary.md", "profiles.csv"} | {
        f"figures/{name}.png" for name in FIGURE_NAMES
    }
    assert set(written) == expected
    assert all(path == out / name and path.is_file() for name, path in written.items())
    html = written["report.html"].read_text(encoding="utf-8")
    for name in FIGURE_NAMES:
        png = written[f"figures/{name}.png"].read_bytes()
        assert png.startswith(b"\x89PNG")
        # The page embeds exactly the figure files written beside it.
        assert base64.b64encode(png).decode("ascii") in html
    profiles = pd.read_csv(written["profiles.csv"])
    assert list(profiles.columns) == PROFILE_COLUMNS
    assert len(profiles) == len(data["profiles"])
    summary = written["summary.md"].read_text(encoding="utf-8")
    assert all(name in summary for name in model.segment_names())
    for _, heading in SECTIONS:
        assert heading in html
    # Files are renamed into place: no temporary file is left behind, only the marker
    # naming the run that wrote the folder.
    hidden = [p.name for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert hidden == [".custseg-report.json"]


def test_write_report_refuses_a_file_as_folder(
    model: SegmentationModel, frame: pd.DataFrame, tmp_path: Path
) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(CustsegError, match="is a file, not a folder"):
        write_report(model, frame, target)
    assert target.read_text(encoding="utf-8") == "not a folder"
