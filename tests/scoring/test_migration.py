"""Migration between two scorings: exact counts on hand-made tables and on the sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _over_time import sample, stable_model
from custseg.exceptions import DataError, SchemaError
from custseg.report.migration import MIGRATION_FILES, write_migration
from custseg.scoring import compare_scored, compare_scored_files, score_customers
from custseg.scoring.migration import TRANSITION_COLUMNS


def _scored(ids: list[str], segments: list[int], names: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "CUST_ID": ids,
            "segment_id": segments,
            "segment_name": [names[s] for s in segments],
            "distance": 1.0,
        }
    )


NAMES = {0: "Transactors", 1: "Revolvers", 2: "Dormant"}


def test_known_transitions_on_a_hand_made_table():
    old = _scored(list("ABCDEFGH"), [0, 0, 0, 0, 1, 1, 2, 2], NAMES)
    # A and B stay, C and D become revolvers, E goes dormant, F stays, G stays,
    # H is gone; X and Y are new customers.
    new = _scored(list("ABCDEFGXY"), [0, 0, 1, 1, 2, 1, 2, 0, 2], NAMES)
    migration = compare_scored(old, new)
    table = migration.transitions
    assert list(table.columns) == TRANSITION_COLUMNS
    got = {(r.from_segment, r.to_segment): r.customers for r in table.itertuples()}
    assert got == {(0, 0): 2, (0, 1): 2, (1, 1): 1, (1, 2): 1, (2, 2): 1}
    shares = {(r.from_segment, r.to_segment): r.share_of_from for r in table.itertuples()}
    assert shares[(0, 1)] == 0.5 and shares[(1, 2)] == 0.5 and shares[(2, 2)] == 1.0
    summary = migration.summary
    assert (summary["matched"], summary["stayed"], summary["moved"]) == (7, 4, 3)
    assert (summary["only_old"], summary["only_new"]) == (1, 2)
    assert migration.only_old["CUST_ID"].tolist() == ["H"]
    assert sorted(migration.only_new["CUST_ID"]) == ["X", "Y"]
    assert migration.matrix.tolist() == [[2, 2, 0], [0, 1, 1], [0, 0, 1]]
    flows = summary["largest_flows"]
    assert (flows[0]["from_segment"], flows[0]["to_segment"], flows[0]["customers"]) == (0, 1, 2)
    assert summary["explanation"].startswith(
        "Of the 7 customers in both tables, 4 (57.1%) stayed in their segment and 3 (42.9%)"
        " moved. The largest flows: 2 from Transactors (0) to Revolvers (1), 50.0% of"
        " Transactors; and 1 from Revolvers (1) to Dormant (2), 50.0% of Revolvers."
    )
    assert "1 customers are only in the old table" in summary["explanation"]
    assert summary["notes"] == []


def test_counts_add_up_exactly_on_the_sample(tmp_path):
    model = stable_model()
    rng = np.random.default_rng(0)
    before = sample()
    old = score_customers(model, before).scored
    # A quarter later: 300 customers left, 200 joined, a tenth of the rest changed habits.
    after = before.drop(index=rng.choice(len(before), 300, replace=False)).copy()
    changed = after.sample(frac=0.1, random_state=1).index
    after.loc[changed, "CASH_ADVANCE"] = after.loc[changed, "CASH_ADVANCE"] * 4 + 800
    after.loc[changed, "PURCHASES"] = after.loc[changed, "PURCHASES"] * 0.2
    joined = before.sample(n=200, random_state=2).assign(CUST_ID=[f"N{i:04d}" for i in range(200)])
    new = score_customers(model, pd.concat([after, joined], ignore_index=True)).scored
    old.to_csv(tmp_path / "old.csv", index=False)
    new.to_parquet(tmp_path / "new.parquet", index=False)

    migration = compare_scored_files(tmp_path / "old.csv", tmp_path / "new.parquet")
    summary = migration.summary
    assert summary["id_column"] == "CUST_ID"
    assert summary["matched"] == len(before) - 300 == int(migration.transitions.customers.sum())
    assert summary["matched"] == int(migration.matrix.sum())
    assert (summary["only_old"], summary["only_new"]) == (300, 200)
    assert summary["stayed"] + summary["moved"] == summary["matched"]
    assert summary["customers_old"] == len(old) and summary["customers_new"] == len(new)
    by_from = migration.transitions.groupby("from_segment")["share_of_from"].sum()
    np.testing.assert_allclose(by_from.to_numpy(), 1.0)
    # Unchanged customers keep their segment: only the changed ones (and no one else) move.
    assert 0 < summary["moved"] <= len(changed)
    assert set(migration.only_new["CUST_ID"]) == set(joined["CUST_ID"])
    for row in summary["segments_old"]:
        assert row["name"] == model.segments[row["segment_id"]].name

    written = write_migration(migration, tmp_path / "migration")
    assert sorted(written) == sorted(MIGRATION_FILES)
    transitions = pd.read_csv(written["transitions.csv"])
    assert int(transitions["customers"].sum()) == summary["matched"]
    assert written["migration.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(pd.read_csv(written["only_old.csv"])) == 300


def test_numeric_identifiers_match_across_csv_and_parquet_spellings():
    old = _scored(["1001", "1002", "1003"], [0, 1, 2], NAMES).astype({"CUST_ID": "int64"})
    new = _scored(["1001", "1002", "1004"], [0, 2, 2], NAMES).astype({"CUST_ID": "float64"})
    migration = compare_scored(old, new)
    assert migration.summary["matched"] == 2
    assert migration.only_new["CUST_ID"].tolist() == ["1004"]


def test_one_id_with_two_names_is_noted():
    old = _scored(["A", "B"], [0, 1], NAMES)
    new = _scored(["A", "B"], [0, 1], {0: "Transactors", 1: "Premium"})
    notes = compare_scored(old, new).summary["notes"]
    assert len(notes) == 1 and "'Revolvers' in the old table and 'Premium'" in notes[0]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda f: f.drop(columns="segment_id"), SchemaError, "not a scored file"),
        (lambda f: f.head(0), DataError, "no rows"),
        (lambda f: f.assign(CUST_ID=["A", "A", "C"]), DataError, "'A' appears 2 times"),
        (lambda f: f.assign(CUST_ID=["A", None, "C"]), DataError, "have no CUST_ID"),
        (lambda f: f.assign(segment_id=[0, "x", 1]), DataError, "'x' in row 2"),
        (lambda f: f.rename(columns={"CUST_ID": "account"}), SchemaError, "no identifier"),
        (lambda f: f.assign(CUST_ID=["P", "Q", "R"]), DataError, "no customer is in both"),
    ],
)
def test_bad_tables_are_clear_errors(change, error, message):
    good = _scored(["A", "B", "C"], [0, 1, 2], NAMES)
    with pytest.raises(error, match=message):
        compare_scored(good, change(good.copy()))


def test_the_identifier_can_be_named():
    old = _scored(["A", "B"], [0, 1], NAMES).assign(account=["x1", "x2"])
    new = _scored(["Z", "Y"], [1, 1], NAMES).assign(account=["x1", "x2"])
    migration = compare_scored(old, new, id_column="account")
    assert migration.summary["matched"] == 2 and migration.summary["moved"] == 1
    with pytest.raises(SchemaError, match="no column 'nope'"):
        compare_scored(old, new, id_column="nope")
