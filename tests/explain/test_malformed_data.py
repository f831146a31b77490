"""Profiles and rules rebuilt from malformed data are refused with one line naming the writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.exceptions import DataError
from custseg.explain import profile_segments, segment_rules
from custseg.explain.profiles import SegmentProfiles
from custseg.explain.rules import RuleSet, SegmentRule


@pytest.fixture(scope="module")
def explained() -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 200)
    frame = pd.DataFrame({"a": rng.normal(labels * 3.0), "b": rng.normal(size=400)})
    profiles = profile_segments(frame, labels).to_dict()
    rules = segment_rules(frame, labels, random_state=0).to_dict()
    return profiles, rules


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


def test_the_documents_round_trip(explained):
    profiles, rules = explained
    assert RuleSet.from_dict(rules).to_dict() == rules
    assert SegmentProfiles.from_dict(profiles).to_dict() == profiles


@pytest.mark.parametrize(
    ("kind", "broken", "writer"),
    [
        ("profile", lambda p, r: _without(p, "n_rows"), "SegmentProfiles.to_dict()"),
        ("rule set", lambda p, r: _without(r, "agreement"), "RuleSet.to_dict()"),
        ("rule", lambda p, r: _without(r["rules"][0], "coverage"), "SegmentRule.to_dict()"),
        ("rule", lambda p, r: {**r["rules"][0], "n_matched": "many"}, "SegmentRule.to_dict()"),
    ],
)
def test_malformed_data_names_what_and_the_writer(explained, kind, broken, writer):
    read = {
        "profile": SegmentProfiles.from_dict,
        "rule set": RuleSet.from_dict,
        "rule": SegmentRule.from_dict,
    }[kind]
    with pytest.raises(DataError) as caught:
        read(broken(*explained))
    message = str(caught.value)
    assert message.startswith(f"the {kind} data is incomplete or malformed (")
    assert message.endswith(f"; pass the output of {writer}")
    assert "\n" not in message
