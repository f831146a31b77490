"""Per-segment profiles in original units: sizes, means, medians, lift and effect sizes.

A profile answers "what is different about this segment?" for every numeric column of
the table, including columns that were not used for clustering (derived credit-card
features, for instance), so that a segment can be explained in the units a banker reads.

For segment ``g`` and feature ``f``:

- ``mean`` and ``median`` are computed over the segment's non-missing values;
- ``lift`` is the segment mean divided by the population mean; it is a ratio of
  amounts, so it is undefined (``NaN`` in the table, ``None`` in JSON) when the
  population mean is zero or the column takes both signs (a lift of a mean near zero
  between negative and positive values says nothing);
- ``effect_size`` is the standardised difference between the segment and the rest of
  the population, ``(mean_g - mean_rest) / pooled_sd`` (Cohen's d), undefined when
  either side has fewer than two values. When the segment and the rest are each
  constant but differ (a segment that is exactly the customers with a flag), the
  pooled standard deviation is zero and Cohen's d infinite: the difference is then
  divided by the population standard deviation instead, a finite value that still
  ranks the feature first (``1 / sqrt(p (1 - p))`` for a flag held by a share ``p``:
  10.1 at 1%, 2 at 50%), so that a segment's defining feature leads its traits and
  its name. A feature equal in the segment and the rest has no effect (undefined).

Everything is computed with one ``groupby`` pass per statistic; the rest-of-population
statistics are obtained from the per-segment ones (parallel-axis theorem), never by
re-scanning the data. Medians are exact up to ``median_sample_size`` rows and estimated
on a sample stratified by segment above it (the profile says so).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._utils.io import atomic_path
from .._utils.sampling import stratified_sample
from .._utils.text import neutralise_formulas
from ..exceptions import DataError
from ._inputs import numeric_feature_columns, numeric_matrix, reading, validate_labels

__all__ = ["SegmentProfiles", "profile_segments", "PROFILE_COLUMNS"]

PROFILE_COLUMNS = [
    "segment_id",
    "feature",
    "mean",
    "median",
    "population_mean",
    "lift",
    "effect_size",
    "used_for_clustering",
    "population_median",
    "missing_share",
    "rank",
]
"""Columns of :attr:`SegmentProfiles.table`, in order (``profiles.csv``)."""

# Medians need a sort per group; beyond this many rows an estimate on a stratified
# sample is as good for interpretation and keeps profiling linear in time.
_MEDIAN_EXACT_LIMIT = 250_000
_MEDIAN_SAMPLE_SIZE = 250_000
_MIN_MEDIAN_ROWS = 5_000


@dataclass(frozen=True)
class SegmentProfiles:
    """Profiles of every segment.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy table, one row per segment x feature, columns :data:`PROFILE_COLUMNS`.
        ``rank`` is 1 for the feature with the largest ``|effect_size|`` in the segment.
    sizes : pandas.DataFrame
        One row per segment: ``segment_id``, ``size``, ``share``.
    population : pandas.DataFrame
        Indexed by feature: ``mean``, ``median``, ``std`` and ``missing_share`` over all rows.
    n_rows : int
        Number of customers profiled.
    clustering_features : list of str or None
        The features used for clustering, as given; ``None`` when not given (then
        ``used_for_clustering`` is ``False`` everywhere).
    median_sample_size : int or None
        ``None`` when medians are exact, else the size of the stratified sample on which
        they were estimated.
    """

    table: pd.DataFrame
    sizes: pd.DataFrame
    population: pd.DataFrame
    n_rows: int
    clustering_features: list[str] | None = None
    median_sample_size: int | None = None

    @property
    def segment_ids(self) -> list[int]:
        """Segment ids in increasing order."""
        return [int(s) for s in self.sizes["segment_id"]]

    @property
    def features(self) -> list[str]:
        """Profiled features, in table order."""
        return [str(f) for f in self.population.index]

    def segment(self, segment_id: int) -> pd.DataFrame:
        """Rows of :attr:`table` for one segment, indexed by feature, in rank order.

        Raises
        ------
        DataError
            If ``segment_id`` is not a profiled segment.
        """
        if segment_id not in self.segment_ids:
            raise DataError(
                f"segment_id={segment_id!r} is not a profiled segment; use one of"
                f" {self.segment_ids}"
            )
        rows = self.table[self.table["segment_id"] == segment_id]
        return rows.sort_values("rank").set_index("feature")

    def top_features(
        self, segment_id: int, n: int = 5, *, min_abs_effect: float = 0.0
    ) -> pd.DataFrame:
        """The ``n`` most distinguishing features of a segment, by ``|effect_size|``.

        Parameters
        ----------
        segment_id : int
            The segment.
        n : int, default 5
            Number of features to return.
        min_abs_effect : float, default 0.0
            Drop features whose ``|effect_size|`` is below this value (and undefined ones
            when it is positive).

        Returns
        -------
        pandas.DataFrame
            Rows of :attr:`table`, indexed by feature, most distinguishing first.
        """
        if n < 0:
            raise DataError(f"n={n} should be >= 0; ask for a number of features")
        rows = self.segment(segment_id)
        if min_abs_effect > 0:
            rows = rows[rows["effect_size"].abs() >= min_abs_effect]
        return rows.head(n)

    def value(self, segment_id: int, feature: str, stat: str) -> float:
        """One statistic of one feature in one segment (``NaN`` when undefined or absent).

        ``stat`` is a column of :attr:`table` (``mean``, ``median``, ``lift``,
        ``effect_size``, ``population_mean``, ...).
        """
        table = self._lookup()
        try:
            cell: Any = table.at[(segment_id, feature), stat]
        except KeyError:
            return math.nan
        return float(cell)

    def population_value(self, feature: str, stat: str) -> float:
        """A population statistic (``mean``, ``median``, ``std``, ``missing_share``) of a
        feature, ``NaN`` when the feature is not profiled."""
        try:
            cell: Any = self.population.at[feature, stat]
        except KeyError:
            return math.nan
        return float(cell)

    def _lookup(self) -> pd.DataFrame:
        # The lookup index is cached on the instance: naming reads thousands of cells.
        cached = self.__dict__.get("_lookup_table")
        if cached is None:
            cached = self.table.set_index(["segment_id", "feature"]).sort_index()
            object.__setattr__(self, "_lookup_table", cached)
        return cached

    def to_dict(self, *, top_n: int = 5) -> dict[str, Any]:
        """A JSON-ready dictionary (undefined values are ``None``, never ``NaN``).

        The dictionary round-trips through :meth:`from_dict`.
        """
        population = {
            str(f): {k: _num(v) for k, v in row.items()}
            for f, row in self.population.to_dict(orient="index").items()
        }
        segments = []
        for sid, size, share in self.sizes.itertuples(index=False):
            rows = self.segment(int(sid))
            features = {
                str(f): {
                    **_numbers(r, "mean", "median", "lift", "effect_size", "missing_share"),
                    "rank": int(r["rank"]),
                    "used_for_clustering": bool(r["used_for_clustering"]),
                }
                for f, r in rows.iterrows()
            }
            top = [
                {
                    "feature": str(f),
                    **_numbers(r, "effect_size", "lift"),
                    "used_for_clustering": bool(r["used_for_clustering"]),
                }
                for f, r in rows.head(top_n).iterrows()
            ]
            segments.append(
                {
                    "id": int(sid),
                    "size": int(size),
                    "share": float(share),
                    "top_features": top,
                    "features": features,
                }
            )
        return {
            "n_rows": int(self.n_rows),
            "clustering_features": self.clustering_features,
            "median_sample_size": self.median_sample_size,
            "population": population,
            "segments": segments,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentProfiles:
        """Rebuild profiles from :meth:`to_dict` output (for instance from a model file).

        Raises
        ------
        DataError
            If the dictionary does not have the fields written by :meth:`to_dict`.
        """
        with reading("profile", "SegmentProfiles.to_dict()"):
            population = pd.DataFrame.from_dict(
                {f: {k: _nan(v) for k, v in s.items()} for f, s in data["population"].items()},
                orient="index",
                columns=["mean", "median", "std", "missing_share"],
            ).astype("float64")
            sizes = pd.DataFrame(
                {
                    "segment_id": [int(s["id"]) for s in data["segments"]],
                    "size": [int(s["size"]) for s in data["segments"]],
                    "share": [float(s["share"]) for s in data["segments"]],
                }
            )
            rows = []
            for seg in data["segments"]:
                for feature, s in seg["features"].items():
                    rows.append(
                        {
                            "segment_id": int(seg["id"]),
                            "feature": feature,
                            "mean": _nan(s["mean"]),
                            "median": _nan(s["median"]),
                            "population_mean": _nan(data["population"][feature]["mean"]),
                            "lift": _nan(s["lift"]),
                            "effect_size": _nan(s["effect_size"]),
                            "used_for_clustering": bool(s["used_for_clustering"]),
                            "population_median": _nan(data["population"][feature]["median"]),
                            "missing_share": _nan(s["missing_share"]),
                            "rank": int(s["rank"]),
                        }
                    )
            n_rows = int(data["n_rows"])
            clustering = data.get("clustering_features")
            median_sample = data.get("median_sample_size")
        table = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
        # Same row order as profile_segments: by segment, then in feature order.
        position = {f: i for i, f in enumerate(population.index)}
        table = table.sort_values(
            ["segment_id", "feature"], key=lambda c: c.map(position) if c.name == "feature" else c
        ).reset_index(drop=True)
        return cls(
            table=_typed_table(table),
            sizes=sizes,
            population=population,
            n_rows=n_rows,
            clustering_features=None if clustering is None else [str(c) for c in clustering],
            median_sample_size=None if median_sample is None else int(median_sample),
        )

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`table` to ``path`` as CSV, atomically (``profiles.csv``).

        A feature name that starts like a spreadsheet formula (``=``, ``+``, ``-``,
        ``@``) is written with a leading ``'`` so that a spreadsheet shows it as text
        (:func:`custseg._utils.text.neutralise_formulas`); numbers are written as is.
        """
        with atomic_path(path) as tmp:
            neutralise_formulas(self.table).to_csv(tmp, index=False)
        return Path(path)


