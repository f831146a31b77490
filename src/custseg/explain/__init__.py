"""Interpretation: profiles against the population, rules, and names from a playbook.

::

    profile_segments(frame, labels) -> SegmentProfiles   mean, median, lift, effect size
    segment_rules(frame, labels) -> RuleSet               depth <= 3 rules, measured on every row
    name_segments(profiles, playbook=...) -> names, descriptions, strategies
"""

from __future__ import annotations

from .naming import Playbook, SegmentNaming, load_playbook, name_segments, parse_playbook
from .profiles import SegmentProfiles, profile_segments
from .rules import RuleSet, SegmentRule, segment_rules

__all__ = [
    "Playbook",
    "RuleSet",
    "SegmentNaming",
    "SegmentProfiles",
    "SegmentRule",
    "load_playbook",
    "name_segments",
    "parse_playbook",
    "profile_segments",
    "segment_rules",
]
