"""Any domain: the playbook is chosen from the columns, and names read as words.

Known answers on small synthetic tables: a retail purchase history (CamelCase or
snake_case names) gets the retail playbook and never card or bank words; a table no
domain fits gets the neutral playbook; CC_GENERAL keeps the credit-card playbook;
names are readable words of at most 60 characters, even from 130-character columns.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from _credit_cards import cc_frame
from _tables import AFFLUENT, FAMILIES, LAPSED, long_names_table, retail_table, snake_retail_table
from custseg.exceptions import ConfigError
from custseg.explain import (
    SHIPPED_PLAYBOOKS,
    choose_playbook,
    load_playbook,
    match_playbook,
    name_segments,
    parse_playbook,
    profile_segments,
)
from custseg.explain.playbook import MAX_NAME_LENGTH

CARD_WORDS = re.compile(r"\b(card|cards|bank|banking|banker|credit)\b", re.IGNORECASE)


def _texts(namings) -> str:
    return " ".join(" ".join([n.name, n.description, *n.strategies, *n.traits]) for n in namings)


def test_every_shipped_playbook_loads_with_its_wording():
    for key in SHIPPED_PLAYBOOKS:
        playbook = load_playbook(key)
        assert playbook.key == key and playbook.source == f"{key}.toml"
        assert set(playbook.wording) == {"customers", "practice", "review"}
        strategies = [s for e in playbook.entries for s in e.strategies]
        assert len(strategies) == len(set(strategies)), key  # no entry repeats another's
        assert all(len(e.name) <= MAX_NAME_LENGTH for e in playbook.entries)
    assert load_playbook("neutral").signals == ()
    for key in ("retail", "neutral"):
        assert not CARD_WORDS.search(str(load_playbook(key).to_dict())), key


def test_the_sample_gets_the_credit_card_playbook():
    choice = choose_playbook(cc_frame().columns)
    assert choice.playbook.key == "credit_card" and choice.chosen_by == "columns"
    assert choice.match.score == 1.0 and choice.match.fits
    assert "Credit cards playbook, chosen from the columns: 5 of 5 signals" in choice.summary()


@pytest.mark.parametrize("table", [retail_table, snake_retail_table])
def test_retail_purchase_histories_get_the_retail_playbook(table):
    frame, _ = table()
    choice = choose_playbook(frame.columns)
    assert choice.playbook.key == "retail"
    found = dict(choice.match.found)
    assert set(found) == {
        "recency",
        "spend by product category",
        "purchase channels",
        "deals and campaigns",
    }
    assert "4 of 4 signals" in choice.summary()
    document = choice.to_dict()
    assert document["chosen_by"] == "columns" and document["match"]["score"] == 1.0
    assert [c["key"] for c in document["candidates"]] == ["credit_card", "retail"]
    assert document["candidates"][0]["fits"] is False


@pytest.mark.parametrize("table", [retail_table, snake_retail_table])
def test_retail_segments_get_retail_names_and_no_card_wording(table):
    frame, group = table()
    profiles = profile_segments(frame.iloc[:, 1:], group)
    namings = name_segments(profiles)
    names = {n.segment_id: n.name for n in namings}
    assert names[AFFLUENT] == "Premium shoppers"
    assert names[FAMILIES] == "Deal seekers"
    assert names[LAPSED] == "Lapsed customers"
    assert not CARD_WORDS.search(_texts(namings))
    # Every segment has strategies of its own.
    assert len({tuple(n.strategies) for n in namings}) == 3
    for n in namings:
        assert "{" not in n.description and "n/a" not in n.description


def test_camel_case_columns_read_as_words_in_traits():
    frame, group = retail_table()
    namings = name_segments(profile_segments(frame.iloc[:, 1:], group))
    traits = " ".join(t for n in namings for t in n.traits)
    # Playbook labels where the playbook has them, readable splits elsewhere.
    assert "deal purchases" in traits or "days since last purchase" in traits
    assert not re.search(r"[a-z][A-Z]|Mnt|Num[A-Z]|_", traits)
    # Without a playbook label, CamelCase still splits into words.
    neutral = load_playbook("neutral")
    assert neutral.label("NumStorePurchases") == "num store purchases"
    assert neutral.label("MntWines") == "mnt wines"
    assert load_playbook("retail").label("MntWines") == "wines spend"


def test_tables_no_domain_fits_get_the_neutral_playbook():
    frame, _ = long_names_table()
    choice = choose_playbook(frame.columns)
    assert choice.playbook.key == "neutral" and not choice.match.fits
    summary = choice.summary()
    assert summary.startswith("Neutral playbook: no domain playbook fits the columns")
    assert "Credit cards 0 of 5 signals" in summary and "Retail purchases 0 of 4 signals" in summary


def test_names_from_130_character_columns_are_short_distinct_words():
    frame, group = long_names_table()
    namings = name_segments(profile_segments(frame.iloc[:, 1:], group))
    names = [n.name for n in namings]
    assert len(set(names)) == 10
    columns = list(frame.columns[1:])
    for n in namings:
        assert len(n.name) <= MAX_NAME_LENGTH, n.name
        assert not any(c in n.name for c in columns)
        assert "_" not in n.name
        for trait in n.traits:
            assert len(trait) <= 60, trait
    # The abbreviated labels keep the number where these names differ, and no word is
    # cut or dropped in the middle of a name.
    assert all(re.search(r"\b0\d\d\b", name) for name in names)
    assert not any("…" in name for name in names)


def test_a_given_playbook_wins_over_the_columns(tmp_path):
    frame, _ = retail_table()
    assert choose_playbook(frame.columns, "neutral").playbook.key == "neutral"
    card = choose_playbook(frame.columns, "credit_card")
    assert card.chosen_by == "user" and not card.match.fits
    assert "chosen by the user; the columns show 0 of 5 signals" in card.summary()
    path = tmp_path / "mine.toml"
    path.write_text(MINE, encoding="utf-8")
    mine = choose_playbook(frame.columns, path)
    assert mine.playbook.key == "mine" and mine.playbook.source == str(path)
    assert mine.summary() == f"Mine playbook ({path}), chosen by the user."
    with pytest.raises(ConfigError, match="does not exist.*credit_card, retail, neutral"):
        choose_playbook(frame.columns, tmp_path / "missing.toml")


MINE = """
[playbook]
name = "Mine"