def profile_segments(
    frame: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    *,
    columns: Sequence[str] | None = None,
    clustering_features: Sequence[str] | None = None,
) -> SegmentProfiles:
    """Profile every segment against the population, in original units.

    Parameters
    ----------
    frame : pandas.DataFrame
        Customers in original units: raw columns plus any derived features. Missing
        values are allowed (skipped by every statistic).
    labels : array-like of int
        Segment of each row of ``frame`` (non-negative integers, same length).
    columns : sequence of str, optional
        Features to profile. Default: every numeric (or boolean) column of ``frame``.
    clustering_features : sequence of str, optional
        Features the segmentation was fitted on; profiled features in this list are
        flagged ``used_for_clustering``. Names that are not profiled columns (one-hot
        levels, missing indicators) are allowed and ignored for the flag.

    Returns
    -------
    SegmentProfiles
        Tidy table, sizes, population statistics; ``to_dict()`` is JSON-ready.

    Raises
    ------
    DataError
        If ``frame`` is empty, ``labels`` do not match it, or a feature has infinite values.
    SchemaError
        If a requested column is missing or not numeric, or there is no numeric column.
    """
    features = numeric_feature_columns(frame, columns)
    codes = validate_labels(labels, len(frame))
    values = numeric_matrix(frame, features)
    return _profile(values, features, codes, clustering_features)


