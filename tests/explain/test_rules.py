"""Segment rules: recovered thresholds, honest precision/coverage, agreement, gaps, scale."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from _credit_cards import cc_frame, cc_labels
from custseg.exceptions import ConfigError, SchemaError
from custseg.explain.rules import Condition, RuleSet, segment_rules


def evaluate(frame: pd.DataFrame, conditions: list[list[dict]]) -> np.ndarray:
    """Independent evaluation of a rule's conditions: any clause, all conditions; NaN fails."""
    result = np.zeros(len(frame), dtype=bool)
    for clause in conditions:
        mask = np.ones(len(frame), dtype=bool)
        for c in clause:
            column = frame[c["feature"]].to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                mask &= column >= c["value"] if c["op"] == ">=" else column < c["value"]
        result |= mask
    return result


def check_measures(frame: pd.DataFrame, labels: np.ndarray, rules: RuleSet) -> None:
    """Precision, coverage and agreement equal what the rendered rules do on the data."""
    masks = {}
    for rule in rules.rules:
        data = rule.to_dict()
        mask = evaluate(frame, data["conditions"])
        masks[rule.segment_id] = mask
        inside = labels == rule.segment_id
        assert rule.n_matched == int(mask.sum())
        assert rule.n_segment == int(inside.sum())
        assert rule.coverage == pytest.approx((mask & inside).sum() / inside.sum())
        if mask.any():
            assert rule.precision == pytest.approx((mask & inside).sum() / mask.sum())
            assert 0.0 <= rule.precision <= 1.0
        else:
            assert rule.precision is None
        assert 0.0 <= rule.coverage <= 1.0
        # The text shows every threshold that is evaluated.
        for clause in data["conditions"]:
            for c in clause:
                assert c["feature"] in rule.text
                value = c["value"]
                shown = str(int(value)) if value == int(value) else f"{value:.12g}"
                assert shown in rule.text
    order = sorted(
        rules.rules, key=lambda r: (-(r.precision if r.precision is not None else -1), r.segment_id)
    )
    assert rules.precedence == [r.segment_id for r in order]
    assigned = np.full(len(frame), -1)
    for rule in order:
        assigned[(assigned == -1) & masks[rule.segment_id]] = rule.segment_id
    assert rules.agreement == pytest.approx(np.mean(assigned == labels))
    assert rules.unmatched_share == pytest.approx(np.mean(assigned == -1))
    np.testing.assert_array_equal(rules.assign(frame), assigned)


def test_recovers_a_known_rule_with_round_thresholds():
    rng = np.random.default_rng(0)
    n = 6_000
    frame = pd.DataFrame(
        {
            "x": rng.uniform(0, 1, n),
            "y": rng.uniform(0, 20, n),
            "visits": rng.integers(0, 30, n),
            "noise": rng.normal(size=n),
        }
    )
    labels = np.where((frame["x"] >= 0.6) & (frame["y"] < 12), 1, 0)
    labels = np.where(frame["visits"] >= 25, 2, labels)
    rules = segment_rules(frame, labels, random_state=0)
    check_measures(frame, labels, rules)

    one = rules.rule(1)
    assert one.precision is not None and one.precision >= 0.97
    assert one.coverage >= 0.97
    assert len(one.clauses) == 1
    assert set(one.clauses[0]) == {
        Condition("x", ">=", 0.6),
        Condition("y", "<", 12.0),
        Condition("visits", "<", 25.0),
    }
    assert one.text.startswith("x ≥ 0.6 and y < 12")
    # Counts get the next whole number, not a midpoint: "visits ≥ 25".
    two = rules.rule(2)
    assert "visits ≥ 25" in two.text
    assert two.precision == pytest.approx(1.0) and two.coverage == pytest.approx(1.0)
    assert "noise" not in one.text + two.text
    assert rules.agreement >= 0.97


@pytest.mark.parametrize("k", [3, 5, 7])
def test_cc_general_rules_are_short_measured_and_agree_with_labels(k):
    frame = cc_frame()
    labels = cc_labels(k)
    rules = segment_rules(frame, labels, random_state=0)
    assert [r.segment_id for r in rules.rules] == list(range(k))
    check_measures(frame, labels, rules)
    assert rules.n_rows == len(frame) == rules.fit_rows
    for rule in rules.rules:
        assert 1 <= len(rule.clauses) <= 2
        for clause in rule.clauses:
            assert 1 <= len(clause) <= 3
            for c in clause:
                # 2-3 significant digits at most.
                assert float(f"{c.value:.3g}") == c.value
        assert rule.precision is not None and rule.precision > 0.3
        assert rule.coverage > 0.5
    # Shallow rules still explain most customers' segments.
    assert rules.agreement > 0.7
    assert rules.unmatched_share < 0.1


