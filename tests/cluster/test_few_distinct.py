"""Fewer distinct rows than k: the K-means optimum, without scikit-learn's warning.

Warnings are errors in the tests: scikit-learn's ``ConvergenceWarning`` ("Number of
distinct clusters (2) found smaller than n_clusters (3)") would fail them.
"""

from __future__ import annotations

import numpy as np

from custseg.cluster.kmeans import fit_kmeans


def test_each_distinct_row_is_a_centroid_and_the_extra_segments_stay_empty():
    rows = np.tile([[1.0, 5.0], [2.0, 9.0]], (100, 1))
    for engine in ("lloyd", "minibatch"):
        fitted = fit_kmeans(rows, 3, random_state=0, engine=engine)
        assert sorted(fitted.sizes) == [0, 100, 100]
        assert fitted.inertia == 0.0
        held = np.asarray(fitted.centroids)[np.asarray(fitted.sizes) > 0]
        assert sorted(map(tuple, held)) == [(1.0, 5.0), (2.0, 9.0)]


def test_enough_distinct_rows_late_in_the_table_still_use_k_means():
    # The first rows repeat one value; the distinct ones come after the cheap look.
    rows = np.vstack([np.zeros((1000, 2)), np.random.default_rng(0).normal(size=(50, 2))])
    fitted = fit_kmeans(rows, 4, random_state=0, engine="lloyd")
    assert min(fitted.sizes) > 0 and fitted.inertia > 0
