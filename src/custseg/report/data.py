"""Everything the report shows, computed once into a plain dictionary.

:func:`build_report_data` reads a fitted :class:`~custseg.model.SegmentationModel` and a
raw customer table, and returns JSON-ready data (lists, numbers, strings, ``None``):
no figure, no HTML, no file. Rendering (:mod:`custseg.report.render`) only reads it.

The table goes through the scorer (:class:`custseg.scoring.Scorer`: check rows → the
model's preparation plan → assign), the same path as batch scoring and the service, so
the report describes *this* table through the model: on the training table it
reproduces the training segments; on new customers it shows how they fall into the same
segments. The choice of k and the segment rules are
read from the model (they describe the fit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .._utils.numeric import skewness
from .._utils.sampling import stratified_sample
from .._version import __version__
from ..exceptions import ConfigError, DataError, ModelError
from ..model import SegmentationModel
from .figures import segment_colors
from .render import REPORT_DATA_VERSION

__all__ = ["build_report_data"]

_MAX_DRAWN_POINTS = 5_000  # PCA scatter: more points only blur the picture
_MAX_SILHOUETTE_PLOTTED = 4_000  # bars in the silhouette plot
_SILHOUETTE_MAX_EXACT = 20_000  # exact per-customer silhouette up to this many rows
_SILHOUETTE_SAMPLE = 10_000  # stratified sample beyond it
_MAX_DISTRIBUTIONS = 24
_MAX_CORRELATION_ROWS = 50_000
_MAX_LIFT_FEATURES = 30
_N_BOX_FEATURES = 6
_N_TOP_PROFILE = 5
_HIST_BINS = 30
_MIN_DRAWN_PER_SEGMENT = 50  # every segment stays visible in the sampled figures


def build_report_data(
    model: SegmentationModel, frame: pd.DataFrame, *, random_state: int = 0
) -> dict[str, Any]:
    """Compute the content of the report as a plain, JSON-ready dictionary.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model (``custseg.fit_segments`` or ``custseg.load_model``).
    frame : pandas.DataFrame
        The raw customer table (the training table, or new customers with the same
        columns). Rows whose values cannot be used are counted and set aside.
    random_state : int, default=0
        Seed of the samples drawn for the figures and of the silhouette estimate on
        large tables; the same inputs and seed give the same report.

    Returns
    -------
    dict
        Keys ``version``, ``title``, ``meta``, ``overview``, ``columns``, ``decisions``,
        ``missing``, ``distributions``, ``correlation``, ``k_selection``, ``segments``,
        ``projection``, ``profiles``, ``lift``, ``feature_boxes``, ``silhouette`` and
        ``metrics``; see ``docs/report.md`` for their layout.

    Raises
    ------
    ModelError
        If ``model`` is not a :class:`SegmentationModel`.
    DataError
        If ``frame`` is not a data frame, is empty or has no usable row.
    SchemaError
        If ``frame`` lacks a column the model needs.
    ConfigError
        If ``random_state`` is not a non-negative integer.
    """
    if not isinstance(model, SegmentationModel):
        raise ModelError(
            f"model should be a SegmentationModel, got {type(model).__name__}; load it with"
            " custseg.load_model('model.json')"
        )
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"frame should be a pandas DataFrame, got {type(frame).__name__}; read the file"
            " with custseg.sources.read_table"
        )
    if len(frame) == 0:
        raise DataError("the table has 0 rows; pass the customers to report on")
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise ConfigError(f"random_state={random_state!r} should be an integer >= 0, e.g. 0")
    return _jsonable(_build(model, frame, random_state))


def _build(model: SegmentationModel, frame: pd.DataFrame, seed: int) -> dict[str, Any]:
    from ..prepare import check_rows
    from ..scoring.scorer import Scorer

    # The report names no customer, so a table without the id column is fine.
    scorer = Scorer(model, require_id=False)
    scorer.check_columns(frame)
    checked = check_rows(frame, scorer.schema, require_id=False)
    # Rejected rows are described in the report; only a table with no usable row stops it.
    checked.raise_if_rejected(
        max_share=1.0 - 1.0 / len(frame),
        fix="fix the values or pass the table the model was fitted on",
    )
    prepared = scorer.prepare_checked(checked)
    X = prepared.X
    labels = scorer.assign_prepared(prepared).labels
    rows = checked.frame.loc[prepared.ok]
    derived = scorer.plan.derive(rows)
    schema = scorer.schema
    numeric = [c for c in schema.numeric if c in rows.columns]

    rng = np.random.default_rng(seed)
    sizes = np.bincount(labels, minlength=model.k)
    silhouette = _silhouette(X, labels, model.k, rng, seed)
    profile_rows, lift, top_profiles, boxes = _profiles(model, derived, labels, schema)
    return {
        "version": REPORT_DATA_VERSION,
        "title": "Customer segments report",
        "meta": {
            "custseg_version": __version__,
            "model_version": model.custseg_version,
            "model_created_at": model.created_at,
            "k": model.k,
            "training_rows": model.training.get("rows"),
            "random_state": seed,
        },
        "overview": _overview(frame, checked.reasons, schema, len(model.feature_names)),
        "columns": _columns(frame, checked.frame, schema),
        "decisions": [str(d) for d in model.preparation.get("decisions", [])],
        "missing": _missing(checked.frame, schema.features),
        "distributions": _distributions(rows, numeric[:_MAX_DISTRIBUTIONS]),
        "correlation": _correlation(rows, numeric[:_MAX_DISTRIBUTIONS], rng),
        "k_selection": _k_selection(model),
        "segments": _segments(model, sizes, top_profiles),
        "projection": _projection(X, labels, model.centroid_array, rng),
        "profiles": profile_rows,
        "lift": lift,
        "feature_boxes": boxes,
        "silhouette": silhouette,
        "metrics": _metrics(model, X, labels, sizes, silhouette),
    }


# ---------------------------------------------------------------------------------------
# Data overview


def _overview(
    frame: pd.DataFrame, reasons: pd.Series, schema: Any, n_prepared: int
) -> dict[str, Any]:
    rejected = reasons.dropna()
    examples = [str(r) for r in rejected.astype(str).value_counts().index[:5]]
    return {
        "n_rows": len(frame),
        "n_columns": frame.shape[1],
        "n_usable": len(frame) - len(rejected),
        "n_rejected": len(rejected),
        "rejection_examples": examples,
        "n_features_prepared": n_prepared,
        "id_column": schema.id_column,
    }


def _columns(frame: pd.DataFrame, coerced: pd.DataFrame, schema: Any) -> list[dict[str, Any]]:
    known = {c.name: c for c in schema.columns}
    out = []
    for name in frame.columns:
        info = known.get(str(name))
        # Gaps are counted after coercion so that blanks read from text files count too.
        source = coerced[name] if name in coerced.columns else frame[name]
        n_missing = int(source.isna().sum())
        out.append(
            {
                "name": str(name),
                "role": info.role if info else "ignored",
                "dtype": str(frame[name].dtype),
                "reason": info.reason if info else "not part of the model",
                "n_missing": n_missing,
                "share_missing": n_missing / len(frame),
            }
        )
    return out


def _missing(coerced: pd.DataFrame, features: list[str]) -> list[dict[str, Any]]:
    out = []
    for name in features:
        if name not in coerced.columns:
            continue
        n_missing = int(coerced[name].isna().sum())
        out.append({"column": name, "n_missing": n_missing, "share": n_missing / len(coerced)})
    return out


def _finite_values(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return values[np.isfinite(values)]


def _log_scale(values: np.ndarray, skew: float) -> bool:
    # A log axis helps long right tails of non-negative amounts and counts; on shares
    # and frequencies (0 to about 1) it would only distort, hence max > 10.
    return bool(values.size and values.min() >= 0 and values.max() > 10 and skew > 1)


def _distributions(rows: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    out = []
    for name in columns:
        values = _finite_values(rows[name])
        if values.size == 0:
            continue
        skew = skewness(values)
        log = _log_scale(values, skew)
        lo, hi = float(values.min()), float(values.max())
        if log:
            edges = np.expm1(np.linspace(0.0, math.log1p(hi), _HIST_BINS + 1))
            # expm1(log1p(hi)) can round below hi, which would drop the largest value.
            edges[-1] = hi
        elif hi > lo:
            edges = np.linspace(lo, hi, _HIST_BINS + 1)
        else:
            edges = np.array([lo - 0.5, lo + 0.5])
        counts, _ = np.histogram(values, bins=edges)
        out.append(
            {
                "column": name,
                "edges": edges.tolist(),
                "counts": counts.tolist(),
                "log_scale": log,
                "skewness": skew,
                "median": float(np.median(values)),
            }
        )
    return out


def _correlation(
    rows: pd.DataFrame, columns: list[str], rng: np.random.Generator
) -> dict[str, Any]:
    if len(columns) < 2:
        return {"method": "spearman", "columns": [], "matrix": []}
    table = rows[columns]
    if len(table) > _MAX_CORRELATION_ROWS:
        keep = np.sort(rng.choice(len(table), size=_MAX_CORRELATION_ROWS, replace=False))
        table = table.iloc[keep]
    # Spearman = Pearson on ranks; gaps are filled with the column's mean rank so
    # that they add no correlation.
    ranks = table.rank().to_numpy(dtype=np.float64, na_value=np.nan)
    ranks = np.where(np.isnan(ranks), np.nanmean(ranks, axis=0, keepdims=True), ranks)
    centred = ranks - ranks.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    defined = norms > 0
    safe = np.where(defined, norms, 1.0)
    matrix = (centred.T @ centred) / np.outer(safe, safe)
    matrix = np.where(np.outer(defined, defined), np.clip(matrix, -1.0, 1.0), np.nan)
    return {"method": "spearman", "columns": list(columns), "matrix": matrix.tolist()}


# ---------------------------------------------------------------------------------------
# Choice of k and the segment catalogue


_CANDIDATE_KEYS = (
    "k",
    "inertia",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "stability_ari",
    "min_share",
    "excluded_because",
)


_VOTE_WORDS = {
    "silhouette": "best silhouette",
    "calinski_harabasz": "best Calinski–Harabasz",
    "davies_bouldin": "best Davies–Bouldin",
    "knee": "knee",
}


def _k_selection(model: SegmentationModel) -> dict[str, Any]:
    selection = model.k_selection or {}
    candidates = [
        {
            **{key: candidate.get(key) for key in _CANDIDATE_KEYS},
            "votes": [_VOTE_WORDS.get(v, str(v)) for v in candidate.get("votes") or []],
        }
        for candidate in selection.get("candidates", [])
        if isinstance(candidate, dict) and candidate.get("k") is not None
    ]
    explanation = selection.get("explanation") or (
        f"The model was fitted with k = {model.k} segments, chosen by the analyst;"
        " no comparison of other values of k was recorded."
    )
    return {
        "candidates": sorted(candidates, key=lambda c: int(c["k"])),
        "knee": selection.get("knee"),
        "recommended_k": selection.get("recommended_k"),
        "chosen_k": model.k,
        "explanation": str(explanation),
        "rule": selection.get("rule"),
        "rows_used": selection.get("rows_used"),
        "sampled": bool(selection.get("sampled", False)),
    }


def _rule(rule: dict[str, Any]) -> dict[str, Any] | None:
    if not rule:
        return None
    text = rule.get("text") or rule.get("rule")
    if not text:
        return None
    return {"text": str(text), "precision": rule.get("precision"), "coverage": rule.get("coverage")}


def _segments(
    model: SegmentationModel, sizes: np.ndarray, top_profiles: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    colors = segment_colors(model.k)
    total = int(sizes.sum())
    return [
        {
            "id": seg.id,
            "name": seg.name or f"Segment {seg.id}",
            "size": int(sizes[seg.id]),
            "share": float(sizes[seg.id]) / total,
            "training_share": seg.share,
            "description": seg.description,
            "traits": list(seg.traits),
            "rule": _rule(seg.rule),
            "strategies": list(seg.strategies),
            "color": colors[seg.id],
            "top_profile": top_profiles.get(seg.id, []),
        }
        for seg in model.segments
    ]


# ---------------------------------------------------------------------------------------
# Two-dimensional view


def _projection(
    X: np.ndarray, labels: np.ndarray, centroids: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
    mean = X.mean(axis=0)
    centred = X - mean
    if X.shape[1] < 2:
        components = np.eye(max(X.shape[1], 1), 2)[: X.shape[1]].T
        ratio = [1.0, 0.0]
    else:
        covariance = centred.T @ centred / max(X.shape[0] - 1, 1)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1][:2]
        components = eigenvectors[:, order].T
        # Eigenvectors have no sign; fix it (largest loading positive) so that the
        # picture does not flip between runs or machines.
        signs = np.sign(components[np.arange(2), np.argmax(np.abs(components), axis=1)])
        components *= np.where(signs == 0, 1.0, signs)[:, None]
        total = float(eigenvalues.clip(min=0).sum())
        ratio = [float(eigenvalues[i]) / total if total > 0 else 0.0 for i in order]
    drawn = stratified_sample(
        labels, _MAX_DRAWN_POINTS, rng, min_per_segment=_MIN_DRAWN_PER_SEGMENT
    )
    points = centred[drawn] @ components.T
    centres = (centroids - mean) @ components.T
    return {
        "x": points[:, 0].round(4).tolist(),
        "y": points[:, 1].round(4).tolist(),
        "labels": labels[drawn].tolist(),
        "centroids": centres.tolist(),
        "explained_variance_ratio": ratio,
        "n_drawn": int(drawn.size),
        "n_total": int(labels.size),
    }


# ---------------------------------------------------------------------------------------
# Profiles


def _profile_columns(derived: pd.DataFrame, schema: Any) -> list[str]:
    skip = {schema.id_column}
    return [
        str(c)
        for c in derived.columns
        if c not in skip
        and (
            pd.api.types.is_numeric_dtype(derived[c].dtype)
            and not pd.api.types.is_bool_dtype(derived[c].dtype)
        )
    ]


def _profiles(
    model: SegmentationModel, derived: pd.DataFrame, labels: np.ndarray, schema: Any
) -> tuple[
    list[dict[str, Any]], dict[str, Any], dict[int, list[dict[str, Any]]], list[dict[str, Any]]
]:
    from ..explain.profiles import profile_segments

    columns = _profile_columns(derived, schema)
    clustering = [step["column"] for step in model.preparation.get("numeric", [])]
    profiles = profile_segments(derived, labels, columns=columns, clustering_features=clustering)
    names = model.segment_names()
    table = profiles.table
    rows = [
        {
            "segment_id": int(r["segment_id"]),
            "segment_name": names[int(r["segment_id"])],
            "feature": str(r["feature"]),
            "mean": r["mean"],
            "median": r["median"],
            "population_mean": r["population_mean"],
            "lift": r["lift"],
            "effect_size": r["effect_size"],
            "used_for_clustering": bool(r["used_for_clustering"]),
        }
        for r in table.to_dict(orient="records")
    ]
    top = {
        int(sid): [
            {**row, "feature": str(feature)}
            for feature, row in profiles.top_features(int(sid), _N_TOP_PROFILE)[
                ["mean", "median", "population_mean", "lift", "effect_size"]
            ].iterrows()
        ]
        for sid in profiles.segment_ids
    }
    # The features that separate segments most: largest |effect size| in any segment.
    strength = (
        table.assign(abs_effect=table["effect_size"].abs())
        .groupby("feature", sort=False)["abs_effect"]
        .max()
    )
    ranked = [str(f) for f in strength.sort_values(ascending=False, kind="stable").index]
    lift_features = [f for f in columns if f in set(ranked[:_MAX_LIFT_FEATURES])]
    lookup = table.set_index(["feature", "segment_id"])["lift"]
    lift = {
        "features": lift_features,
        "segments": names,
        "matrix": [
            [float(lookup.get((feature, sid), math.nan)) for sid in range(model.k)]
            for feature in lift_features
        ],
    }
    box_features = [f for f in ranked if strength[f] == strength[f]][:_N_BOX_FEATURES]
    boxes = [_boxes(derived[feature], labels, feature, model.k) for feature in box_features]
    return rows, lift, top, boxes


def _boxes(series: pd.Series, labels: np.ndarray, feature: str, k: int) -> dict[str, Any]:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    stats = []
    for segment in range(k):
        members = values[(labels == segment) & finite]
        if members.size == 0:
            continue
        low, q1, median, q3, high = np.percentile(members, [5, 25, 50, 75, 95])
        stats.append(
            {
                "segment_id": segment,
                "q1": q1,
                "median": median,
                "q3": q3,
                "low": low,
                "high": high,
                "mean": float(members.mean()),
            }
        )
    everything = values[finite]
    return {
        "feature": feature,
        "log_scale": _log_scale(everything, skewness(everything)),
        "boxes": stats,
    }


# ---------------------------------------------------------------------------------------
# Evaluation


def _silhouette(
    X: np.ndarray, labels: np.ndarray, k: int, rng: np.random.Generator, seed: int
) -> dict[str, Any]:
    from ..cluster.silhouette import silhouette, silhouette_samples_exact

    present = np.unique(labels)
    if present.size < 2:
        # One occupied segment: the silhouette is undefined (no "other" segment).
        return {
            "value": None,
            "exact": True,
            "sample_size": int(labels.size),
            "ci_low": None,
            "ci_high": None,
            "per_segment": [None] * k,
            "values_by_segment": [[] for _ in range(k)],
            "n_plotted": 0,
        }
    result = silhouette(
        X,
        labels,
        max_exact=_SILHOUETTE_MAX_EXACT,
        sample_size=_SILHOUETTE_SAMPLE,
        random_state=seed,
    )
    plotted = stratified_sample(
        labels, _MAX_SILHOUETTE_PLOTTED, rng, min_per_segment=_MIN_DRAWN_PER_SEGMENT
    )
    if result.exact and result.samples is not None:
        values = np.asarray(result.samples, dtype=np.float64)[plotted]
    else:
        # Large table: the plot shows exact silhouettes within a stratified sample,
        # the same kind of estimate as the reported value.
        values = np.asarray(silhouette_samples_exact(X[plotted], labels[plotted]))
    plotted_labels = labels[plotted]
    per_segment = list(result.per_segment) + [None] * (k - len(result.per_segment))
    return {
        "value": result.value,
        "exact": bool(result.exact),
        "sample_size": int(result.sample_size),
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "per_segment": per_segment[:k],
        "values_by_segment": [
            np.sort(values[plotted_labels == s])[::-1].round(4).tolist() for s in range(k)
        ],
        "n_plotted": int(plotted.size),
    }


def _training_metric(metrics: dict[str, Any], key: str) -> Any:
    value = metrics.get(key)
    if isinstance(value, dict):
        value = value.get("value")
    return value


def _metrics(
    model: SegmentationModel,
    X: np.ndarray,
    labels: np.ndarray,
    sizes: np.ndarray,
    silhouette: dict[str, Any],
) -> list[dict[str, Any]]:
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    trained = model.metrics or {}
    occupied = int((sizes > 0).sum())
    separable = 2 <= occupied < labels.size
    ch = float(calinski_harabasz_score(X, labels)) if separable else None
    db = float(davies_bouldin_score(X, labels)) if separable else None
    centroids = model.centroid_array
    inertia = float(((X - centroids[labels]) ** 2).sum())
    detail = ""
    if silhouette["value"] is not None and not silhouette["exact"]:
        detail = (
            f"estimated on {silhouette['sample_size']:,} customers, 95% interval "
            f"{silhouette['ci_low']:.3f} to {silhouette['ci_high']:.3f}"
            if silhouette["ci_low"] is not None and silhouette["ci_high"] is not None
            else f"estimated on {silhouette['sample_size']:,} customers"
        )
    smallest = float(sizes.min() / sizes.sum())
    return [
        {
            "name": "Customers segmented",
            "unit": "count",
            "value": int(labels.size),
            "training": model.training.get("rows"),
            "detail": "",
            "explanation": "rows of the table placed in a segment",
        },
        {
            "name": "Silhouette",
            "unit": "number",
            "value": silhouette["value"],
            "training": _training_metric(trained, "silhouette"),
            "detail": detail,
            "explanation": "−1 to 1: how much closer customers are to their own segment than"
            " to the next one; above 0.25 segments are distinct, above 0.5 clearly apart",
        },
        {
            "name": "Calinski–Harabasz",
            "unit": "number",
            "value": ch,
            "training": _training_metric(trained, "calinski_harabasz"),
            "detail": "",
            "explanation": "spread between segments relative to spread within them; higher"
            " is better, compare only for the same data",
        },
        {
            "name": "Davies–Bouldin",
            "unit": "number",
            "value": db,
            "training": _training_metric(trained, "davies_bouldin"),
            "detail": "",
            "explanation": "average overlap of each segment with its most similar one;"
            " lower is better, 0 means no overlap",
        },
        {
            "name": "Inertia",
            "unit": "number",
            "value": inertia,
            "training": _training_metric(trained, "inertia"),
            "detail": "",
            "explanation": "total squared distance of customers to their segment's centre"
            " in the prepared features; grows with the number of customers",
        },
        {
            "name": "Stability (ARI)",
            "unit": "number",
            "value": None,
            "training": _training_metric(trained, "stability_ari"),
            "detail": "",
            "explanation": "0 to 1: agreement of the segments refitted on resampled data"
            " (measured at training)",
        },
        {
            "name": "Smallest segment share",
            "unit": "share",
            "value": smallest,
            "training": min((s.share for s in model.segments), default=None),
            "detail": "",
            "explanation": "share of customers in the smallest segment; tiny segments are"
            " hard to act on",
        },
    ]


# ---------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """numpy scalars to Python numbers, non-finite floats to ``None``, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value
