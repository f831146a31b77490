"""Names and strategies: the shipped playbook on CC_GENERAL, optimal unique assignment,
and descriptive names for other tables."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from _credit_cards import cc_frame, cc_labels, with_derived
from custseg.exceptions import ConfigError, CustsegError
from custseg.explain.naming import name_segments
from custseg.explain.playbook import load_playbook, parse_playbook
from custseg.explain.profiles import profile_segments


def cc_derived() -> pd.DataFrame:
    """CC_GENERAL plus the credit-card features documented in the guide."""
    return with_derived(cc_frame())


@pytest.mark.parametrize("k", range(3, 9))
def test_cc_general_names_are_unique_and_meaningful(k):
    frame = cc_derived()
    labels = cc_labels(k)
    profiles = profile_segments(frame, labels)
    namings = name_segments(profiles)
    assert [n.segment_id for n in namings] == list(range(k))
    names = [n.name for n in namings]
    assert len({n.casefold() for n in names}) == k, names
    by_key = {n.playbook_key: n for n in namings if n.playbook_key}
    # Every k of this data has a cash-advance segment; it is named, and earns the name.
    assert "cash_advance_reliant" in by_key
    for n in namings:
        assert n.description and "{" not in n.description and "n/a" not in n.description
        assert 2 <= len(n.strategies) <= 3
        assert n.traits and all(isinstance(t, str) for t in n.traits)
        if n.playbook_key == "cash_advance_reliant":
            assert profiles.value(n.segment_id, "CASH_ADVANCE", "lift") > 2
            assert n.name == "Cash-advance reliant"
        if n.playbook_key == "transactors":
            row = profiles.segment(n.segment_id).loc["PRC_FULL_PAYMENT"]
            assert row["mean"] > row["population_mean"]
            assert row["effect_size"] >= 0.3
        if n.playbook_key == "premium_high_spenders":
            assert profiles.value(n.segment_id, "PURCHASES", "lift") >= 2.5
        if n.playbook_key == "dormant":
            assert profiles.value(n.segment_id, "PURCHASES", "lift") <= 0.6
        if n.playbook_key == "new_accounts":
            assert profiles.value(n.segment_id, "TENURE", "mean") <= 10
        if n.playbook_key is None:
            # Fallback strategies are written for the segment's own strongest traits.
            assert all("{" not in s for s in n.strategies)
            assert any(t.split(" ")[0] in " ".join(n.strategies) for t in n.traits)
            assert n.score is None
    if k >= 4:
        assert "transactors" in by_key


def test_short_tenure_segment_is_named_new_accounts():
    frame = cc_derived()
    labels = cc_labels(5).copy()
    # Customers with less than 9 months of history, as their own segment.
    labels[(frame["TENURE"] < 9).to_numpy()] = 5
    profiles = profile_segments(frame, labels)
    namings = name_segments(profiles)
    new = [n for n in namings if n.playbook_key == "new_accounts"]
    assert [n.segment_id for n in new] == [5]
    tenure = profiles.value(5, "TENURE", "mean")
    assert f"{tenure:.1f} months of tenure" in new[0].description
    assert any(t.startswith("tenure ") for t in new[0].traits)


def test_descriptions_and_traits_quote_the_profile():
    frame = cc_derived()
    labels = cc_labels(5)
    profiles = profile_segments(frame, labels)
    namings = {n.playbook_key: n for n in name_segments(profiles)}
    cash = namings["cash_advance_reliant"]
    lift = profiles.value(cash.segment_id, "CASH_ADVANCE", "lift")
    share = float(profiles.sizes.loc[cash.segment_id, "share"])
    assert f"cash advances {lift:.1f}× the average" in cash.description
    assert f"{share:.0%} of customers" in cash.description
    # Traits use the playbook's labels and say how far from average the segment is.
    assert any(re.fullmatch(r"cash advance frequency \d+\.\d× average", t) for t in cash.traits)
    assert all("_" not in t for t in cash.traits)


def test_raw_columns_only_still_name_and_skip_entries_needing_derived_features():
    frame = cc_frame()
    for k in (5, 8):
        namings = name_segments(profile_segments(frame, cc_labels(k)))
        keys = [n.playbook_key for n in namings]
        assert "limit_stretched" not in keys  # reads CREDIT_UTILISATION, absent here
        assert "cash_advance_reliant" in keys
        assert len({n.name for n in namings}) == k


def test_profiles_dict_gives_the_same_names():
    profiles = profile_segments(cc_derived(), cc_labels(6))
    direct = name_segments(profiles)
    via_json = name_segments(json.loads(json.dumps(profiles.to_dict(), allow_nan=False)))
    assert [n.to_dict() for n in via_json] == [n.to_dict() for n in direct]


def _shop_table(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A non-credit-card table: store visits, basket value, returns, days since last visit."""
    rng = np.random.default_rng(seed)
    n = 900
    labels = np.repeat([0, 1, 2], n // 3)
    centre = np.array([[20.0, 80.0, 1.0, 5.0], [2.0, 30.0, 0.5, 90.0], [8.0, 400.0, 6.0, 20.0]])
    values = centre[labels] * rng.uniform(0.8, 1.2, (n, 4))
    frame = pd.DataFrame(values, columns=["visits", "basket_eur", "returns", "days_since_last"])
    frame.insert(0, "shopper", [f"S{i}" for i in range(n)])
    return frame, labels


def test_other_tables_get_neutral_names_and_strategies_of_their_own():
    frame, labels = _shop_table()
    namings = name_segments(profile_segments(frame, labels))
    names = [n.name for n in namings]
    assert len(set(names)) == 3
    # No domain playbook fits visits, basket, returns and days since the last visit:
    # the neutral playbook names what its generic traits recognise (visits are
    # activity, days since the last visit recency), the rest after their own columns.
    assert names[0] == "Very active"
    assert names[1] == "Lapsing"
    assert "high basket eur" in names[2].casefold()
    assert namings[2].playbook_key is None
    assert namings[2].description.startswith("Customers distinguished by ")
    # Its first strategy names its strongest trait, the first one of its name.
    strongest = namings[2].name.split(", ")[0].removeprefix("High ")
    assert f"their high {strongest}" in namings[2].strategies[0]
    strategy_sets = [tuple(n.strategies) for n in namings]
    assert len(set(strategy_sets)) == 3
    for n in namings:
        assert n.traits
        assert not re.search(r"card|bank", " ".join([n.name, n.description, *n.strategies]))


def test_equal_descriptive_names_are_disambiguated():
    rng = np.random.default_rng(1)
    n = 300
    labels = np.repeat([0, 1, 2], n)
    # Segments 0 and 1 share their two strongest traits (high a, high b) and differ on c.
    centre = np.array([[10.0, 10.0, 1.3], [10.0, 10.0, 1.7], [0.0, 0.0, 1.5]])
    frame = pd.DataFrame(
        centre[labels] + rng.normal(scale=0.5, size=(3 * n, 3)), columns=["a", "b", "c"]
    )
    namings = name_segments(profile_segments(frame, labels))
    names = [x.name for x in namings]
    assert len(set(names)) == 3
    assert names[0] != names[1]
    # Same traits in another order are the same name: both take a longer, specific name.
    first, second = (set(x.casefold().split(", ")) for x in names[:2])
    assert first == {"high a", "high b", "low c"}
    assert second == {"high a", "high b", "high c"}


PLAYBOOK_AB = """
[segments.big]
name = "Big spenders"
description = "Spend {spend.lift:.1f}× the average."
strategies = ["Upgrade them.", "Reward them."]
traits = [{ feature = "spend", stat = "lift", op = ">=", value = 1.2 }]

[segments.loyal]
name = "Loyal"
description = "Visit {visits.mean:.0f} times."
strategies = ["Thank them.", "Refer a friend."]
traits = [{ feature = "visits", stat = "effect_size", op = ">=", value = 0.2 }]
"""


def test_assignment_is_optimal_not_greedy():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], [100, 100, 800])
    # Segment 0 fits "Big spenders" best (spend 7.7x the average) and "Loyal" barely;
    # segment 1 fits only "Big spenders" (2.3x). Naming each segment by its best entry
    # would give segment 0 "Big spenders" and leave segment 1 unnamed; the optimal
    # assignment names both.
    spend = np.array([10.0, 3.0, 0.0])[labels] * rng.uniform(0.95, 1.05, len(labels))
    visits = np.array([1.5, 1.0, 1.0])[labels] + rng.normal(scale=0.3, size=len(labels))
    frame = pd.DataFrame({"spend": spend, "visits": visits})
    profiles = profile_segments(frame, labels)
    playbook = parse_playbook(PLAYBOOK_AB)
    namings = name_segments(profiles, playbook=playbook)
    assert [x.playbook_key for x in namings] == ["loyal", "big", None]
    assert namings[0].score is not None and namings[1].score is not None
    assert namings[1].description == f"Spend {profiles.value(1, 'spend', 'lift'):.1f}× the average."
    assert namings[0].description == f"Visit {profiles.value(0, 'visits', 'mean'):.0f} times."
    assert namings[2].name not in {"Big spenders", "Loyal"}


