"""Level profiles of categorical columns, and the traits and names built on them.

Known answers on the synthetic telecom table (customers without internet service,
new fibre customers on month-to-month contracts), the mall table (a column named
"Spending Score (1-100)"), CC_GENERAL and long column names.
"""

from __future__ import annotations

import math
import re
import string

import numpy as np
import pandas as pd
import pytest

from _credit_cards import cc_frame, cc_labels, with_derived
from _realistic import NEW_FIBRE, NO_INTERNET, mall_table, telco_table
from _tables import long_names_table
from custseg import fit_segments, score_customers
from custseg.exceptions import DataError, SchemaError
from custseg.explain import (
    LevelProfiles,
    load_playbook,
    name_segments,
    profile_levels,
    profile_segments,
)
from custseg.explain.levels import MISSING_LEVEL, OTHER_LEVEL, level_phrase, level_roles
from custseg.explain.playbook import MAX_NAME_LENGTH


def _small() -> tuple[pd.DataFrame, np.ndarray]:
    labels = np.repeat([0, 1], 50)
    contract = np.where(np.arange(100) < 45, "Month-to-month", "Two year")
    frame = pd.DataFrame({"Contract": contract, "Paperless": ["Yes", "No"] * 50})
    return frame, labels


def test_shares_lift_and_the_level_that_sets_a_segment_apart():
    frame, labels = _small()
    levels = profile_levels(frame, labels, columns=["Contract", "Paperless"])
    rows = levels.table.set_index(["segment_id", "feature", "level"])
    assert rows.loc[(0, "Contract", "Month-to-month"), "share"] == pytest.approx(0.9)
    assert rows.loc[(0, "Contract", "Month-to-month"), "population_share"] == pytest.approx(0.45)
    assert rows.loc[(0, "Contract", "Month-to-month"), "lift"] == pytest.approx(2.0)
    decisive = levels.decisive(0)
    assert list(zip(decisive["feature"], decisive["level"], strict=True)) == [
        ("Contract", "Month-to-month")
    ]
    # 100% "Two year" in segment 1 is only 1.8x its 55%: decisive too; 50/50 is not.
    assert list(levels.decisive(1)["level"]) == ["Two year"]
    sums = levels.table.groupby(["segment_id", "feature"])["share"].sum()
    assert np.allclose(sums, 1.0)


def test_a_level_competes_with_numeric_columns_on_one_scale():
    # A level's effect size is the one profiles give its 0/1 indicator as a column.
    frame, labels = _small()
    levels = profile_levels(frame, labels, columns=["Contract"])
    indicator = pd.DataFrame({"flag": (frame["Contract"] == "Month-to-month").astype(float)})
    numeric = profile_segments(indicator, labels)
    for sid in (0, 1):
        row = levels.table[
            (levels.table["segment_id"] == sid) & (levels.table["level"] == "Month-to-month")
        ].iloc[0]
        assert row["effect_size"] == pytest.approx(numeric.value(sid, "flag", "effect_size"))


def test_rare_levels_are_grouped_and_gaps_are_a_level():
    rng = np.random.default_rng(0)
    values = rng.choice([f"L{i}" for i in range(15)], 600).astype(object)
    values[:30] = None
    labels = rng.integers(0, 3, 600)
    levels = profile_levels(pd.DataFrame({"c": values}), labels, columns={"c": "descriptor"})
    first = levels.segment(0)
    assert len(first) == 8 + 2 and list(first["level"][-2:]) == [OTHER_LEVEL, MISSING_LEVEL]
    assert set(first["role"]) == {"descriptor"}
    assert not levels.table.loc[
        levels.table["level"].isin([OTHER_LEVEL, MISSING_LEVEL]), "decisive"
    ].any()
    sums = levels.table.groupby(["segment_id", "feature"])["share"].sum()
    assert np.allclose(sums, 1.0)
    again = LevelProfiles.from_dict(levels.to_dict())
    pd.testing.assert_frame_equal(again.table, levels.table)


def test_bad_inputs_are_named():
    frame, labels = _small()
    with pytest.raises(SchemaError, match="'Missing'"):
        profile_levels(frame, labels, columns=["Missing"])
    with pytest.raises(SchemaError, match="'ordinal'"):
        profile_levels(frame, labels, columns={"Contract": "ordinal"})
    with pytest.raises(DataError, match="top_levels=0"):
        profile_levels(frame, labels, columns=["Contract"], top_levels=0)
    with pytest.raises(DataError, match="LevelProfiles.to_dict"):
        LevelProfiles.from_dict({"columns": {}})