[groups]
spend = ["Mnt*"]

[segments.big]
name = "Big baskets"
description = "Spend {@spend.lift:.1f}× the average."
strategies = ["Thank them."]
traits = [{ feature = "@spend", stat = "lift", op = ">=", value = 1.5 }]
"""


def test_a_group_trait_matches_on_the_group_mean_and_quotes_its_leading_column():
    frame, group = retail_table()
    profiles = profile_segments(frame.iloc[:, 1:], group)
    namings = name_segments(profiles, playbook=parse_playbook(MINE))
    spend = [c for c in frame.columns if c.startswith("Mnt")]
    lifts = {c: profiles.value(AFFLUENT, c, "lift") for c in spend}
    assert namings[AFFLUENT].name == "Big baskets"
    # The description quotes the spend column that sets the segment apart most: the
    # figure a key trait quotes too, not the mean over the group (a third figure).
    effects = {c: abs(profiles.value(AFFLUENT, c, "effect_size")) for c in spend}
    lead = max(spend, key=lambda c: effects[c])
    assert namings[AFFLUENT].description == f"Spend {lifts[lead]:.1f}× the average."
    assert float(np.mean(list(lifts.values()))) != pytest.approx(lifts[lead], abs=0.05)
    assert [n.playbook_key for n in namings].count("big") == 1


def test_match_counts_signals_with_their_minimum_of_columns():
    playbook = load_playbook("retail")
    only_one_spend = ["Recency", "MntWines", "web_orders", "store_visits"]
    match = match_playbook(playbook, only_one_spend)
    # One spend column is not "spend by product category" (it asks for two).
    assert "spend by product category" in match.missing
    assert match.score == 0.5 and match.fits
    assert match_playbook(playbook, ["a", "b"]).score == 0.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINE.replace('["Mnt*"]', "[]"), r"\[groups\]\.spend is empty or not a list"),
        (MINE.replace("@spend.lift", "@basket.lift"), r"reads group '@basket'.*define it"),
        (MINE.replace('stat = "lift"', 'stat = "mean"'), r"reads 'mean' of group '@spend'"),
        (MINE.replace('"Big baskets"', '"' + "B" * 61 + '"'), r"has 61 characters"),
        (MINE + "\n[match]\nminimum = 2\n", r"\[match\]\.minimum is 2"),
        (MINE + '\n[match]\nminimum = "half"\n', r"\[match\]\.minimum is 'half'.*share"),
        (MINE + '\n[match]\nsignals = [{ name = "x" }]\n', r"signals\[0\] has no `columns`"),
        (
            MINE + '\n[fallback]\nstrategies = ["Raise their {middle}."]\n',
            r"\[fallback\]\.strategies\[0\] has field \{middle\}",
        ),
        (MINE.replace('name = "Mine"', 'name = "Mine"\ncolour = "red"'), r"unknown field 'colour'"),
    ],
)
def test_invalid_groups_matches_and_names_are_one_line_errors(text, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_playbook(text, source="mine.toml")
    assert "\n" not in str(caught.value)


def test_fallback_strategies_name_each_segments_own_traits():
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1, 2], 200)
    centre = np.array([[50.0, 1.0, 5.0], [5.0, 9.0, 5.0], [5.0, 1.0, 40.0]])
    values = centre[labels] * rng.uniform(0.8, 1.2, (600, 3))
    frame = pd.DataFrame(values, columns=["HelpdeskTickets", "PlanUpgrades", "ReferralsSent"])
    namings = name_segments(profile_segments(frame, labels))
    assert choose_playbook(frame.columns).playbook.key == "neutral"
    firsts = [n.strategies[0] for n in namings]
    assert "their high helpdesk tickets" in firsts[0]
    assert "their high plan upgrades" in firsts[1]
    assert "their high referrals sent" in firsts[2]
    assert len({tuple(n.strategies) for n in namings}) == 3
