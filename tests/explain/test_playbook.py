"""The playbook format: the shipped credit-card playbook, loading files and validation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import custseg
from _credit_cards import cc_frame, with_derived
from custseg._utils.patterns import columns_matching
from custseg.exceptions import ConfigError
from custseg.explain import choose_playbook
from custseg.explain.playbook import Playbook, load_playbook, parse_playbook

VOCABULARY = {
    "transactors",
    "revolvers",
    "cash_advance_reliant",
    "instalment_shoppers",
    "premium_high_spenders",
    "dormant",
    "new_accounts",
    "limit_stretched",
    "one_off_shoppers",
}


def cc_derived() -> pd.DataFrame:
    """CC_GENERAL plus the credit-card features documented in the guide."""
    return with_derived(cc_frame())


def test_shipped_playbook_covers_the_trade_vocabulary():
    playbook = load_playbook()
    assert isinstance(playbook, Playbook)
    assert {e.key for e in playbook.entries} == VOCABULARY
    names = [e.name for e in playbook.entries]
    assert len(set(names)) == len(names)
    known = set(cc_derived().columns)
    for entry in playbook.entries:
        assert 2 <= len(entry.strategies) <= 3, entry.key
        assert entry.traits and all(t.feature in known for t in entry.traits), entry.key
        assert "{" not in entry.name
    assert len(playbook.fallback_strategies) >= 2
    # The package data is the file in the source tree.
    text = (Path(custseg.__file__).parent / "playbooks" / "credit_card.toml").read_text()
    assert parse_playbook(text).entries == playbook.entries


BASE_ENTRY = """
[segments.x]
name = "X"
description = "Some text {share:.0%}."
strategies = ["Do a thing.", "Do another."]
traits = [{ feature = "A", stat = "lift", op = ">=", value = 1.5 }]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[segments.x]\nname = \n", r"not valid TOML: Invalid value \(at line 2, column 8\)"),
        (BASE_ENTRY.replace('op = ">="', 'op = "=>"'), r"segments\.x\.traits\[0\]\.op is '=>'"),
        (BASE_ENTRY.replace('stat = "lift"', 'stat = "mode"'), r"segments\.x\.traits\[0\]\.stat"),
        (BASE_ENTRY.replace("value = 1.5", 'value = "high"'), r"traits\[0\]\.value is 'high'"),
        (
            BASE_ENTRY.replace('strategies = ["Do a thing.", "Do another."]\n', ""),
            r"segments\.x has no `strategies`",
        ),
        (BASE_ENTRY.replace('["Do a thing.", "Do another."]', "[]"), r"segments\.x\.strategies"),
        (BASE_ENTRY.replace("strategies =", "stratgies ="), r"unknown field 'stratgies'"),
        (BASE_ENTRY.replace("{share:.0%}", "{share.mode}"), r"description has field \{share\.mode"),
        (BASE_ENTRY.replace("{share:.0%}", "{share:.0Q}"), r"description has format '\.0Q'"),
        (BASE_ENTRY + "priority = 500\n", r"segments\.x\.priority is 500"),
        (BASE_ENTRY + BASE_ENTRY.replace("segments.x", "segments.y"), r"'X' is also the name"),
        ("[playbook]\nname = 'empty'\n", r"\[segments\] is missing or empty"),
        ("[sections.x]\n", r"unknown field 'sections'"),
    ],
)
def test_invalid_playbooks_raise_one_line_config_errors(text, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_playbook(text, source="mine.toml")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("playbook mine.toml")


def test_playbook_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_playbook(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[segments.x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml is not valid TOML: .*line 1"):
        load_playbook(bad)
    assert parse_playbook(BASE_ENTRY).entries[0].traits[0].required is True


def test_a_shipped_name_wins_over_a_folder_or_file_of_that_name(tmp_path, monkeypatch):
    # A working folder holding folders named `retail` and `credit_card`, and a file
    # named `neutral`, made every fit fail: the names were read as paths.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "retail").mkdir()
    (tmp_path / "credit_card").mkdir()
    (tmp_path / "neutral").write_text("not a playbook", encoding="utf-8")
    for key in ("retail", "credit_card", "neutral"):
        assert load_playbook(key).key == key
        assert load_playbook(key).source == f"{key}.toml"
    chosen = choose_playbook(["CUST_ID", "BALANCE", "PURCHASES", "CASH_ADVANCE", "CREDIT_LIMIT"])
    assert chosen.playbook.key == "credit_card"
    # A value with a separator or a .toml suffix is a path, whatever its name.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "retail").write_text(BASE_ENTRY, encoding="utf-8")
    assert load_playbook("mine/retail").source == "mine/retail"
    folder = r"^playbook file \./retail is a folder; pass a TOML playbook file"
    with pytest.raises(ConfigError, match=folder):
        load_playbook("./retail")
    with pytest.raises(ConfigError, match=r"playbook file retail\.toml does not exist"):
        load_playbook("retail.toml")


def test_groups_of_the_neutral_playbook_read_long_descriptive_names_by_their_words():
    # Names as a data dictionary writes them: "account" holds "count", the charges
    # sentence says "customer" and, eight words later, "for" (a tenure pattern), and a
    # "number of months" is a duration, not activity. Each landed in the wrong group,
    # and the report quoted the charges' figure as tenure and as activity.
    charges = (
        "Monthly charges billed to the customer account including all service add-ons and"
        " taxes for the current period"
    )
    tenure = "Number of months the customer has stayed with the company"
    columns = [charges, tenure, "Account length", "Total_Trans_Ct", "visit_count"]
    groups = {
        name: columns_matching(patterns, columns)
        for name, patterns in load_playbook("neutral").groups.items()
    }
    assert groups["tenure"] == [tenure]
    assert groups["activity"] == ["Total_Trans_Ct", "visit_count"]
    assert groups["spend"] == [charges]