@pytest.mark.parametrize(
    ("label", "level", "trait", "in_name"),
    [
        ("paperless billing", "Yes", "paperless billing", "paperless billing"),
        ("online security", "No", "no online security", "no online security"),
        ("contract", "Month-to-month", "Contract: Month-to-month", "Month-to-month contract"),
        ("internet service", "Fiber optic", "Fiber optic", "Fiber optic"),
        ("online backup", "No internet service", "No internet service", "No internet service"),
        ("contract", "One year", "Contract: One year", "One year contract"),
    ],
)
def test_levels_read_in_the_tables_own_words(label, level, trait, in_name):
    assert level_phrase(label, level) == trait
    assert level_phrase(label, level, in_name=True) == in_name


def test_descriptors_with_many_values_are_profiled_as_numbers_not_levels():
    frame = pd.DataFrame(
        {
            "Gender": ["F", "M"] * 20,
            "Age": np.arange(40),
            "Senior": [0, 1] * 20,
            "Churn": ["Yes", "No"] * 20,
            "Score": np.linspace(0, 1, 40),
        }
    )
    roles = [
        ("Gender", "descriptor"),
        ("Age", "descriptor"),
        ("Senior", "descriptor"),
        ("Churn", "outcome"),
        ("Score", "outcome"),
    ]
    assert level_roles(roles, frame) == {
        "Gender": "descriptor",
        "Senior": "descriptor",
        "Churn": "outcome",
    }


# ---------------------------------------------------------------- known answers


@pytest.fixture(scope="module")
def telco_model():
    frame, group = telco_table()
    return fit_segments(frame, k=4, k_range=(4, 4), random_state=0), group


def _majority(labels: np.ndarray, group: np.ndarray, planted: int) -> int:
    return int(np.bincount(labels[group == planted]).argmax())


def test_telco_segments_speak_of_no_internet_service_and_month_to_month(telco_model):
    model, group = telco_model
    frame, _ = telco_table()
    scored = score_customers(model, frame).scored
    planted = dict(zip(frame["customerID"], group, strict=True))
    group = np.array([planted[c] for c in scored["customerID"]])
    labels = scored["segment_id"].to_numpy()
    no_net = model.segments[_majority(labels, group, NO_INTERNET)]
    fibre = model.segments[_majority(labels, group, NEW_FIBRE)]
    assert no_net.id != fibre.id
    said = " ".join([no_net.name, *no_net.traits]).casefold()
    assert "no internet service" in said, (no_net.name, no_net.traits)
    said = " ".join([fibre.name, *fibre.traits]).casefold()
    assert "month-to-month" in said, (fibre.name, fibre.traits)
    # The six add-on columns share the level: it is said once, not six times.
    assert sum("no internet service" in t.casefold() for t in no_net.traits) == 1
    levels = model.profiles["levels"]
    assert {"Contract", "InternetService", "Churn"} <= set(levels["columns"])
    assert levels["columns"]["Churn"]["role"] == "outcome"
    # An outcome is reported by level, never a trait.
    assert not any("churn" in t.casefold() for s in model.segments for t in s.traits)


def test_mall_names_keep_the_parentheses_and_hyphen_of_column_names():
    frame, _ = mall_table()
    model = fit_segments(frame, k=5, k_range=(5, 5), random_state=0)
    said = [s.name for s in model.segments] + [t for s in model.segments for t in s.traits]
    assert any("spending score (1-100)" in text.casefold() for text in said), said
    assert not any("(1 100)" in text for text in said)


def _lift_fields(template: str) -> list[str]:
    return [
        f.rsplit(".", 1)[0]
        for _, f, _, _ in string.Formatter().parse(template)
        if f and f.endswith(".lift")
    ]


def _check_description_agrees_with_traits(namings, profiles, playbook) -> int:
    """Every lift a description quotes reads as the trait of the same column does."""
    entries = {e.key: e for e in playbook.entries}
    compared = 0
    for n in namings:
        if n.playbook_key is None:
            continue
        for feature in _lift_fields(entries[n.playbook_key].description):
            if feature.startswith("@"):
                continue  # groups: see the telco test below
            label = playbook.label(feature)
            pattern = re.escape(label) + r" (\d+(?:\.\d+)?)× average(?: \(\d+% below\))?"
            found = [m for t in n.traits if (m := re.fullmatch(pattern, t))]
            if not found:
                continue
            figure = found[0].group(1)
            assert f"{figure}× the average" in n.description or f"{figure}×," in (n.description), (
                n.description,
                n.traits,
            )
            compared += 1
    return compared


def test_cc_general_descriptions_and_traits_quote_the_same_figures():
    frame = with_derived(cc_frame())
    playbook = load_playbook("credit_card")
    compared = 0
    for k in (4, 6, 8):
        profiles = profile_segments(frame, cc_labels(k))
        namings = name_segments(profiles, playbook=playbook)
        compared += _check_description_agrees_with_traits(namings, profiles, playbook)
        for n in namings:
            assert "np." not in n.description and not any("np." in t for t in n.traits)
    assert compared >= 1


