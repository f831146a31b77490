"""The credit-card recipe: behavioural features derived from the raw card columns.

Each feature is declared as plain data (a ratio of two columns, or the purchase type
built from two amounts) so that Python, SQL exports and the service compute the same
thing. A feature is derived only when all of its source columns are numeric features
of the table. ``clustering`` says whether it enters the K-means distance by default or
is only used to describe segments (profiles and report).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..exceptions import ConfigError, ModelError

__all__ = [
    "DomainFeature",
    "CREDIT_CARD_RECIPE",
    "PURCHASE_TYPE_LABELS",
    "recipe_names",
    "compute_domain_feature",
]

Kind = Literal["ratio", "purchase_type"]

PURCHASE_TYPE_LABELS: dict[str, str] = {
    "none": "none",
    "oneoff_only": "one_off_only",
    "installments_only": "instalments_only",
    "both": "both",
}
"""Purchase-type cases (keys) and the category written for each (values)."""


@dataclass(frozen=True)
class DomainFeature:
    """One derived feature of the credit-card recipe.

    Attributes
    ----------
    name : str
        Column name of the derived feature.
    kind : {"ratio", "purchase_type"}
        ``ratio``: ``sources["numerator"] / sources["denominator"]`` when the
        denominator is > 0 and both are present, otherwise missing.
        ``purchase_type``: one of :data:`PURCHASE_TYPE_LABELS` from whether
        ``sources["oneoff"]`` and ``sources["installments"]`` are > 0 (a missing
        amount counts as no purchase of that kind).
    sources : dict
        Role of each source column (``numerator``/``denominator`` or
        ``oneoff``/``installments``) to its name.
    formula : str
        The formula in words, for documentation.
    description : str
        What the feature means for a card holder.
    clustering : bool
        Whether the feature is a clustering feature (else profile-only).
    labels : dict
        Categories of a ``purchase_type`` feature (empty for ratios).
    """

    name: str
    kind: Kind
    sources: dict[str, str]
    formula: str
    description: str
    clustering: bool
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def is_categorical(self) -> bool:
        """Whether the feature is a category (else a number)."""
        return self.kind == "purchase_type"

    def source_columns(self) -> list[str]:
        """The raw columns the feature is computed from."""
        return list(self.sources.values())

    def with_clustering(self, clustering: bool) -> DomainFeature:
        """A copy with another ``clustering`` flag."""
        return DomainFeature(
            self.name,
            self.kind,
            dict(self.sources),
            self.formula,
            self.description,
            clustering,
            dict(self.labels),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the documented plan layout (sources as top-level keys)."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, **self.sources}
        if self.labels:
            out["labels"] = dict(self.labels)
        out.update(formula=self.formula, description=self.description, clustering=self.clustering)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DomainFeature:
        """Rebuild a feature written by :meth:`to_dict`.

        Raises
        ------
        ModelError
            If the entry is not a known kind or misses its source columns.
        """
        kind = data.get("kind")
        roles = _SOURCE_ROLES.get(str(kind))
        if roles is None:
            raise ModelError(
                f"derived feature {data.get('name')!r} has unknown kind {kind!r};"
                " refit the model with this version of custseg"
            )
        try:
            sources = {role: str(data[role]) for role in roles}
            return cls(
                name=str(data["name"]),
                kind=kind,  # type: ignore[arg-type]
                sources=sources,
                formula=str(data.get("formula", "")),
                description=str(data.get("description", "")),
                clustering=bool(data.get("clustering", False)),
                labels={str(k): str(v) for k, v in dict(data.get("labels") or {}).items()},
            )
        except KeyError as exc:
            raise ModelError(
                f"derived feature entry misses {exc}; refit the model with this custseg"
            ) from exc


_SOURCE_ROLES: dict[str, tuple[str, ...]] = {
    "ratio": ("numerator", "denominator"),
    "purchase_type": ("oneoff", "installments"),
}


def _ratio(
    name: str, numerator: str, denominator: str, description: str, clustering: bool
) -> DomainFeature:
    return DomainFeature(
        name=name,
        kind="ratio",
        sources={"numerator": numerator, "denominator": denominator},
        formula=f"{numerator} / {denominator} (missing when {denominator} <= 0 or missing)",
        description=description,
        clustering=clustering,
    )


# The clustering flags were chosen by measuring segment sizes and bootstrap stability
# on CC_GENERAL (docs/preparation.md): monthly averages nearly duplicate the totals
# (85% of holders have TENURE 12), so clustering on both would count spending twice.
CREDIT_CARD_RECIPE: tuple[DomainFeature, ...] = (
    _ratio(
        "MONTHLY_AVG_PURCHASES",
        "PURCHASES",
        "TENURE",
        "Average purchase amount per month of tenure.",
        clustering=False,
    ),
    _ratio(
        "MONTHLY_AVG_CASH_ADVANCE",
        "CASH_ADVANCE",
        "TENURE",
        "Average cash advance taken per month of tenure.",
        clustering=False,
    ),
    _ratio(
        "CREDIT_UTILISATION",
        "BALANCE",
        "CREDIT_LIMIT",
        "Share of the credit limit in use; above about 0.8 the holder is limit-stretched.",
        clustering=False,
    ),
    _ratio(
        "PAYMENT_MIN_RATIO",
        "PAYMENTS",
        "MINIMUM_PAYMENTS",
        "Payments as a multiple of the minimum due; near 1 or below means paying the"
        " minimum only (revolving).",
        clustering=False,
    ),
    _ratio(
        "AVG_TICKET",
        "PURCHASES",
        "PURCHASES_TRX",
        "Average amount of one purchase transaction.",
        clustering=False,
    ),
    DomainFeature(
        name="PURCHASE_TYPE",
        kind="purchase_type",
        sources={"oneoff": "ONEOFF_PURCHASES", "installments": "INSTALLMENTS_PURCHASES"},
        formula=(
            "both when ONEOFF_PURCHASES > 0 and INSTALLMENTS_PURCHASES > 0; one_off_only"
            " when only ONEOFF_PURCHASES > 0; instalments_only when only"
            " INSTALLMENTS_PURCHASES > 0; none otherwise (a missing amount counts as 0)"
        ),
        description="How the holder buys: not at all, one-off only, in instalments only, or both.",
        clustering=False,
        labels=dict(PURCHASE_TYPE_LABELS),
    ),
)


def recipe_names() -> list[str]:
    """Names of the features of the credit-card recipe."""
    return [f.name for f in CREDIT_CARD_RECIPE]


def check_recipe_names(names: object, option: str) -> tuple[str, ...]:
    """Validate a list of recipe feature names given in a configuration."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ConfigError(
            f"{option}={names!r} should be a list of derived feature names from {recipe_names()}"
        )
    known = recipe_names()
    for name in names:
        if name not in known:
            raise ConfigError(f"{option} names unknown derived feature {name!r}; use {known}")
    return tuple(str(n) for n in names)


def compute_domain_feature(spec: DomainFeature, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Values of one derived feature in original units.

    Parameters
    ----------
    spec : DomainFeature
        The feature to compute.
    columns : mapping of str to numpy.ndarray
        Float64 source columns (NaN for gaps), all of the same length.

    Returns
    -------
    numpy.ndarray
        Float64 with NaN for guarded divisions (ratios), or object strings
        (purchase type).
    """
    if spec.kind == "ratio":
        num = columns[spec.sources["numerator"]]
        den = columns[spec.sources["denominator"]]
        ok = (den > 0) & ~np.isnan(num)
        out = np.full(num.shape, np.nan)
        with np.errstate(over="ignore"):
            np.divide(num, den, out=out, where=ok)
        # A denominator that is tiny but positive can overflow: treat it as no value.
        out[~np.isfinite(out)] = np.nan
        return out
    oneoff = columns[spec.sources["oneoff"]] > 0  # NaN > 0 is False: no purchase
    instal = columns[spec.sources["installments"]] > 0
    labels = spec.labels
    return np.select(
        [oneoff & instal, oneoff, instal],
        [labels["both"], labels["oneoff_only"], labels["installments_only"]],
        default=labels["none"],
    ).astype(object)