def _profile(
    values: np.ndarray,
    features: list[str],
    codes: np.ndarray,
    clustering_features: Sequence[str] | None,
) -> SegmentProfiles:
    n_rows, n_features = values.shape
    ids, inverse = np.unique(codes, return_inverse=True)
    k = len(ids)
    data = pd.DataFrame(values, columns=pd.RangeIndex(n_features), copy=False)
    moments = _moments(data, values, inverse, k)
    medians, pop_median, median_sample = _medians(data, inverse, k)
    missing = 1.0 - moments.counts / moments.sizes[:, None]
    pop_missing = 1.0 - moments.total / n_rows
    ranks = _ranks(moments.effect, codes)
    used = set(clustering_features) if clustering_features is not None else set()
    table = pd.DataFrame(
        {
            "segment_id": np.repeat(ids, n_features),
            "feature": np.tile(np.asarray(features, dtype=object), k),
            "mean": moments.means.ravel(),
            "median": medians.ravel(),
            "population_mean": np.tile(moments.pop_mean, k),
            "lift": moments.lift.ravel(),
            "effect_size": moments.effect.ravel(),
            "used_for_clustering": np.tile([f in used for f in features], k),
            "population_median": np.tile(pop_median, k),
            "missing_share": missing.ravel(),
            "rank": ranks.ravel(),
        }
    )
    population = pd.DataFrame(
        {
            "mean": moments.pop_mean,
            "median": pop_median,
            "std": moments.pop_std,
            "missing_share": pop_missing,
        },
        index=pd.Index(features, name="feature"),
    )
    sizes = moments.sizes
    size_table = pd.DataFrame({"segment_id": ids, "size": sizes, "share": sizes / n_rows})
    return SegmentProfiles(
        table=_typed_table(table),
        sizes=size_table,
        population=population,
        n_rows=n_rows,
        clustering_features=None if clustering_features is None else list(clustering_features),
        median_sample_size=median_sample,
    )


