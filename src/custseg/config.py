"""Settings of a segmentation fit, as frozen dataclasses loadable from TOML.

Configuration is explicit: every option of :func:`custseg.fit_segments` lives in
:class:`FitConfig`, and a TOML file maps onto it one to one::

    [fit]
    k_range = [2, 10]
    random_state = 0

    [preparation]
    skew = "log1p"
    scaling = "standard"

Unknown sections or keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from ._utils.checks import check_int, is_int, is_number
from ._utils.text import plain
from .exceptions import ConfigError

__all__ = ["DEFAULT_MAX_COLUMNS", "FitConfig", "PrepConfig", "load_config", "parse_k_range"]

DEFAULT_MAX_COLUMNS = 5_000
"""Widest table read by default (``max_columns``, ``--max-columns``): a file or query
with more columns is refused from its header, before its rows are read."""


@dataclass(frozen=True)
class PrepConfig:
    """Settings of the preparation plan.

    Parameters
    ----------
    domain_features : bool, default True
        Derive the credit-card recipe features whose source columns are present.
    impute : {"median", "mean"}, default "median"
        Value that fills the gaps of a numeric column.
    indicator_threshold : float, default 0.05
        Add a 0/1 missing-indicator column when a column's share of gaps exceeds this.
    skew : {"log1p", "yeo-johnson", "none"}, default "log1p"
        Treatment of skewed columns. ``log1p`` applies to non-negative columns with
        skewness above ``skew_threshold`` (right tails); ``yeo-johnson`` to any column
        with ``|skewness|`` above it, with lambda estimated on the training rows.
    skew_threshold : float, default 1.0
        Skewness beyond which a column is transformed.
    winsorize : float or None, default None
        Clip each numeric column at its ``winsorize`` and ``1 - winsorize`` training
        quantiles (e.g. 0.01), before the skew transform.
    scaling : {"standard", "robust"}, default "standard"
        Mean and standard deviation, or median and interquartile range.
    pca : int, float or None, default None
        Number of principal components to keep, or the share of variance (0-1].
    rare_level_share : float, default 0.01
        Categorical levels rarer than this share are grouped into ``"__other__"``.
    clustering_domain_features : tuple of str or None, default None
        Derived features that enter the clustering; ``None`` uses the recipe's
        defaults (see ``docs/preparation.md``), ``()`` makes them all profile-only.
    keep_redundant : bool, default False
        Cluster every column even when several encode one fact (a level repeated by
        other columns, ``|r| >= 0.95``, a total beside its parts); by default each such
        group is clustered once (``docs/preparation.md``, "Redundancy").
    """

    domain_features: bool = True
    impute: Literal["median", "mean"] = "median"
    indicator_threshold: float = 0.05
    skew: Literal["log1p", "yeo-johnson", "none"] = "log1p"
    skew_threshold: float = 1.0
    winsorize: float | None = None
    scaling: Literal["standard", "robust"] = "standard"
    pca: int | float | None = None
    rare_level_share: float = 0.01
    clustering_domain_features: tuple[str, ...] | None = None
    keep_redundant: bool = False

    def __post_init__(self) -> None:
        _choice("impute", self.impute, ("median", "mean"))
        _choice("skew", self.skew, ("log1p", "yeo-johnson", "none"))
        _choice("scaling", self.scaling, ("standard", "robust"))
        if not isinstance(self.keep_redundant, bool):
            raise ConfigError(
                f"keep_redundant={plain(self.keep_redundant)!r} should be true or false"
            )
        if not isinstance(self.domain_features, bool):
            raise ConfigError(
                f"domain_features={plain(self.domain_features)!r} should be true or false"
            )
        _share("indicator_threshold", self.indicator_threshold, low=0.0, high=1.0)
        _share("rare_level_share", self.rare_level_share, low=0.0, high=0.5)
        if not is_number(self.skew_threshold) or self.skew_threshold < 0:
            raise ConfigError(
                f"skew_threshold={plain(self.skew_threshold)!r} should be a number >= 0"
            )
        if self.winsorize is not None and (
            not is_number(self.winsorize) or not 0 < self.winsorize < 0.5
        ):
            raise ConfigError(
                f"winsorize={plain(self.winsorize)!r} should be None or a share in (0, 0.5),"
                " e.g. 0.01"
            )
        if self.pca is not None:
            bad_int = is_int(self.pca) and self.pca < 1
            bad_float = isinstance(self.pca, float) and not 0 < self.pca <= 1
            if not is_number(self.pca) or bad_int or bad_float:
                raise ConfigError(
                    f"pca={plain(self.pca)!r} should be None, a number of components >= 1 or a"
                    " share of variance in (0, 1]"
                )
        if self.clustering_domain_features is not None:
            names = self.clustering_domain_features
            if isinstance(names, str) or not isinstance(names, list | tuple):
                raise ConfigError(
                    f"clustering_domain_features={names!r} should be a list of derived"
                    " feature names, e.g. ['CREDIT_UTILISATION']"
                )
            object.__setattr__(self, "clustering_domain_features", tuple(str(n) for n in names))

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data."""
        out = asdict(self)
        if self.clustering_domain_features is not None:
            out["clustering_domain_features"] = list(self.clustering_domain_features)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrepConfig:
        """Settings from plain data (unknown keys are an error).

        Raises
        ------
        ConfigError
            If a key is unknown or a value is not valid.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown preparation settings {unknown}; valid: {sorted(known)}")
        values = dict(data)
        cdf = values.get("clustering_domain_features")
        if isinstance(cdf, list):
            values["clustering_domain_features"] = tuple(cdf)
        return cls(**values)


@dataclass(frozen=True)
class FitConfig:
    """Settings of :func:`custseg.fit_segments`.

    Parameters
    ----------
    k : int or None, default=None
        Number of segments; ``None`` chooses it from ``k_range``. ``1`` is the whole
        table as one segment (as scikit-learn's ``KMeans(n_clusters=1)``; the
        estimator's checks use it); ``custseg fit`` asks for at least 2.
    k_range : tuple of int, default=(2, 10)
        Smallest and largest k tried when choosing k (inclusive).
    random_state : int, default=0
        Seed of every random step (initialisations, resamples, samples).
    n_init : int, default=4
        K-means initialisations per fit (k-means++).
    n_resamples : int, default=3
        Bootstrap resamples per k for the stability index, at first.
    max_resamples : int or None, default=None
        Bootstrap resamples per k at most: one more is drawn while the resamples that
        reach the stability threshold (0.9) and those that do not are within three of
        each other; ``None`` is 15.
    selection_sample : int, default=20000
        Above this many rows, k is chosen on a random sample of this size.
    fit_sample : int or None, default=None
        Fit the final K-means on a sample of this size and assign every row; ``None``
        chooses automatically (a sample only for large data).
    silhouette_max_exact : int, default=50000
        Above this many rows the silhouette is estimated on a sample stratified by segment.
    id_column : str or None, default=None
        Identifier column; inferred when ``None``.
    features : tuple of str or None, default=None
        Use exactly these columns as features.
    exclude : tuple of str, default=()
        Columns never used as features.
    descriptors : tuple of str, default=()
        Columns that describe who the customer is, beyond those recognised by name,
        values or the playbook (age, gender, region...: see ``docs/preparation.md``):
        profiled per segment, not clustered on.
    cluster_descriptors : bool, default=False
        Cluster on the descriptor columns too, for demographic segments
        (``--cluster-descriptors``); by default they are only profiled.
    playbook : str or None, default=None
        Path of a playbook TOML file, or the key of a shipped playbook
        (``"credit_card"``, ``"retail"``, ``"neutral"``); ``None`` chooses the shipped
        playbook that fits the table's columns (:func:`custseg.explain.choose_playbook`).
    max_columns : int, default=5000
        Refuse a table with more columns than this (:data:`DEFAULT_MAX_COLUMNS`), from
        the file's header or schema, before its rows are read (``--max-columns``).
    segment_rows : bool, default=False
        Segment the rows of a table that looks like transactions (a customer column
        that repeats, or dates beside order keys and quantities) as they are; by
        default such a table is refused with the roll-up to run first
        (:mod:`custseg.prepare.grain`).
    preparation : PrepConfig
        Preparation settings (imputation, skew, scaling, PCA, domain features).
    """

    k: int | None = None
    k_range: tuple[int, int] = (2, 10)
    random_state: int = 0
    n_init: int = 4
    n_resamples: int = 3
    max_resamples: int | None = None
    selection_sample: int = 20_000
    fit_sample: int | None = None
    silhouette_max_exact: int = 50_000
    id_column: str | None = None
    features: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    descriptors: tuple[str, ...] = ()
    cluster_descriptors: bool = False
    playbook: str | None = None
    max_columns: int = DEFAULT_MAX_COLUMNS
    segment_rows: bool = False
    preparation: PrepConfig = field(default_factory=PrepConfig)

    def __post_init__(self) -> None:
        lo, hi = self.k_range
        if not (is_int(lo) and is_int(hi)) or lo < 2 or hi < lo:
            raise ConfigError(
                f"k_range={plain(self.k_range)!r} is not valid; use two integers with"
                " 2 <= min <= max, e.g. (2, 10) (--k-range 2-10)"
            )
        object.__setattr__(self, "k_range", (int(lo), int(hi)))
        if self.k is not None:
            hint = "e.g. 5, or None to choose it from k_range"
            object.__setattr__(
                self, "k", check_int(self.k, "k", minimum=1, option="--k", hint=hint)
            )
        for name in (
            "n_init",
            "n_resamples",
            "selection_sample",
            "silhouette_max_exact",
            "max_columns",
        ):
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=1))
        if self.max_resamples is not None and (
            not is_int(self.max_resamples) or self.max_resamples < self.n_resamples
        ):
            raise ConfigError(
                f"max_resamples={plain(self.max_resamples)!r} should be an integer >="
                f" n_resamples={self.n_resamples}"
            )
        if not isinstance(self.cluster_descriptors, bool):
            raise ConfigError(
                f"cluster_descriptors={plain(self.cluster_descriptors)!r} should be true or"
                " false (--cluster-descriptors)"
            )
        for name in ("features", "exclude", "descriptors"):
            object.__setattr__(self, name, _names_setting(name, getattr(self, name)))
        if self.fit_sample is not None:
            object.__setattr__(
                self, "fit_sample", check_int(self.fit_sample, "fit_sample", minimum=1)
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view of the settings (stored in the model)."""
        return dataclasses.asdict(self)

    def with_overrides(self, **values: Any) -> FitConfig:
        """A copy with some settings replaced; ``None`` values leave a setting as it is.

        This is how options given by a caller (the arguments of
        :func:`custseg.fit_segments`, the command line's options) are merged over a
        configuration, for instance one read with :func:`load_config`.

        Parameters
        ----------
        **values
            Names of :class:`FitConfig` fields (``k``, ``k_range``, ``random_state``,
            ``exclude``...) or of :class:`PrepConfig` fields (``skew``, ``scaling``,
            ``pca``...), which are merged into ``preparation``. ``None`` means "not
            given": to set a setting back to ``None`` use :func:`dataclasses.replace`.
            Lists become tuples and a ``playbook`` path becomes a string.

        Returns
        -------
        FitConfig
            ``self`` when nothing is overridden, else a new, validated configuration.

        Raises
        ------
        ConfigError
            If a name is not a setting, or a value is not valid.

        Examples
        --------
        >>> FitConfig(k=3).with_overrides(k=None, random_state=7, skew="none").random_state
        7
        """
        fit_names = {f.name for f in fields(FitConfig)}
        prep_names = {f.name for f in fields(PrepConfig)}
        unknown = sorted(set(values) - fit_names - prep_names)
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]}={plain(values[unknown[0]])!r}; settings are "
                f"{sorted(fit_names - {'preparation'})} and, for the preparation, "
                f"{sorted(prep_names)}"
            )
        given = {name: _setting(value) for name, value in values.items() if value is not None}
        fit = {name: value for name, value in given.items() if name in fit_names}
        prep = {name: value for name, value in given.items() if name in prep_names}
        if "playbook" in fit:
            fit["playbook"] = os.fspath(fit["playbook"])
        if prep:
            base = fit.get("preparation", self.preparation)
            fit["preparation"] = dataclasses.replace(base, **prep)
        return dataclasses.replace(self, **fit) if fit else self