def test_missing_values_never_match_and_fit_on_medians():
    rng = np.random.default_rng(3)
    n = 3_000
    minimum = rng.uniform(0, 10, n)
    frame = pd.DataFrame({"minimum": minimum, "other": rng.normal(size=n)})
    labels = (minimum >= 7).astype(int)
    gaps = rng.random(n) < 0.1
    frame.loc[gaps, "minimum"] = np.nan
    rules = segment_rules(frame, labels, random_state=0)
    check_measures(frame, labels, rules)
    assert rules.rule(1).text == "minimum ≥ 7"
    assert rules.rule(0).text == "minimum < 7"
    for rule in rules.rules:
        assert not rule.matches(frame)[gaps].any()
        # The segment's customers with a gap are not covered; the others all are.
        inside = labels == rule.segment_id
        assert rule.coverage == pytest.approx((inside & ~gaps).sum() / inside.sum())
        assert rule.precision == 1.0


def test_depth_limit_sampling_and_determinism():
    frame = cc_frame()
    labels = cc_labels(4)
    shallow = segment_rules(frame, labels, max_depth=1, random_state=0)
    for rule in shallow.rules:
        assert all(len(clause) == 1 for clause in rule.clauses)

    sampled = segment_rules(frame, labels, sample_size=2_000, random_state=5)
    assert sampled.fit_rows < len(frame)
    assert sampled.n_rows == len(frame)
    check_measures(frame, labels, sampled)
    again = segment_rules(frame, labels, sample_size=2_000, random_state=5)
    assert again.to_dict() == sampled.to_dict()


def test_large_table_fits_on_a_sample_and_measures_on_all_rows():
    base = cc_frame().drop(columns="CUST_ID")
    rng = np.random.default_rng(7)
    n = 300_000
    rows = rng.integers(0, len(base), n)
    frame = pd.DataFrame(
        base.to_numpy()[rows] * rng.uniform(0.9, 1.1, (n, base.shape[1])), columns=base.columns
    )
    labels = cc_labels(5)[rows]
    start = time.perf_counter()
    rules = segment_rules(frame, labels, random_state=0)
    elapsed = time.perf_counter() - start
    assert rules.fit_rows <= 55_000 < rules.n_rows == n
    assert elapsed < 20  # about 1.5 s on a 2-core machine
    check_measures(frame, labels, rules)
    assert rules.agreement > 0.7


def test_round_trip_and_for_segment():
    frame = cc_frame()
    labels = cc_labels(3)
    rules = segment_rules(frame, labels, random_state=1)
    data = json.loads(json.dumps(rules.to_dict(), allow_nan=False))
    again = RuleSet.from_dict(data)
    assert again == rules
    np.testing.assert_array_equal(again.assign(frame), rules.assign(frame))
    single = rules.for_segment(2)
    assert single["segment_id"] == 2 and single["text"] == rules.rule(2).text
    assert set(single) == {
        "segment_id",
        "text",
        "conditions",
        "precision",
        "coverage",
        "n_matched",
        "n_segment",
    }


def test_one_segment_is_described_by_all_customers():
    frame = cc_frame()
    rules = segment_rules(frame, np.zeros(len(frame), dtype=int))
    only = rules.rule(0)
    assert only.text == "all customers"
    assert only.precision == 1.0 and only.coverage == 1.0
    assert rules.agreement == 1.0


def test_invalid_options_and_missing_columns():
    frame = cc_frame()
    labels = cc_labels(3)
    with pytest.raises(ConfigError, match="max_depth=7 should be an integer from 1 to 5"):
        segment_rules(frame, labels, max_depth=7)
    with pytest.raises(ConfigError, match="max_depth=True"):
        segment_rules(frame, labels, max_depth=True)
    with pytest.raises(ConfigError, match="sample_size=10"):
        segment_rules(frame, labels, sample_size=10)
    with pytest.raises(SchemaError, match="'NOPE' is not in the table"):
        segment_rules(frame, labels, columns=["NOPE"])
    rules = segment_rules(frame, labels, columns=["BALANCE", "PURCHASES"], random_state=0)
    assert set().union(*(r.features for r in rules.rules)) <= {"BALANCE", "PURCHASES"}
    with pytest.raises(SchemaError, match="absent from the table"):
        rules.rule(0).matches(frame.drop(columns=["BALANCE", "PURCHASES"]))


def test_threshold_text_is_readable():
    frame = cc_frame()
    rules = segment_rules(frame, cc_labels(6), random_state=0)
    for rule in rules.rules:
        assert "e+" not in rule.text and "e-" not in rule.text
        assert " and " in rule.text or len(rule.features) == 1 or " or " in rule.text
        for clause in rule.clauses:
            for c in clause:
                assert math.isfinite(c.value)