def test_unknown_features_are_allowed_and_never_match(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        PLAYBOOK_AB.replace('feature = "spend"', 'feature = "NOT_A_COLUMN"'), encoding="utf-8"
    )
    playbook = load_playbook(path)
    assert playbook.source == str(path)
    frame, labels = _shop_table()
    frame = frame.rename(columns={"basket_eur": "spend"})
    keys = [
        x.playbook_key for x in name_segments(profile_segments(frame, labels), playbook=playbook)
    ]
    assert "big" not in keys


def test_bad_arguments():
    with pytest.raises(CustsegError, match="profile_segments"):
        name_segments(["not profiles"])  # type: ignore[arg-type]
    profiles = profile_segments(cc_frame(), cc_labels(3))
    with pytest.raises(ConfigError, match="load_playbook"):
        name_segments(profiles, playbook="credit_card.toml")  # type: ignore[arg-type]


def test_identical_segments_get_numbered_names():
    rng = np.random.default_rng(4)
    half = pd.DataFrame({"a": rng.normal(5, 1, 200), "b": rng.normal(0, 1, 200)})
    other = pd.DataFrame({"a": rng.normal(0, 1, 200), "b": rng.normal(3, 1, 200)})
    # Segments 0 and 1 hold the same customers' values: nothing tells them apart.
    frame = pd.concat([half, half, other], ignore_index=True)
    labels = np.repeat([0, 1, 2], 200)
    names = [x.name for x in name_segments(profile_segments(frame, labels))]
    assert names[0].endswith("(segment 0)") and names[1].endswith("(segment 1)")
    assert names[0].removesuffix(" (segment 0)") == names[1].removesuffix(" (segment 1)")
    assert len(set(names)) == 3


def test_strategies_quote_a_long_column_in_its_own_words():
    # A trait phrase has room for 40 characters; a strategy is a sentence and keeps the
    # column's words ("numb. visi. phys. branch loca." told a manager nothing).
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 300)
    centre = np.array([[5.0, 2.0, 50.0], [1.0, 9.0, 10.0], [3.0, 4.0, 30.0]])
    points = "loyalty points collected by the customer across all partner stores"
    frame = pd.DataFrame(
        centre[labels] * rng.uniform(0.8, 1.2, (900, 3)),
        columns=["plan upgrades", "helpdesk tickets", points],
    )
    namings = name_segments(profile_segments(frame, labels))
    assert namings[1].name.startswith("High helpdesk tickets, low loyalty points")
    assert f"raises their low {points}, on a small share" in namings[1].strategies[1]
    # Tickets are a cost to lower, not a behaviour an offer should raise.
    assert not any("raises their low helpdesk" in s for n in namings for s in n.strategies)
