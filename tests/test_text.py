"""Words for people: plurals, plain values, readable column names, shortened labels."""

from __future__ import annotations

import numpy as np
import pytest

from custseg._utils.text import (
    columns_matching,
    count,
    plain,
    readable_name,
    shorten,
    shorten_middle,
    shorten_words,
)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("NumStorePurchases", "num store purchases"),
        ("MntWines", "mnt wines"),
        ("AcceptedCmp1", "accepted cmp 1"),
        ("CASH_ADVANCE", "cash advance"),
        ("days_since_last_purchase", "days since last purchase"),
        ("avgCLV_usd", "avg CLV usd"),
        ("Year-Birth", "year birth"),
        ("  spaced  name ", "spaced name"),
    ],
)
def test_column_names_read_as_words(name, words):
    assert readable_name(name) == words


def test_counts_take_the_plural_they_need():
    assert count(0, "row") == "0 rows"
    assert count(1, "row") == "1 row"
    assert count(8950, "row") == "8,950 rows"
    assert count(np.int64(1), "category", "categories") == "1 category"
    assert count(3, "category", "categories") == "3 categories"


def test_numpy_scalars_print_as_plain_values():
    assert repr(plain(np.float64(3.0))) == "3.0"
    assert repr(plain((np.int64(2), np.int64(10)))) == "(2, 10)"
    assert repr(plain([np.bool_(True), "x"])) == "[True, 'x']"
    assert plain("text") == "text"


def test_shortening_cuts_at_word_boundaries():
    text = "model score probability of churn within the next ninety days"
    assert shorten(text, 100) == text
    assert shorten(text, 24) == "model score probability…"
    assert len(shorten(text, 24)) <= 24
    assert shorten("abcdefghijklmnop", 6) == "abcde…"
    # Keeping the last word keeps apart labels that differ only at the end.
    first = shorten_words("quarterly behavioural indicator computed version 003", 24)
    second = shorten_words("quarterly behavioural indicator computed version 004", 24)
    assert (first, second) == ("quarterly… 003", "quarterly… 004")
    assert shorten_words("quarterly behavioural indicator version 003", 30) == (
        "quarterly behavioural… 003"
    )
    assert shorten_middle("a" * 20 + "_v1", 10) == "aaaaa…a_v1"
    assert shorten_middle("short", 10) == "short"


def test_column_patterns_ignore_case_and_separators():
    columns = ["NumWebPurchases", "num_store_purchases", "Recency", "MntWines"]
    assert columns_matching(["Num*Purchases"], columns) == columns[:2]
    assert columns_matching(["recency", "mnt*"], columns) == ["Recency", "MntWines"]
    assert columns_matching(["web"], columns) == []
