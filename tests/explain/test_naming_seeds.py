"""Names do not flip with the seed when the segments are the same."""

from __future__ import annotations

import pandas as pd

from custseg import fit_segments


def test_the_same_segments_get_the_same_names_whatever_the_seed(sample: pd.DataFrame) -> None:
    names = set()
    for seed in (0, 1, 2):
        model = fit_segments(sample, random_state=seed)
        names.add(tuple(s.name for s in model.segments))
    assert len(names) == 1, names
