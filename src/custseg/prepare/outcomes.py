"""Recognising outcome columns and model outputs by their names and values.

A customer table exported for analysis often carries what happened to the customers
(churned, defaulted, complained, responded to the last campaign) and the scores of an
earlier model. Clustering on them builds segments out of the answer instead of the
behaviour ("one segment is exactly the churned customers"), so
:func:`custseg.prepare.roles.infer_schema` gives them the role ``"outcome"``: they are
not clustered on, but profiled per segment (the churn rate by segment is the table a
bank wants most). Naming one in ``features`` clusters on it anyway.

Profiles read an outcome as numbers (:func:`encode_outcome`): numbers as they are (the
mean of a 0/1 flag is its rate), booleans as 0/1, and a two-level text outcome as 1 for
its positive level: a yes-like word (``yes``, ``true``, ``y``, ``1``), else the level
whose words name an outcome (``"Attrited Customer"``), else the rarer level. Text with
more than two levels has no mean and is not profiled.

A name is split into lower-case tokens (:func:`name_tokens`: ``CamelCase``,
``snake_case``, spaces, punctuation, and letters from digits: ``AcceptedCmp3`` ->
``accepted cmp 3``), then:

``outcome flag: <kind>``
    a token of :data:`OUTCOME_TOKENS` (churn, attrition, exited, default, response,
    complaint, fraud, conversion, cancellation and their forms) **and** exactly two
    distinct values (0/1, yes/no, true/false, "Attrited Customer"/"Existing Customer").
    A count of complaints is behaviour, not a flag: it stays a feature.
``outcome: label``
    a token of :data:`LABEL_TOKENS` (``target``, ``label``, ``outcome``) or the whole
    name ``y``, whatever the values.
``model output: <kind>``
    a token of :data:`MODEL_TOKENS` (probability, prediction, propensity, classifier,
    posterior...), whatever the values; or a token of :data:`SCORE_TOKENS` (``score``,
    ``likelihood``) when the values lie in [0, 1] (a probability) or the name also
    carries an outcome token (``churn_score``). A ``CreditScore`` of 350-850 or a
    ``Satisfaction Score`` of 1-5 describes the customer and stays a feature.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .schema import text_values, value_kind

__all__ = [
    "LABEL_TOKENS",
    "MODEL_TOKENS",
    "OUTCOME_TOKENS",
    "SCORE_TOKENS",
    "OUTCOME_FAMILIES",
    "encode_outcome",
    "name_tokens",
    "outcome_family",
    "outcome_reason",
]

OUTCOME_TOKENS: dict[str, str] = {
    **dict.fromkeys(("churn", "churned", "churner", "churners"), "churn"),
    **dict.fromkeys(("exited", "exit", "exits", "left"), "churn"),
    **dict.fromkeys(("attrition", "attrited"), "attrition"),
    **dict.fromkeys(("default", "defaulted", "defaults", "delinquent", "delinquency"), "default"),
    **dict.fromkeys(("writeoff", "chargeoff", "npl"), "default"),
    **dict.fromkeys(("response", "responded", "responder", "converted", "conversion"), "response"),
    **dict.fromkeys(("acceptance",), "response"),
    **dict.fromkeys(("complain", "complained", "complaint", "complaints"), "complaint"),
    **dict.fromkeys(("fraud", "fraudulent"), "fraud"),
    **dict.fromkeys(("cancelled", "canceled", "cancellation", "closed"), "cancellation"),
}
"""Name tokens of outcome flags, mapped to the kind of outcome the reason names."""

OUTCOME_FAMILIES: dict[str, str] = {
    "churn": "churn",
    "attrition": "churn",
    "cancellation": "churn",
    "response": "response",
    "default": "default",
    "complaint": "complaint",
}
"""Kinds of outcome flags (the values of :data:`OUTCOME_TOKENS`) grouped into the four
outcomes strategies address (a playbook's ``[outcomes.<family>]``): customers leaving
(churn, attrition, exit, cancellation), answering an offer (response, acceptance,
conversion), not paying back (default, delinquency, write-off) and complaining. Fraud
has no family: no marketing strategy answers it."""

LABEL_TOKENS = frozenset({"target", "label", "labels", "outcome", "outcomes"})
"""Name tokens of a label or target column, whatever its values."""

MODEL_TOKENS: dict[str, str] = {
    **dict.fromkeys(("prob", "proba", "probability", "probabilities"), "probability"),
    **dict.fromkeys(("pred", "prediction", "predictions", "predicted", "yhat"), "prediction"),
    **dict.fromkeys(("propensity",), "propensity"),
    **dict.fromkeys(("classifier", "posterior", "logit"), "classifier"),
}
"""Name tokens of model outputs, whatever their values."""

SCORE_TOKENS: dict[str, str] = {"score": "score", "scores": "score", "likelihood": "likelihood"}
"""Name tokens of model outputs when the values are probabilities or the name names an outcome."""

_SPLIT_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT_DIGITS = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def name_tokens(name: str) -> list[str]:
    """Lower-case tokens of a column name.

    ``CustomerID`` -> ``["customer", "id"]``, ``NumOfProducts`` -> ``["num", "of",
    "products"]``, ``AcceptedCmp3`` -> ``["accepted", "cmp", "3"]``, ``cust id`` ->
    ``["cust", "id"]``; an all-capitals name without separators (``CLIENTNUM``) is one
    token.
    """
    spaced = _SPLIT_DIGITS.sub("_", _SPLIT_CAMEL.sub("_", name))
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def outcome_reason(name: str, *, n_levels: int, within_unit: bool) -> str | None:
    """Why a column is an outcome or a model output, or ``None`` when it is neither.

    Parameters
    ----------
    name : str
        The column name.
    n_levels : int
        Distinct non-missing values of the column.
    within_unit : bool
        Whether the column is numeric with every value in [0, 1].

    Returns
    -------
    str or None
        ``"outcome flag: churn"``, ``"outcome: label"``, ``"model output: score"``...
    """
    tokens = name_tokens(name)
    outcome = next((OUTCOME_TOKENS[t] for t in tokens if t in OUTCOME_TOKENS), None)
    model = next((MODEL_TOKENS[t] for t in tokens if t in MODEL_TOKENS), None)
    if model is not None:
        return f"model output: {model}"
    score = next((SCORE_TOKENS[t] for t in tokens if t in SCORE_TOKENS), None)
    if score is not None and (within_unit or outcome is not None):
        return f"model output: {score}"
    if any(t in LABEL_TOKENS for t in tokens) or name.strip().lower() == "y":
        return "outcome: label"
    if outcome is not None and n_levels == 2:
        return f"outcome flag: {outcome}"
    return None


def outcome_family(reason: str) -> str | None:
    """The outcome family of a column's role reason, or ``None``.

    ``"outcome flag: attrition"`` -> ``"churn"``; labels (``"outcome: label"``), model
    outputs and fraud flags have no family.
    """
    head = reason.split(";")[0].strip()
    if not head.startswith("outcome flag:"):
        return None
    return OUTCOME_FAMILIES.get(head.removeprefix("outcome flag:").strip())


_YES = frozenset({"yes", "y", "true", "t", "1"})


def encode_outcome(series: pd.Series) -> tuple[np.ndarray | None, str | None]:
    """An outcome column as float64 numbers (NaN for gaps), and the level counted as 1.

    Returns
    -------
    (numpy.ndarray or None, str or None)
        The values and, for booleans and two-level text, the level read as 1 (``None``
        for numbers). ``(None, None)`` when the column cannot be read as numbers (text
        with more than two levels).
    """
    kind = value_kind(series)
    if kind == "bool":
        return series.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan), "True"
    if kind in ("int", "float", "other-number"):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), None
    text = text_values(series)
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() == text.notna().sum():
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan), None
    counts = text.value_counts()
    if len(counts) != 2:
        return None, None
    levels = [str(level) for level in counts.index]  # most frequent first
    positive = next((lv for lv in levels if lv.strip().lower() in _YES), None)
    if positive is None:
        positive = next(
            (lv for lv in levels if any(t in OUTCOME_TOKENS for t in name_tokens(lv))), None
        )
    if positive is None:
        positive = levels[1]
    values = np.where(text.isna(), np.nan, (text == positive).astype(np.float64))
    return values.astype(np.float64), positive