@dataclass(frozen=True)
class _Moments:
    """Per-segment (k, d) and population (d,) statistics of the profiled features."""

    counts: np.ndarray  # non-missing values per segment and feature
    sizes: np.ndarray  # rows per segment (k,)
    total: np.ndarray  # non-missing values per feature
    means: np.ndarray  # NaN where a segment has no value
    pop_mean: np.ndarray
    pop_std: np.ndarray
    effect: np.ndarray
    lift: np.ndarray


def _moments(data: pd.DataFrame, values: np.ndarray, inverse: np.ndarray, k: int) -> _Moments:
    grouped = data.groupby(inverse, sort=True)

    # 1. Per-segment counts of non-missing values, means and variances (ddof=1).
    counts = grouped.count().to_numpy(dtype=np.float64)  # (k, d)
    means = grouped.mean().to_numpy(dtype=np.float64)
    variances = grouped.var(ddof=1).to_numpy(dtype=np.float64)
    variances = np.where(counts > 1, variances, 0.0)

    # 2. Population statistics from the segment ones (no second pass over the data).
    total = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pop_mean = np.nansum(np.where(counts > 0, means, 0.0) * counts, axis=0) / total
        dev = np.where(counts > 0, means - pop_mean, 0.0)
        within = (counts - 1).clip(min=0) * variances
        between = counts * dev**2
        pop_ss = within.sum(axis=0) + between.sum(axis=0)
        pop_std = np.sqrt(pop_ss / (total - 1))
        effect = _effect_sizes(counts, dev, within, between, pop_ss, pop_mean, pop_std)

        # 4. Lift, only for one-signed columns with a (numerically) non-zero mean.
        mixed_signs = (values < 0).any(axis=0) & (values > 0).any(axis=0)
        no_lift = (np.abs(pop_mean) <= _tiny(pop_mean, pop_std)) | mixed_signs
        lift = np.where(no_lift | (counts == 0), np.nan, means / np.where(no_lift, 1, pop_mean))
    return _Moments(
        counts=counts,
        sizes=np.bincount(inverse, minlength=k),
        total=total,
        means=np.where(counts > 0, means, np.nan),
        pop_mean=pop_mean,
        pop_std=pop_std,
        effect=effect,
        lift=lift,
    )


