"""Interpretation: profiles against the population, rules, and names from a playbook.

::

    profile_segments(frame, labels) -> SegmentProfiles   mean, median, lift, effect size
    profile_levels(frame, labels, columns=...) -> LevelProfiles   share of every level, lift
    segment_rules(frame, labels) -> RuleSet               depth <= 3 rules, measured on every row
    load_playbook(path=None) -> Playbook                  the editable TOML playbook, validated
    choose_playbook(columns) -> PlaybookChoice            the shipped playbook fitting the columns
    name_segments(profiles, playbook=...) -> names, descriptions, strategies

Modules, one job each: ``profiles`` (per-segment statistics), ``levels`` (level shares
of categorical columns), ``rules`` (the rule types
and :func:`segment_rules`; ``conditions`` holds the threshold conditions rules are made
of), ``playbook`` (the playbook format: types, loading, validation), ``choice``
(which playbook fits a table: credit cards, retail or neutral) and ``naming``
(matching a playbook to segments).
"""

from __future__ import annotations

from .choice import PlaybookChoice, PlaybookMatch, choose_playbook, match_playbook
from .conditions import Condition
from .levels import LevelProfiles, profile_levels
from .naming import SegmentNaming, name_segments
from .playbook import (
    SHIPPED_PLAYBOOKS,
    MatchSignal,
    Playbook,
    PlaybookEntry,
    Trait,
    load_playbook,
    parse_playbook,
)
from .profiles import SegmentProfiles, profile_segments
from .rules import RuleSet, SegmentRule, segment_rules

__all__ = [
    "SHIPPED_PLAYBOOKS",
    "Condition",
    "MatchSignal",
    "Playbook",
    "PlaybookChoice",
    "PlaybookEntry",
    "PlaybookMatch",
    "LevelProfiles",
    "RuleSet",
    "SegmentNaming",
    "SegmentProfiles",
    "SegmentRule",
    "Trait",
    "choose_playbook",
    "load_playbook",
    "match_playbook",
    "name_segments",
    "parse_playbook",
    "profile_levels",
    "profile_segments",
    "segment_rules",
]
