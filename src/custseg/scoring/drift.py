"""Drift: has the population moved since the model was trained?

:func:`check_drift` compares a table of customers scored today with the training
statistics stored in the model (``model.drift_reference``, see
:mod:`custseg.prepare.reference`) and with the training segment shares. It needs no
training data. The rows go through :class:`~custseg.scoring.Scorer`, the one rows ->
segments path, so the shares "now" are exactly what scoring would give.

For every input feature:

1. the current values are binned on the training histogram's own edges (deciles of the
   training values, zero apart when frequent, outer bins open; see
   :mod:`custseg.prepare.reference`), plus one bin for missing values, so that a column
   that empties out drifts as much as one whose values move;
2. the population stability index (PSI) compares the two distributions:
   ``sum((now - then) * ln(now / then))`` with shares floored at 1e-4;
3. the status is ``green`` below ``amber`` (0.1 by default), ``amber`` from 0.1 and
   ``red`` from ``red`` (0.25), the usual credit-risk rule of thumb.

The segment shares at training and now get a PSI and a status the same way. The
overall status is the worst of them all, and a one-line verdict says what to do.

Only the rows that can be scored are compared (a row rejected by the scorer has no
segment); the document counts the rejected ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from .._utils.checks import check_frame, is_number
from ..exceptions import ConfigError, DataError, ScoringError
from ..model import SegmentationModel, model_to_json
from ..prepare import check_rows
from ..prepare.reference import population_stability_index
from ..prepare.rows import unusable_rows_message
from .scorer import Scorer

__all__ = [
    "DEFAULT_AMBER",
    "DEFAULT_RED",
    "STATUSES",
    "DRIFT_FORMAT",
    "check_drift",
    "check_drift_records",
    "check_thresholds",
    "psi_status",
    "status_reached",
]

DEFAULT_AMBER = 0.1
"""PSI from which a feature or the segment shares are ``amber`` (moderate shift)."""
DEFAULT_RED = 0.25
"""PSI from which a feature or the segment shares are ``red`` (significant shift)."""
STATUSES = ("green", "amber", "red")
"""The statuses, from best to worst."""
DRIFT_FORMAT = "custseg-drift"
DRIFT_VERSION = 1

OTHER_LEVEL = "other"
# Below this many compared rows PSI is noisy: an unchanged population with B bins shows
# a PSI of about (B - 1) / n by chance alone, 0.09 with 10 bins and 100 rows.
_FEW_ROWS = 1_000
# Names of drifting features quoted in the verdict before "and N more".
_NAMES_IN_VERDICT = 3


def psi_status(psi: float, *, amber: float = DEFAULT_AMBER, red: float = DEFAULT_RED) -> str:
    """``"green"``, ``"amber"`` or ``"red"`` for a PSI value.

    Parameters
    ----------
    psi : float
        Population stability index (>= 0).
    amber, red : float, default 0.1 and 0.25
        Thresholds: ``psi >= red`` is red, ``psi >= amber`` amber, below green.
    """
    check_thresholds(amber, red)
    return _status(psi, amber, red)


def status_reached(status: str, level: str) -> bool:
    """Whether ``status`` is ``level`` or worse (``status_reached("red", "amber")`` is True).

    Raises
    ------
    ConfigError
        If either is not one of :data:`STATUSES`.
    """
    for name, value in (("status", status), ("level", level)):
        if value not in STATUSES:
            raise ConfigError(f"{name}={value!r} should be one of green, amber or red")
    return STATUSES.index(status) >= STATUSES.index(level)


def check_drift(
    model: SegmentationModel | Scorer,
    frame: pd.DataFrame,
    *,
    amber: float = DEFAULT_AMBER,
    red: float = DEFAULT_RED,
) -> dict[str, Any]:
    """Compare a table of current customers with the model's training population.

    Parameters
    ----------
    model : SegmentationModel or Scorer
        The model (a :class:`Scorer` built from it avoids rebuilding the plan; build it
        with ``require_id=False`` to accept tables without the identifier column).
    frame : pandas.DataFrame
        Current customers with the model's input columns; gaps are allowed.
    amber, red : float, default 0.1 and 0.25
        PSI thresholds of the ``amber`` and ``red`` statuses, ``0 < amber <= red``.

    Returns
    -------
    dict
        The drift document (JSON-ready), the content of ``drift.json``: ``verdict``,
        ``status``, ``thresholds``, ``model``, ``rows``, ``rows_compared``,
        ``rows_rejected``, ``features`` (one entry per input feature: ``feature``,
        ``kind``, ``psi``, ``status``, ``missing_then``, ``missing_now``, ``mean_then``,
        ``mean_now`` and ``bins`` with the shares ``then`` and ``now``), ``segments``
        (``segment_id``, ``name``, ``share_then``, ``share_now``, ``customers_now``),
        ``segments_psi``, ``segments_status``, ``notes`` and ``created_at``.

    Raises
    ------
    ConfigError
        If the thresholds are not numbers with ``0 < amber <= red``, or ``model`` is
        not a model.
    DataError
        If ``frame`` is not a data frame or has no rows.
    SchemaError
        If ``frame`` lacks a column the model needs.
    ScoringError
        If no row of ``frame`` can be scored.
    """
    check_thresholds(amber, red)
    scorer = model if isinstance(model, Scorer) else Scorer(model, require_id=False)
    check_frame(frame)
    if len(frame) == 0:
        raise DataError("the table has no rows; check the query or the input file")
    return _drift(scorer, frame, float(amber), float(red))


def check_drift_records(
    scorer: Scorer,
    records: Sequence[Mapping[str, Any]],
    *,
    amber: float = DEFAULT_AMBER,
    red: float = DEFAULT_RED,
) -> dict[str, Any]:
    """:func:`check_drift` on JSON-like records (the service's ``POST /v1/drift``).

    Each record must carry the model's input columns (numbers, numbers as text or
    ``null``); other fields are ignored.
    """
    if not isinstance(scorer, Scorer):
        raise ConfigError(f"scorer should be a Scorer, got {type(scorer).__name__}")
    frame = pd.DataFrame.from_records(list(records), columns=scorer.required)
    return check_drift(scorer, frame, amber=amber, red=red)


def check_thresholds(amber: Any, red: Any) -> None:
    """Raise :class:`~custseg.exceptions.ConfigError` unless ``0 < amber <= red`` are numbers.

    The messages name the parameter and the command-line option (``--psi-amber``).
    """
    for name, value in (("amber", amber), ("red", red)):
        flag = f"--psi-{name}"
        if not is_number(value, finite=False):
            raise ConfigError(f"{name}={value!r} ({flag}) should be a PSI threshold such as 0.1")
        if not math.isfinite(value) or value <= 0:
            raise ConfigError(
                f"{name}={value!r} ({flag}) should be a PSI threshold above 0, e.g. 0.1"
            )
    if amber > red:
        raise ConfigError(
            f"amber={amber!r} (--psi-amber) should be <= red={red!r} (--psi-red); e.g. 0.1 and 0.25"
        )


# ---------------------------------------------------------------------- computing


def _status(psi: float, amber: float, red: float) -> str:
    return "red" if psi >= red else "amber" if psi >= amber else "green"


def _drift(scorer: Scorer, frame: pd.DataFrame, amber: float, red: float) -> dict[str, Any]:
    model = scorer.model
    scorer.check_columns(frame)
    categorical = scorer.plan.input_categorical
    if categorical:
        # Categorical values come from the row check itself (text, gaps as missing).
        checked = check_rows(frame, scorer.schema, require_id=scorer.require_id)
        prepared = scorer.prepare_checked(checked)
        levels = {c: checked.frame[c].to_numpy(dtype=object) for c in categorical}
    else:
        prepared = scorer.prepare_frame(frame)
        levels = {}
    scored = scorer.assign_prepared(prepared)
    ok = scored.ok
    n_ok = int(ok.sum())
    if n_ok == 0:
        first = int(np.flatnonzero(~ok)[0])
        raise ScoringError(
            unusable_rows_message(
                len(ok),
                len(ok),
                first + 1,
                str(scored.reasons[0]),
                "check that the table has the model's columns and types",
            )
        )
    reference = model.drift_reference
    features: list[dict[str, Any]] = []
    for name, ref in reference["numeric"].items():
        if name in prepared.values:
            entry = _numeric_drift(name, ref, prepared.values[name][ok])
            features.append(_with_status(entry, amber, red))
    for name, ref in reference["categorical"].items():
        if name in levels:
            entry = _categorical_drift(name, ref, levels[name][ok])
            features.append(_with_status(entry, amber, red))

    counts = np.bincount(scored.labels, minlength=model.k)
    shares_then = [float(segment.share) for segment in model.segments]
    shares_now = [float(count / n_ok) for count in counts]
    segments = [
        {
            "segment_id": segment.id,
            "name": segment.name,
            "share_then": shares_then[segment.id],
            "share_now": shares_now[segment.id],
            "customers_now": int(counts[segment.id]),
        }
        for segment in model.segments
    ]
    segments_psi = population_stability_index(shares_then, shares_now)
    segments_status = _status(segments_psi, amber, red)
    status = STATUSES[
        max(STATUSES.index(s) for s in [segments_status, *(f["status"] for f in features)])
    ]
    n_rejected = len(ok) - n_ok
    return {
        "format": DRIFT_FORMAT,
        "version": DRIFT_VERSION,
        "verdict": _verdict(status, features, segments_psi, segments_status),
        "status": status,
        "thresholds": {"amber": amber, "red": red},
        "model": _model_description(model),
        "rows": len(ok),
        "rows_compared": n_ok,
        "rows_rejected": n_rejected,
        "features": features,
        "segments": segments,
        "segments_psi": segments_psi,
        "segments_status": segments_status,
        "notes": _notes(n_ok, n_rejected, len(ok), features),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _numeric_drift(name: str, ref: Mapping[str, Any], values: np.ndarray) -> dict[str, Any]:
    present = values[np.isfinite(values)]
    missing_then = float(ref["missing_share"])
    missing_now = float(1.0 - present.size / values.size)
    edges = [float(e) for e in ref["bins"]]
    proportions = [float(p) for p in ref["proportions"]]
    if proportions:
        counts = np.bincount(
            np.searchsorted(np.asarray(edges), present, side="right"), minlength=len(edges) + 1
        )
        now = counts / present.size if present.size else np.zeros(len(edges) + 1)
    else:
        # No value at all at training: one bin for whatever values there are now.
        proportions, now = [1.0], np.ones(1)
    then_shares = [(1.0 - missing_then) * p for p in proportions] + [missing_then]
    now_shares = [(1.0 - missing_now) * float(q) for q in now] + [missing_now]
    return {
        "feature": name,
        "kind": "numeric",
        "psi": population_stability_index(then_shares, now_shares),
        "missing_then": missing_then,
        "missing_now": missing_now,
        "mean_then": _finite_or_none(ref.get("mean")),  # no mean: no value at training
        "mean_now": float(present.mean()) if present.size else None,
        "bins": {"edges": edges, "then": then_shares, "now": now_shares},
    }


def _categorical_drift(name: str, ref: Mapping[str, Any], values: np.ndarray) -> dict[str, Any]:
    missing_then = float(ref["missing_share"])
    # The reference counts gaps as the level "None"; they have their own bin here.
    known = {
        str(level): float(share)
        for level, share in ref["levels"].items()
        if not (level == "None" and missing_then > 0)
    }
    missing = pd.isna(values)
    present = pd.Series(values[~missing]).astype(str)
    now_counts = present.value_counts()
    n = max(len(values), 1)
    labels = list(known)
    then_shares = [known[level] for level in labels]
    now_shares = [float(now_counts.get(level, 0)) / n for level in labels]
    other_now = float(now_counts[~now_counts.index.isin(labels)].sum()) / n
    then_shares += [max(0.0, 1.0 - missing_then - sum(then_shares)), missing_then]
    now_shares += [other_now, float(missing.sum()) / n]
    return {
        "feature": name,
        "kind": "categorical",
        "psi": population_stability_index(then_shares, now_shares),
        "missing_then": missing_then,
        "missing_now": float(missing.sum()) / n,
        "mean_then": None,
        "mean_now": None,
        "bins": {"levels": labels, "then": then_shares, "now": now_shares},
    }


def _with_status(entry: dict[str, Any], amber: float, red: float) -> dict[str, Any]:
    entry["status"] = _status(entry["psi"], amber, red)
    # Key order of the document: the headline figures first.
    head = ("feature", "kind", "psi", "status", "missing_then", "missing_now")
    return {key: entry[key] for key in head} | {k: v for k, v in entry.items() if k not in head}


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _model_description(model: SegmentationModel) -> dict[str, Any]:
    checksum = json.loads(model_to_json(model))["checksum"]
    return {
        "checksum": checksum,
        "created_at": model.created_at,
        "k": model.k,
        "training_rows": model.training["rows"],
    }


def _names(features: list[dict[str, Any]]) -> str:
    names = [f["feature"] for f in sorted(features, key=lambda f: -f["psi"])]
    shown = ", ".join(names[:_NAMES_IN_VERDICT])
    if len(names) > _NAMES_IN_VERDICT:
        shown += f" and {len(names) - _NAMES_IN_VERDICT} more"
    return shown


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _verdict(
    status: str, features: list[dict[str, Any]], segments_psi: float, segments_status: str
) -> str:
    """One line: what to do, which features drift, how the segment shares moved."""
    red = [f for f in features if f["status"] == "red"]
    amber = [f for f in features if f["status"] == "amber"]
    shares = {
        "red": f"segment shares moved (PSI {segments_psi:.2f})",
        "amber": f"segment shares shifting (PSI {segments_psi:.2f})",
        "green": f"segment shares stable (PSI {segments_psi:.2f})",
    }[segments_status]
    parts = []
    if red:
        parts.append(f"{_count(len(red), 'feature')} red ({_names(red)})")
    if amber:
        parts.append(f"{_count(len(amber), 'feature')} amber ({_names(amber)})")
    if not parts:
        parts.append(f"all {_count(len(features), 'feature')} green")
    lead = {
        "red": "retrain recommended",
        "amber": "watch",
        "green": "no drift",
    }[status]
    return f"{lead}: {', '.join(parts)}, {shares}"


def _notes(n_ok: int, n_rejected: int, n_rows: int, features: list[dict[str, Any]]) -> list[str]:
    notes = []
    if n_rejected:
        notes.append(
            f"{n_rejected:,} of {n_rows:,} rows could not be scored and are not compared;"
            " `custseg score` lists them with their reasons"
        )
    if n_ok < _FEW_ROWS:
        bins = max((len(f["bins"]["then"]) for f in features), default=2)
        notes.append(
            f"only {n_ok:,} rows compared: an unchanged population shows a PSI of about"
            f" {(bins - 1) / n_ok:.2f} per feature by chance; compare {_FEW_ROWS:,} rows or"
            " more for a firm verdict"
        )
    return notes
