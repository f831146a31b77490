"""An index added through the public hook reaches the sweep, metrics.json and the report.

Two real indices are registered: the Dunn index (computed on rows only: the large-table
evaluation measures it on the sample) and the within share of the variance (computed
from per-segment sums only: of all rows in every engine, and from the rows' own sums in
memory).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist, pdist
from sklearn.datasets import make_blobs

from custseg.cluster.indices import (
    KIndex,
    Measured,
    SegmentSums,
    index,
    register_index,
    registered_indices,
    unregister_index,
)
from custseg.cluster.kmeans import assign, fit_kmeans
from custseg.cluster.summaries import SegmentAccumulator, evaluation_from_summary
from custseg.config import FitConfig
from custseg.engines import run_fit
from custseg.engines.stream import StreamEngine
from custseg.exceptions import ConfigError
from custseg.pipeline import fit_to_folder
from custseg.report._format import fmt_number


def dunn(X: np.ndarray, labels: np.ndarray) -> float:
    """Smallest distance between two segments over the largest segment diameter."""
    segments = [X[labels == c] for c in np.unique(labels)]
    if len(segments) < 2:
        return float("nan")
    diameter = max(float(pdist(rows).max()) if len(rows) > 1 else 0.0 for rows in segments)
    gap = min(float(cdist(a, b).min()) for i, a in enumerate(segments) for b in segments[i + 1 :])
    return gap / diameter if diameter > 0 else float("nan")


def _dunn_many(
    X: np.ndarray, labelings: Sequence[np.ndarray], rng: np.random.Generator, max_exact: int
) -> list[Measured]:
    return [Measured(dunn(X, labels)) for labels in labelings]


def within_share(sums: SegmentSums) -> float | None:
    """Share of the total sum of squares left within the segments (lower is better)."""
    occupied = sums.sizes > 0
    if int(occupied.sum()) < 2:
        return None
    sizes = sums.sizes[occupied].astype(np.float64)
    means = sums.means[occupied]
    overall = (sizes[:, None] * means).sum(axis=0) / sizes.sum()
    between = float(np.dot(sizes, ((means - overall) ** 2).sum(axis=1)))
    within = float(sums.within[occupied].sum())
    return within / (within + between)


DUNN = KIndex(
    "dunn",
    "Dunn",
    "higher",
    "the best Dunn index",
    compute=_dunn_many,
    description="smallest gap between two segments over the widest segment",
)
WITHIN_SHARE = KIndex(
    "within_share",
    "Within share",
    "lower",
    "the lowest within share",
    votes=False,  # falls with every added segment: it describes, it does not choose
    from_summary=within_share,
)


@pytest.fixture
def added() -> Iterator[None]:
    register_index(DUNN)
    try:
        register_index(WITHIN_SHARE)
        try:
            yield
        finally:
            unregister_index("within_share")
    finally:
        unregister_index("dunn")


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, _ = make_blobs(n_samples=[240, 160, 100], n_features=3, cluster_std=1.0, random_state=4)
    return X, fit_kmeans(X, 3, random_state=0).labels


def test_an_added_index_reaches_the_sweep_metrics_and_report(
    added: None, blobs: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    frame = pd.DataFrame(blobs[0], columns=["recency", "frequency", "monetary"])
    frame.insert(0, "customer_id", [f"c{i}" for i in range(len(frame))])
    output = fit_to_folder(
        frame, tmp_path, config=FitConfig(k_range=(2, 4), n_resamples=2), report=True
    )

    # The sweep measured both for every k (metrics.json lists its candidates).
    metrics = json.loads((tmp_path / "metrics.json").read_text("utf-8"))
    assert metrics == json.loads(json.dumps(output.metrics))
    candidates = metrics["k_selection"]
    assert [c["k"] for c in candidates] == [2, 3, 4]
    assert all(c["dunn"] > 0 and 0 < c["within_share"] < 1 for c in candidates)
    shares = [c["within_share"] for c in candidates]
    assert shares == sorted(shares, reverse=True)  # more segments, less left within

    # metrics.json: the final fit's values and the registry's description of both.
    final = {c["k"]: c for c in candidates}[metrics["k"]]
    assert metrics["dunn"] == pytest.approx(final["dunn"])
    assert metrics["within_share"] == pytest.approx(final["within_share"])
    described = {entry["name"]: entry for entry in metrics["indices"]}
    assert described["dunn"] == DUNN.describe()
    assert described["within_share"]["direction"] == "lower"

    # The report: a column of the choice-of-k table, a caption line, and a row of the
    # evaluation table with the value on this table (the training table) and at training.
    html = " ".join((tmp_path / "report.html").read_text("utf-8").split())
    head = re.search(r"<th class=\"num\">k</th>(.*?)</tr>", html)
    assert head is not None
    assert re.findall(r"<th[^>]*>(.*?)</th>", head.group(1))[4:6] == ["Dunn", "Within share"]
    assert (
        "<b>Dunn</b>: smallest gap between two segments over the widest segment;"
        " higher is better." in html
    )
    assert "<b>Within share</b>: lower is better." in html
    row = re.search(r"<tr><td>Dunn</td>(.*?)</tr>", html)
    assert row is not None
    here, training = re.findall(r"<td class=\"num\">([^<]*)", row.group(1))
    assert here == training == fmt_number(metrics["dunn"])
    summary = (tmp_path / "summary.md").read_text("utf-8")
    assert f"- Dunn: {fmt_number(metrics['dunn'])}" in summary
    assert f"- Within share: {fmt_number(metrics['within_share'])}" in summary


def test_the_large_table_evaluation_measures_a_row_index_on_the_sample(
    added: None, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    X, labels = blobs
    centroids = np.vstack([X[labels == c].mean(axis=0) for c in range(3)])
    sums = SegmentAccumulator(centroids)
    fitted = assign(X, centroids)
    sums.add(X, fitted.labels, fitted.distance)
    sums.add_spread(X, fitted.labels)
    sample = np.arange(0, len(X), 4)

    metrics = evaluation_from_summary(
        sums.summary(), centroids, X[sample], labels[sample], random_state=0, max_exact=50_000
    )
    # Dunn has no from_summary: measured on the sample's rows, not on all rows.
    assert metrics["dunn"] == pytest.approx(dunn(X[sample], labels[sample]), rel=1e-12)
    assert metrics["dunn"] != pytest.approx(dunn(X, labels), rel=1e-6)
    # The within share has one: of all rows, equal to its value on the rows in memory.
    assert metrics["within_share"] == pytest.approx(
        index("within_share").measure(X, [labels], np.random.default_rng(0), 0)[0].value,
        rel=1e-12,
    )
    assert metrics["evaluated_on"]["all_rows"] == [
        "sizes",
        "shares",
        "inertia",
        "calinski_harabasz",
        "davies_bouldin",
        "within_share",
    ]
    assert metrics["evaluated_on"]["sample"] == ["silhouette", "dunn"]


def test_the_stream_engine_measures_each_added_index_where_it_can(
    added: None, blobs: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    path = tmp_path / "customers.parquet"
    pd.DataFrame(blobs[0], columns=["recency", "frequency", "monetary"]).to_parquet(path)
    engine = StreamEngine(path, chunk_rows=100, sample_rows=200)
    model, _ = run_fit(engine, FitConfig(k_range=(2, 4), n_resamples=2))
    assert model.metrics["engine"] == "stream" and model.metrics["n_rows"] == 500
    where = model.metrics["evaluated_on"]
    assert "within_share" in where["all_rows"] and where["sample_rows"] == 200
    assert where["sample"] == ["silhouette", "dunn"]
    assert model.metrics["dunn"] > 0 and 0 < model.metrics["within_share"] < 1


def test_registering_checks_the_entry_and_unregistering_restores_the_registry() -> None:
    built_in = registered_indices()
    register_index(DUNN)
    try:
        assert registered_indices() == (*built_in, DUNN)
        with pytest.raises(ConfigError, match=r"^an index named 'dunn' is already registered"):
            register_index(DUNN)
    finally:
        assert unregister_index("dunn") is DUNN
    assert registered_indices() == built_in


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("dunn", r"^entry='dunn' should be a custseg.cluster.indices.KIndex"),
        (
            KIndex("Dunn index", "Dunn", "higher", "w", compute=_dunn_many),
            r"^index name='Dunn index' should be lower-case letters",
        ),
        (
            KIndex("stability_ari", "S", "higher", "w", compute=_dunn_many),
            r"^index name='stability_ari' is a key candidates and metrics already use",
        ),
        (
            KIndex("dunn", "Dunn", "up", "w", compute=_dunn_many),  # type: ignore[arg-type]
            r"^index 'dunn' has direction='up'; it should be 'higher' or 'lower'",
        ),
        (
            KIndex("dunn", "Dunn", "higher", "w", compute=1.0),  # type: ignore[arg-type]
            r"^index 'dunn' has compute=1.0, which is not callable",
        ),
        (
            KIndex("dunn", "Dunn", "higher", "w"),
            r"^index 'dunn' has neither compute nor from_summary",
        ),
        (
            KIndex("dunn", "", "higher", "w", compute=_dunn_many),
            r"^index 'dunn' has label=''; give it a non-empty text",
        ),
    ],
)
def test_a_faulty_entry_is_refused_with_one_line(entry: object, message: str) -> None:
    built_in = registered_indices()
    with pytest.raises(ConfigError, match=message):
        register_index(entry)  # type: ignore[arg-type]
    assert registered_indices() == built_in


def test_built_in_and_unknown_indices_cannot_be_unregistered() -> None:
    with pytest.raises(ConfigError, match=r"^index 'silhouette' is built in"):
        unregister_index("silhouette")
    with pytest.raises(ConfigError, match=r"^no index named 'dunn' was registered"):
        unregister_index("dunn")


def test_an_index_from_sums_equals_its_value_on_the_rows(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    """The built-in indices that compute from sums do so in memory from the rows' sums."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    X, labels = blobs
    rng = np.random.default_rng(0)
    two_segments = (labels > 0).astype(np.int64)
    ch = index("calinski_harabasz").measure(X, [labels, two_segments], rng, 0)
    db = index("davies_bouldin").measure(X, [labels, two_segments], rng, 0)
    for measured, labeling in zip((0, 1), (labels, two_segments), strict=True):
        assert ch[measured].value == pytest.approx(calinski_harabasz_score(X, labeling), rel=1e-9)
        assert db[measured].value == pytest.approx(davies_bouldin_score(X, labeling), rel=1e-9)
    one = np.zeros(len(X), dtype=np.int64)
    assert np.isnan(index("calinski_harabasz").measure(X, [one], rng, 0)[0].value)
