"""Outcome profiles: 95% intervals, lifts, tests against the rest, separation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association

from custseg.explain import _outcome_stats as st
from custseg.explain.outcomes import profile_outcomes
from custseg.prepare.outcomes import encode_outcome, outcome_family


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Published Wilson score intervals (95%), to four decimals.
        (0, 10, 0.0, 0.2775),
        (1, 10, 0.0179, 0.4042),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_interval_known_values(k, n, low, high) -> None:
    got = st.wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_covers_a_known_proportion() -> None:
    # Exact coverage over the binomial distribution: the share of draws whose interval
    # holds the true proportion, for small and large samples and a rare event.
    for p, n in ((0.1, 30), (0.16, 200), (0.5, 15), (0.03, 400)):
        k = np.arange(n + 1)
        covered = [st.wilson_interval(int(i), n) for i in k]
        hits = np.array([lo <= p <= hi for lo, hi in covered])
        coverage = float(stats.binom.pmf(k, n, p)[hits].sum())
        assert 0.92 <= coverage <= 0.98, (p, n, coverage)


def test_mean_interval_is_the_t_interval() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, 25)
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    expected = stats.t.interval(0.95, 24, loc=mean, scale=sd / math.sqrt(25))
    assert st.mean_interval(mean, sd, 25) == pytest.approx(expected)
    assert all(math.isnan(v) for v in st.mean_interval(1.0, 0.0, 1))


def test_holm_adjusts_step_down() -> None:
    adjusted = st.holm([0.01, 0.04, 0.03, 0.005, math.nan])
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(adjusted[4])


def test_two_proportion_test_and_welch_match_scipy() -> None:
    # Pooled z-test: the square of z is the chi-squared statistic without correction.
    table = np.array([[120, 880], [200, 1800]])
    chi2 = stats.chi2_contingency(table, correction=False)[1]
    assert st.proportion_test(120, 1000, 200, 2000) == pytest.approx(chi2)
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 40), rng.normal(0.5, 2, 90)
    welch = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert st.welch_test(a, b) == pytest.approx(welch)


def _trap() -> tuple[pd.DataFrame, np.ndarray]:
    """Three segments of 1,000 with 30%, 10% and 19% churn; a score higher in segment 0."""
    labels = np.repeat([0, 1, 2], 1000)
    churn = np.concatenate([np.arange(1000) < n for n in (300, 100, 190)]).astype(np.float64)
    score = np.concatenate([np.linspace(0, 2, 1000) + s for s in (1.0, 0.0, 0.02)])
    return pd.DataFrame({"churn": churn, "score": score}), labels


def test_profile_outcomes_rates_intervals_lifts_and_directions() -> None:
    frame, labels = _trap()
    profile = profile_outcomes(frame, labels)
    churn = profile["stats"]["churn"]
    assert churn["measure"] == "rate" and churn["n"] == 3000
    rows = {r["id"]: r for r in churn["segments"]}
    assert rows[0]["value"] == pytest.approx(0.30)
    assert (rows[0]["low"], rows[0]["high"]) == pytest.approx(st.wilson_interval(300, 1000))
    assert rows[0]["lift"] == pytest.approx(0.30 / (590 / 3000))
    # 30% and 10% differ from the rest; 19% against 20% does not.
    assert [rows[i]["direction"] for i in (0, 1, 2)] == ["above", "below", None]
    assert rows[2]["p_adjusted"] >= rows[2]["p_value"]
    table = np.array([[300, 700], [100, 900], [190, 810]])
    v = association(table, method="cramer")
    assert churn["separation"] == {
        "measure": "cramers_v",
        "value": pytest.approx(v),
        "strength": "weakly",
    }
    # The old fields stay as they were.
    assert profile["population"]["churn"] == pytest.approx(590 / 3000)


def test_profile_outcomes_means_use_t_intervals_and_eta_squared() -> None:
    frame, labels = _trap()
    score = profile_outcomes(frame, labels)["stats"]["score"]
    assert score["measure"] == "mean"
    rows = {r["id"]: r for r in score["segments"]}
    assert rows[0]["direction"] == "above" and rows[1]["direction"] == "below"
    values = frame["score"].to_numpy()
    grand = values.mean()
    between = sum(1000 * (values[labels == i].mean() - grand) ** 2 for i in range(3))
    eta2 = between / ((values - grand) ** 2).sum()
    assert score["separation"]["measure"] == "eta_squared"
    assert score["separation"]["value"] == pytest.approx(eta2)
    assert score["separation"]["strength"] == "strongly"


def test_profile_outcomes_without_any_difference_marks_nothing() -> None:
    labels = np.repeat([0, 1, 2, 3], 50)
    flag = np.tile([1.0, 0.0, 0.0, 0.0, 0.0], 40)  # 20% in every segment
    profile = profile_outcomes(pd.DataFrame({"churn": flag}), labels)
    rows = profile["stats"]["churn"]["segments"]
    assert all(r["direction"] is None for r in rows)
    assert all(r["lift"] == pytest.approx(1.0) for r in rows)


def test_text_outcomes_count_the_event_level() -> None:
    values, positive = encode_outcome(
        pd.Series(["Existing Customer", "Attrited Customer", "Existing Customer"])
    )
    assert positive == "Attrited Customer" and list(values) == [0.0, 1.0, 0.0]
    values, positive = encode_outcome(pd.Series(["No", "Yes", "No", "No"]))
    assert positive == "Yes" and list(values) == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("reason", "family"),
    [
        ("outcome flag: churn", "churn"),
        ("outcome flag: attrition", "churn"),
        ("outcome flag: cancellation", "churn"),
        ("outcome flag: response", "response"),
        ("outcome flag: default", "default"),
        ("outcome flag: complaint", "complaint"),
        ("outcome flag: fraud", None),
        ("outcome: label", None),
        ("model output: classifier", None),
    ],
)
def test_outcome_families(reason, family) -> None:
    assert outcome_family(reason) == family