def test_a_description_quoting_a_group_quotes_the_figure_of_a_key_trait(telco_model):
    model, _ = telco_model
    quoted = 0
    for seg in model.segments:
        figures = re.findall(r"(\d+(?:\.\d+)?)× the average", seg.description)
        traits = {m for t in seg.traits for m in re.findall(r"(\d+(?:\.\d+)?)× average", t)}
        for figure in figures:
            assert figure in traits, (seg.description, seg.traits)
            quoted += 1
    assert quoted >= 1


def _vocabulary(columns, levels=()) -> set[str]:
    from custseg._utils.text import readable_name

    words = {"high", "low", "no", "average", "profile", "segment"}
    for text in [*map(readable_name, columns), *levels]:
        words |= {w.casefold() for w in str(text).split()}
    return words


def _check_whole_words(name: str, vocabulary: set[str]) -> None:
    assert "…" not in name, name
    assert len(name) <= MAX_NAME_LENGTH, name
    for token in re.split(r"[\s,]+", name):
        token = token.strip("()").casefold()
        if not token or token.endswith(".") or token.isdigit():
            continue  # an abbreviation says so with its full stop
        if token.upper() == token.casefold().upper() and token in vocabulary:
            continue
        assert token in vocabulary or re.fullmatch(r"[a-z]+", token) and len(token) <= 12, (
            name,
            token,
        )


def test_no_name_breaks_a_word(telco_model):
    model, _ = telco_model
    frame, _ = telco_table()
    levels = [lv for c in model.profiles["levels"]["columns"].values() for lv in c["levels"]]
    vocabulary = _vocabulary(frame.columns, levels) | {"(1-100)", "(k$)"}
    for seg in model.segments:
        _check_whole_words(seg.name, vocabulary)
    long_frame, group = long_names_table()
    for n in name_segments(profile_segments(long_frame.iloc[:, 1:], group)):
        assert "…" not in n.name and len(n.name) <= MAX_NAME_LENGTH
        # Whole words (the leading ones of the long label) and the number telling them apart.
        assert re.fullmatch(r"(High|Low|high|low|quarterly|\d{3}|, | )+", n.name), n.name
    # First and last stay apart when their labels are too long for a name.
    ratings = pd.DataFrame(
        {
            "rating_in_the_first_survey_answered": np.r_[np.full(30, 9.0), np.full(30, 2.0)]
            + np.arange(60) / 60,
            "rating_in_the_last_survey_answered": np.r_[np.full(30, 1.0), np.full(30, 8.0)]
            + np.arange(60) / 60,
        }
    )
    namings = name_segments(profile_segments(ratings, np.repeat([0, 1], 30)))
    for n in namings:
        assert "…" not in n.name and "…" not in " ".join(n.traits), (n.name, n.traits)
        assert re.search(r"\blast\b", n.name), n.name
        assert any(re.search(r"\bfirst\b", t) for t in n.traits), n.traits
    assert namings[0].name != namings[1].name


def test_no_numpy_repr_in_words(telco_model):
    model, _ = telco_model
    for seg in model.segments:
        for text in [seg.name, seg.description, *seg.traits]:
            assert "np." not in text and not math.isnan(len(text))


def test_a_descriptor_names_a_segment_only_when_no_behaviour_trait_sets_it_apart():
    frame, group = mall_table()
    columns = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    profiles = profile_segments(frame[columns], group)
    plain = name_segments(profiles)
    described = name_segments(profiles, descriptors=["Age"])
    # Age sets the young high spenders apart most: without the role it names them.
    assert any("age" in n.name.casefold() for n in plain)
    for n in described:
        assert "age" not in n.name.casefold().replace("average", ""), n.name
    # ...and it stays a key trait: who the customers are is worth reading.
    assert any(t.startswith("age ") for n in described for t in n.traits)
    only_age = profile_segments(frame[["Age"]], group)
    assert any("age" in n.name.casefold() for n in name_segments(only_age, descriptors=["Age"]))


def test_a_table_without_categorical_columns_has_empty_level_profiles():
    frame, labels = _small()
    empty = profile_levels(frame, labels, columns=[])
    again = LevelProfiles.from_dict(empty.to_dict())
    assert again.table.empty and list(again.table.columns) == list(empty.table.columns)
    assert again.segment_ids == [0, 1] and again.decisive(0).empty
    numeric = profile_segments(pd.DataFrame({"x": np.arange(100.0)}), labels)
    assert len(name_segments(numeric, levels=empty.to_dict())) == 2
