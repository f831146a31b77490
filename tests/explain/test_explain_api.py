"""The public names of ``custseg.explain`` and of its modules."""

from __future__ import annotations

import importlib

import pytest

import custseg.explain

MODULES = [
    "choice",
    "conditions",
    "naming",
    "playbook",
    "profiles",
    "rules",
    "_inputs",
    "_rule_search",
]


def test_package_exports_the_interpretation_api():
    from custseg.explain import (
        Playbook,
        PlaybookEntry,
        RuleSet,
        SegmentNaming,
        SegmentProfiles,
        SegmentRule,
        Trait,
        load_playbook,
        name_segments,
        parse_playbook,
        profile_segments,
        segment_rules,
    )

    exported = [
        Playbook,
        PlaybookEntry,
        RuleSet,
        SegmentNaming,
        SegmentProfiles,
        SegmentRule,
        Trait,
        load_playbook,
        name_segments,
        parse_playbook,
        profile_segments,
        segment_rules,
    ]
    assert all(obj is not None for obj in exported)
    assert sorted(custseg.explain.__all__) == sorted(set(custseg.explain.__all__))
    for name in custseg.explain.__all__:
        assert getattr(custseg.explain, name) is not None


@pytest.mark.parametrize("module_name", MODULES)
def test_every_name_in_a_module_all_exists_and_is_public(module_name: str):
    module = importlib.import_module(f"custseg.explain.{module_name}")
    assert module.__doc__
    for name in module.__all__:
        assert not name.startswith("_"), name
        assert hasattr(module, name), name