def parse_k_range(text: str) -> tuple[int, int]:
    """Parse ``"2-10"`` into ``(2, 10)``.

    Parameters
    ----------
    text : str
        ``MIN-MAX``, as the command line's ``--k-range`` takes it.

    Returns
    -------
    tuple of int
        ``(MIN, MAX)``, the ``k_range`` of :class:`FitConfig`.

    Raises
    ------
    ConfigError
        If ``text`` is not of the form ``MIN-MAX`` with 2 <= MIN <= MAX.
    """
    parts = text.replace(" ", "").split("-")
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"k_range={text!r} (--k-range) is not of the form MIN-MAX, e.g. 2-10"
        ) from None
    if lo < 2 or hi < lo:
        raise ConfigError(f"k_range={text!r} (--k-range) should satisfy 2 <= MIN <= MAX, e.g. 2-10")
    return lo, hi


def _build(cls: type, values: dict[str, Any], section: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown {'key' if len(unknown) == 1 else 'keys'} {unknown} in [{section}];"
            f" known keys: {sorted(known)}"
        )
    converted = {}
    for key, value in values.items():
        if isinstance(value, list):
            value = tuple(value)
        converted[key] = value
    try:
        return cls(**converted)
    except TypeError as exc:
        raise ConfigError(f"invalid value in [{section}]: {exc}") from exc


