"""Known answers of the sensitive-attribute audit (custseg.explain.audit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.exceptions import ConfigError, DataError, SchemaError
from custseg.explain.audit import (
    MIN_COUNT,
    audit_segments,
    audit_summary,
    audit_warning,
    cramers_v,
)


def _skewed_gender(n_per_segment: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two segments: segment 1 is 90% women, segment 0 10%: the population is 50/50."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n_per_segment)
    women = np.concatenate(
        [
            rng.permutation(np.arange(n_per_segment) < n_per_segment // 10),
            rng.permutation(np.arange(n_per_segment) < 9 * n_per_segment // 10),
        ]
    )
    frame = pd.DataFrame(
        {"Sex": np.where(women, "Female", "Male"), "spend": rng.gamma(2.0, 100.0, labels.size)}
    )
    return frame, labels


def test_a_segment_of_90_percent_women_is_flagged_with_its_ratio_and_v() -> None:
    frame, labels = _skewed_gender()
    audit = audit_segments(frame, labels, {"Sex": "sex/gender"}).to_dict()
    (gender,) = audit["characteristics"]
    assert gender["levels"] == ["Female", "Male"]
    assert gender["population"] == pytest.approx([0.5, 0.5])
    assert gender["segments"][1]["shares"] == pytest.approx([0.9, 0.1])
    # 90% against 50% is a ratio of 1.8 (inside 0.5-2); 10% men against 50% is 0.2.
    flags = {(f["segment_id"], f["level"]): f for f in audit["flags"]}
    assert flags[(1, "Male")]["ratio"] == pytest.approx(0.2)
    assert flags[(0, "Female")]["ratio"] == pytest.approx(0.2)
    assert (1, "Female") not in flags
    # A 2 x 2 table at 90/10 against 10/90: phi = 0.8, the correction takes off little.
    assert gender["cramers_v"] == pytest.approx(0.8, abs=0.01)
    assert gender["strength"] == "strong"
    warning = audit_warning(audit, ["Big spenders", "Mostly women"])
    assert warning is not None
    text = warning["message"]
    assert text.startswith(
        "segments differ strongly by a protected characteristic: Sex (sex/gender; Cramér's V"
        " 0.80 over all segments): segment 0 (Big spenders): Sex = Female is 10% of the"
        " segment against 50% of all customers (0.20×); segment 1 (Mostly women): Sex = Male"
        " is 10% of the segment against 50% of all customers (0.20×). Segments can proxy"
    )
    assert "credit or pricing decisions" in text
    assert "np." not in text


def test_balanced_segments_flag_nothing() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    labels = rng.integers(0, 5, n)
    frame = pd.DataFrame(
        {
            "gender": rng.choice(["Female", "Male"], n),
            "Age": rng.integers(18, 80, n),
            "Marital_Status": rng.choice(["Married", "Single", "Divorced", "Unknown"], n),
        }
    )
    characteristics = {"gender": "sex/gender", "Age": "age", "Marital_Status": "marital status"}
    audit = audit_segments(frame, labels, characteristics).to_dict()
    assert audit["flags"] == []
    assert audit_warning(audit, ["a"] * 5) is None
    for entry in audit["characteristics"]:
        assert entry["cramers_v"] < 0.05, entry["column"]
        assert entry["strength"] == "negligible"


def test_age_is_read_in_bands_with_mean_and_median() -> None:
    # Segment 0 young (20-29), segment 1 older (62-75).
    ages = np.concatenate([np.arange(20, 30).repeat(30), np.arange(62, 76).repeat(30)])
    labels = np.concatenate([np.zeros(300, int), np.ones(420, int)])
    audit = audit_segments(pd.DataFrame({"Customer_Age": ages}), labels, {"Customer_Age": "age"})
    (age,) = audit.to_dict()["characteristics"]
    assert age["kind"] == "age bands"
    # Nobody is 30-59: those bands would be columns of zeros.
    assert age["levels"] == ["under 30", "60 and over"]
    assert age["segments"][0]["shares"] == pytest.approx([1.0, 0.0])
    assert age["ages"]["segments"][0]["median"] == pytest.approx(24.5)
    assert age["ages"]["segments"][1]["mean"] == pytest.approx(68.5)
    # Segment 1 is all 60 and over against 58% overall: a ratio of 1.7, not flagged.
    flagged = {(f.segment_id, f.level) for f in audit.flags}
    assert flagged == {(0, "under 30"), (0, "60 and over"), (1, "under 30")}


def test_years_of_birth_become_ages_at_the_reference_year() -> None:
    years = np.arange(1940, 2000).repeat(5)
    labels = (years >= 1970).astype(int)
    frame = pd.DataFrame({"Year_Birth": years})
    audit = audit_segments(frame, labels, {"Year_Birth": "age"}, reference_year=2024).to_dict()
    (age,) = audit["characteristics"]
    assert age["note"] == "ages in 2024, from the year of birth"
    assert age["ages"]["population"]["mean"] == pytest.approx(2024 - 1969.5)
    # Born 1970-99: aged 25-54; born 1940-69: aged 55-84.
    assert age["segments"][1]["shares"] == pytest.approx([5 / 30, 15 / 30, 10 / 30, 0.0])
    assert age["segments"][0]["shares"] == pytest.approx([0.0, 0.0, 5 / 30, 25 / 30])


def test_ages_written_as_text_are_read_as_numbers() -> None:
    ages = [f" {a} " for a in range(20, 80)] + [None] * 6  # 20-79 as text, 6 gaps
    labels = np.array([0] * 30 + [1] * 36)  # 20-49 | 50-79 and the gaps
    audit = audit_segments(pd.DataFrame({"age": ages}), labels, {"age": "age"})
    (age,) = audit.to_dict()["characteristics"]
    assert age["levels"] == ["under 30", "30-44", "45-59", "60 and over", "missing"]
    assert age["segments"][1]["shares"] == pytest.approx([0, 0, 10 / 36, 20 / 36, 6 / 36])
    assert age["ages"]["segments"][0]["mean"] == pytest.approx(34.5)


def test_small_cells_do_not_flag_noise() -> None:
    # A 30-customer segment with no man: the ratio is 0 but 30 x 7% = 2.1 expected men.
    frame = pd.DataFrame({"Gender": ["F"] * 30 + ["M"] * 50 + ["F"] * 900 + ["M"] * 20})
    labels = np.array([1] * 30 + [0] * 970)
    audit = audit_segments(frame, labels, {"Gender": "sex/gender"})
    assert MIN_COUNT > 30 * 0.07
    assert all(f.segment_id != 1 for f in audit.flags)
    # A 9-customer segment of 9 men (7% overall): 9 is below the minimum count.
    frame = pd.DataFrame({"Gender": ["M"] * 9 + ["F"] * 920 + ["M"] * 61})
    audit = audit_segments(frame, np.array([1] * 9 + [0] * 981), {"Gender": "sex/gender"})
    assert all(f.segment_id != 1 for f in audit.flags)


def test_a_small_segment_far_from_the_population_is_flagged() -> None:
    # 22 customers, 16 of them under 30, where 18% of all customers are: 3.6 times the
    # share on a cell of 16 customers (4 expected), far beyond chance.
    def years(low: int, high: int, n: int) -> list[int]:
        return [low + i % (high - low) for i in range(n)]

    ages = years(20, 30, 16) + years(30, 45, 6) + years(20, 30, 20)
    ages += years(30, 45, 134) + years(45, 60, 24)
    labels = np.array([1] * 22 + [0] * 178)
    audit = audit_segments(pd.DataFrame({"Age": ages}), labels, {"Age": "age"}, k=2)
    flags = [f for f in audit.flags if f.segment_id == 1 and f.level == "under 30"]
    assert len(flags) == 1
    assert flags[0].ratio == pytest.approx((16 / 22) / (36 / 200))


def test_flags_with_missing_values_and_many_levels() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    countries = rng.choice([f"country {i}" for i in range(20)], n)
    frame = pd.DataFrame({"nationality": countries, "SeniorCitizen": rng.integers(0, 2, n)})
    frame.loc[:9, "nationality"] = None
    labels = rng.integers(0, 3, n)
    audit = audit_segments(
        frame, labels, {"nationality": "nationality", "SeniorCitizen": "age"}
    ).to_dict()
    nationality, senior = audit["characteristics"]
    assert len(nationality["levels"]) == 9  # 7 countries, "other (13 levels)", missing
    assert nationality["levels"][-2:] == ["other (13 levels)", "missing"]
    assert senior["levels"] == ["0", "1"] or senior["levels"] == ["1", "0"]
    assert senior["kind"] == "levels"


def test_no_protected_characteristic_gives_an_empty_audit() -> None:
    frame = pd.DataFrame({"spend": [1.0, 2.0, 3.0]})
    audit = audit_segments(frame, np.array([0, 1, 1]), {})
    assert not audit.found
    summary = audit_summary(audit.to_dict())
    assert summary == {"found": False, "characteristics": [], "flags": 0}


def test_the_audit_says_which_columns_were_clustered() -> None:
    frame, labels = _skewed_gender()
    audit = audit_segments(frame, labels, {"Sex": "sex/gender"}, clustered=["Sex", "spend"])
    assert audit.to_dict()["characteristics"][0]["clustered"] is True
    summary = audit_summary(audit.to_dict())
    assert summary is not None
    assert summary["characteristics"][0]["flagged_segments"] == [0, 1]


def test_cramers_v_known_values() -> None:
    assert cramers_v(np.array([[50, 0], [0, 50]])) == pytest.approx(1.0, abs=0.02)
    assert cramers_v(np.array([[25, 25], [25, 25]])) == 0.0
    assert cramers_v(np.array([[10, 20]])) is None
    assert cramers_v(np.array([[10, 0], [20, 0]])) is None


def test_bad_inputs_are_one_line_errors() -> None:
    frame = pd.DataFrame({"Gender": ["F", "M"]})
    with pytest.raises(SchemaError, match=r"\['Sex'\] are not in the table"):
        audit_segments(frame, np.array([0, 1]), {"Sex": "sex/gender"})
    with pytest.raises(DataError, match=r"labels has shape \(3,\) but the table has 2 rows"):
        audit_segments(frame, np.array([0, 1, 1]), {"Gender": "sex/gender"})
    with pytest.raises(DataError, match="k=1 is below"):
        audit_segments(frame, np.array([0, 1]), {"Gender": "sex/gender"}, k=1)
    with pytest.raises(ConfigError, match="k=0 should be an integer >= 1"):
        audit_segments(frame, np.array([0, 1]), {"Gender": "sex/gender"}, k=0)