def _effect_sizes(
    counts: np.ndarray,
    dev: np.ndarray,
    within: np.ndarray,
    between: np.ndarray,
    pop_ss: np.ndarray,
    pop_mean: np.ndarray,
    pop_std: np.ndarray,
) -> np.ndarray:
    """3. Cohen's d of each segment against the rest of the population (NaN: undefined)."""
    # The rest of the population for each segment, by the parallel-axis theorem:
    # SS_rest = SS_total - within_g - n_g*dev_g^2 - n_rest*dev_rest^2.
    total = counts.sum(axis=0)
    n_rest = total - counts
    rest_mean_dev = -(counts * dev) / n_rest  # rest mean minus population mean
    ss_rest = pop_ss - within - between - n_rest * rest_mean_dev**2
    ss_rest = np.clip(ss_rest, 0.0, None)
    pooled_var = (within + ss_rest) / (total - 2)
    pooled_sd = np.sqrt(pooled_var)
    diff = dev - rest_mean_dev  # segment mean minus rest mean
    tiny = _tiny(pop_mean, pop_std)
    sides = (counts >= 2) & (n_rest >= 2)
    # The rest's sum of squares comes from a subtraction: below a millionth of the
    # population sd, the pooled sd is rounding residue of a zero.
    defined = sides & (pooled_sd > np.maximum(tiny, 1e-6 * np.nan_to_num(pop_std)))
    # Both sides constant but different: the population sd keeps the effect finite.
    pure = sides & ~defined & (np.abs(diff) > tiny) & (pop_std > tiny)
    scale = np.where(defined, pooled_sd, np.where(pure, pop_std, 1.0))
    return np.where(defined | pure, diff / scale, np.nan)


def _ranks(effect: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """5. Ranks within segment by |effect size|, undefined effects last."""
    k, n_features = effect.shape
    order_key = np.where(np.isnan(effect), -1.0, np.abs(effect))
    ranks = np.empty_like(codes, shape=(k, n_features))
    for g in range(k):
        order = np.argsort(-order_key[g], kind="stable")
        ranks[g, order] = np.arange(1, n_features + 1)
    return ranks


def _medians(
    data: pd.DataFrame, inverse: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, int | None]:
    n_rows = len(data)
    if n_rows <= _MEDIAN_EXACT_LIMIT:
        medians = data.groupby(inverse, sort=True).median().to_numpy(dtype=np.float64)
        pop = data.median().to_numpy(dtype=np.float64)
        return medians.reshape(k, -1), pop, None
    # Stratified sample: each segment keeps its share, and at least a few thousand rows
    # (or all of them) so that small segments still get a stable median.
    rng = np.random.default_rng(0)
    rows = stratified_sample(inverse, _MEDIAN_SAMPLE_SIZE, rng, min_per_segment=_MIN_MEDIAN_ROWS)
    sample = data.iloc[rows]
    medians = sample.groupby(inverse[rows], sort=True).median().to_numpy(dtype=np.float64)
    # The population median of a stratified sample is biased towards small segments;
    # an unweighted uniform sample of the same size estimates it without that bias.
    uniform = rng.choice(n_rows, size=min(_MEDIAN_SAMPLE_SIZE, n_rows), replace=False)
    pop = data.iloc[np.sort(uniform)].median().to_numpy(dtype=np.float64)
    return medians.reshape(k, -1), pop, int(len(rows))


def _tiny(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    # A scale-aware zero: values below this are rounding noise of the sums.
    scale = np.maximum(np.abs(mean), np.nan_to_num(std))
    return 1e-12 * np.maximum(scale, 1e-300)


def _typed_table(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype(
        {
            "segment_id": "int64",
            "feature": "object",
            "mean": "float64",
            "median": "float64",
            "population_mean": "float64",
            "lift": "float64",
            "effect_size": "float64",
            "used_for_clustering": "bool",
            "population_median": "float64",
            "missing_share": "float64",
            "rank": "int64",
        }
    )[PROFILE_COLUMNS]


def _num(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _numbers(row: pd.Series, *stats: str) -> dict[str, float | None]:
    """``stats`` of a table row as JSON numbers (``None`` where undefined), in order."""
    return {stat: _num(row[stat]) for stat in stats}


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)