def load_config(path: str | os.PathLike[str]) -> FitConfig:
    """Read a :class:`FitConfig` from a TOML file with ``[fit]`` and ``[preparation]`` tables.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or has unknown sections, keys or values.
    """
    import tomllib  # reading a file only: the command line starts without it

    p = Path(path)
    try:
        document = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {p} does not exist; check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {p} is not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - {"fit", "preparation"})
    if unknown:
        raise ConfigError(
            f"unknown {'section' if len(unknown) == 1 else 'sections'} {unknown} in {p};"
            " use [fit] and [preparation]"
        )
    preparation = _build(PrepConfig, document.get("preparation", {}), "preparation")
    fit_values = dict(document.get("fit", {}))
    fit_values["preparation"] = preparation
    config: FitConfig = _build(FitConfig, fit_values, "fit")
    return config


def _setting(value: Any) -> Any:
    """Lists (as TOML and JSON give them) become the tuples the dataclasses hold."""
    return tuple(value) if isinstance(value, list) else value


def _names_setting(option: str, value: object) -> tuple[str, ...] | None:
    """A list of column names as a tuple; one name (``exclude="notes"``) is a list of one."""
    if value is None or isinstance(value, tuple):
        return value
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    raise ConfigError(
        f"{option}={plain(value)!r} should be a list of column names, e.g. {option}=['notes']"
    )


def _choice(option: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{option}={plain(value)!r} should be one of {', '.join(allowed)}")


def _share(option: str, value: object, *, low: float, high: float) -> None:
    if not is_number(value) or not low <= float(value) <= high:  # type: ignore[arg-type]
        raise ConfigError(f"{option}={plain(value)!r} should be a share between {low} and {high}")
