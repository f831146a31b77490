"""Recognising the columns that say who a customer is, not what the customer does.

Age, birth year, gender, marital status, dependents, education, income band, region,
senior flags, partner, nationality, religion, race/ethnicity, disability, language and
occupation describe a customer; a behavioural segmentation profiles them per segment
and clusters on them only when asked (``FitConfig.cluster_descriptors``,
``--cluster-descriptors``). :func:`custseg.prepare.roles.infer_schema` gives them the
role ``"descriptor"`` from :func:`find_descriptor`:

1. **names**: a token of the column name (split as :func:`~.outcomes.name_tokens`
   splits it: ``Customer_Age`` -> ``customer age``, ``SeniorCitizen`` -> ``senior
   citizen``, ``Kidhome`` -> ``kidhome``) is in :data:`DESCRIPTOR_TOKENS`, and the name
   does not say the column is about something else than the person (``AccountAge``,
   ``car_age``, ``store_region``: :data:`_OTHER_THINGS`) or an amount or activity
   (``MntChildrenClothes``, ``region_spend``: :data:`_ACTIVITY_TOKENS`). Income is a
   descriptor as a *band* (text such as ``"$40K - $60K"`` or a name with ``category``,
   ``band``, ``bracket``...): an income amount stays a feature, as purchasing power is
   what a mall's income/spending segmentation is about.
2. **values**: text whose levels are gender words (``M``/``F``, ``Male``/``Female``);
   whole numbers in 1900..2010 (median at most 2000) under a name with ``year`` or
   ``born`` (a birth year); text levels that are money bands (``"Less than $40K"``,
   ``"$40K - $60K"``, ``"$120K +"``) under a name that is not an amount.

Relationship length (``tenure``, ``Months_on_book``, ``Customer_Since``) is behaviour:
it stays a feature. Seven kinds are *protected characteristics* in credit and pricing
(:func:`protected_characteristic`): sex/gender, age (birth year and senior flags
included), marital status (partner included), race/ethnicity, religion, nationality and
disability; the report audits the segments' composition on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._utils.lazy import lazy_module
from .outcomes import name_tokens
from .schema import text_values

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "DESCRIPTOR_TOKENS",
    "PROTECTED_KINDS",
    "Descriptor",
    "descriptor_reason",
    "find_descriptor",
    "protected_characteristic",
]

DESCRIPTOR_TOKENS: dict[str, str] = {
    **dict.fromkeys(("age", "ages", "agegroup", "ageband"), "age"),
    **dict.fromkeys(("birth", "birthyear", "birthdate", "dob", "yob", "born"), "birth year"),
    **dict.fromkeys(("gender", "sex"), "gender"),
    **dict.fromkeys(("marital", "married", "marriage"), "marital status"),
    **dict.fromkeys(("partner", "spouse"), "partner"),
    **dict.fromkeys(
        ("dependent", "dependents", "children", "child", "kids", "kid", "kidhome", "teenhome"),
        "dependents",
    ),
    **dict.fromkeys(("education", "degree", "schooling", "qualification"), "education"),
    **dict.fromkeys(("occupation", "job", "profession"), "occupation"),
    **dict.fromkeys(
        (
            "region",
            "country",
            "city",
            "state",
            "postcode",
            "postal",
            "zip",
            "zipcode",
            "county",
            "province",
            "geography",
            "territory",
            "suburb",
        ),
        "region",
    ),
    **dict.fromkeys(("senior", "pensioner", "retired", "elderly"), "senior flag"),
    **dict.fromkeys(("nationality", "citizenship", "nation"), "nationality"),
    **dict.fromkeys(("religion", "religious", "faith"), "religion"),
    **dict.fromkeys(("race", "ethnicity", "ethnic"), "race/ethnicity"),
    **dict.fromkeys(("disability", "disabled", "handicap"), "disability"),
    **dict.fromkeys(("language", "lang"), "language"),
    **dict.fromkeys(("household",), "household"),
}
"""Name tokens of descriptor columns, mapped to what they describe."""

PROTECTED_KINDS: dict[str, str] = {
    "gender": "sex/gender",
    "age": "age",
    "birth year": "age",
    "senior flag": "age",
    "marital status": "marital status",
    "partner": "marital status",
    "race/ethnicity": "race/ethnicity",
    "religion": "religion",
    "nationality": "nationality",
    "disability": "disability",
}
"""Descriptor kinds that are protected characteristics, with the characteristic."""

_INCOME_TOKENS = frozenset({"income", "salary", "earnings", "wage", "wages"})
_BAND_TOKENS = frozenset(
    {"category", "cat", "band", "bracket", "range", "group", "class", "level", "bucket"}
)
# The thing a name is about when it is not the person: "AccountAge", "car_age",
# "store_region", "merchant_country", "card_state", "partner_store".
_OTHER_THINGS = frozenset(
    {
        "account",
        "acct",
        "card",
        "contract",
        "subscription",
        "policy",
        "loan",
        "product",
        "vehicle",
        "car",
        "device",
        "store",
        "shop",
        "branch",
        "merchant",
        "relationship",
        "membership",
        "tenure",
        "book",
    }
)
# Amounts and activity: "MntChildrenClothes", "region_spend", "partner_purchases".
_ACTIVITY_TOKENS = frozenset(
    {
        "amount",
        "amt",
        "mnt",
        "spend",
        "spent",
        "spending",
        "purchase",
        "purchases",
        "sales",
        "revenue",
        "balance",
        "bal",
        "trans",
        "transaction",
        "transactions",
        "trx",
        "order",
        "orders",
        "visits",
        "payment",
        "payments",
        "charge",
        "charges",
        "fee",
        "fees",
        "price",
        "cost",
        "limit",
        "usage",
        "calls",
        "clicks",
        "sessions",
    }
)
_YEAR_TOKENS = frozenset({"year", "yr", "born"})
_ORIGIN_TOKENS = frozenset({"native", "origin", "birth", "born"})
_MALE = frozenset({"m", "male", "man", "men", "boy", "h", "homme"})
_FEMALE = frozenset({"f", "female", "woman", "women", "girl", "w", "femme"})
_GENDER_OTHER = frozenset(
    {"u", "x", "o", "unknown", "other", "nonbinary", "non-binary", "diverse", "n/a", "na"}
)
_MONEY_BAND = re.compile(
    r"^(?:less than|under|below|up to|over|above|more than|<|>|<=|>=)?\s*"
    r"[$£€¥]\s*\d[\d,.]*\s*[kKmM]?\s*(?:\+|(?:-|–|to)\s*[$£€¥]?\s*\d[\d,.]*\s*[kKmM]?)?\s*\+?$",
    re.IGNORECASE,
)
_SAMPLE = 5_000  # value patterns are judged on the first rows: cheap on millions
_MAX_LEVELS = 60  # a column with more levels than this is no gender or band column


@dataclass(frozen=True)
class Descriptor:
    """What a descriptor column says about the customer, and how it was recognised.

    Attributes
    ----------
    kind : str
        ``"gender"``, ``"age"``, ``"birth year"``, ``"income band"``, ``"region"``...
    evidence : str
        How it was recognised: ``"name"``, ``"levels F, M"``, ``"values 1940..1996"``,
        or ``"listed"`` (named in ``descriptors`` or by the playbook).
    protected : str or None
        The protected characteristic (:data:`PROTECTED_KINDS`), or ``None``.
    """

    kind: str
    evidence: str
    protected: str | None

    @property
    def text(self) -> str:
        """``"gender"``, ``"birth year: values 1940..1996"``: what the roles table quotes."""
        if self.evidence in ("name", "listed"):
            return self.kind
        return f"{self.kind}: {self.evidence}"


def find_descriptor(name: str, values: pd.Series | None = None) -> Descriptor | None:
    """Whether a column describes who the customer is, from its name and values.

    Parameters
    ----------
    name : str
        The column name.
    values : pandas.Series or None, default=None
        The column's values; without them only the name is read.

    Returns
    -------
    Descriptor or None
        ``None`` for behaviour (and for anything that is not a descriptor).
    """
    tokens = name_tokens(name)
    if _OTHER_THINGS.intersection(tokens) or _ACTIVITY_TOKENS.intersection(tokens):
        return None
    levels = _text_levels(values) if values is not None else None
    kind = _kind_from_name(tokens, text=levels is not None)
    if kind is not None:
        return Descriptor(kind, "name", PROTECTED_KINDS.get(kind))
    if values is None:
        return None
    if levels is not None:
        return _from_levels(levels)
    return _birth_year(tokens, values)


def descriptor_reason(name: str, values: pd.Series | None = None) -> str | None:
    """What a descriptor column describes, in words (``"gender"``), or ``None``.

    See :func:`find_descriptor` for the parameters; the text is the one the roles
    table of the report quotes: ``"gender"``, ``"birth year: values 1940..1996"``,
    ``"income band: levels such as '$40K - $60K'"``.
    """
    found = find_descriptor(name, values)
    return found.text if found is not None else None


def protected_characteristic(name: str, values: pd.Series | None = None) -> str | None:
    """The protected characteristic a column records, or ``None``.

    ``"sex/gender"``, ``"age"`` (also birth years and senior flags), ``"marital
    status"`` (also partner), ``"race/ethnicity"``, ``"religion"``, ``"nationality"``
    or ``"disability"``: segments that proxy them need review before any use in credit
    or pricing decisions. See :func:`find_descriptor` for the parameters.
    """
    found = find_descriptor(name, values)
    return found.protected if found is not None else None


def _kind_from_name(tokens: list[str], *, text: bool) -> str | None:
    if _INCOME_TOKENS.intersection(tokens):
        # An income band describes the customer; an income amount is purchasing power.
        return "income band" if text or _BAND_TOKENS.intersection(tokens) else None
    kinds = [DESCRIPTOR_TOKENS[t] for t in tokens if t in DESCRIPTOR_TOKENS]
    if "region" in kinds and _ORIGIN_TOKENS.intersection(tokens):
        return "nationality"  # native-country, country_of_birth: national origin
    return kinds[0] if kinds else None


def _text_levels(values: pd.Series) -> list[str] | None:
    """Distinct non-missing text levels of a text column (first rows), or ``None``."""
    kind = values.dtype
    if pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind):
        return None
    text = text_values(values.iloc[:_SAMPLE]).dropna()
    if text.empty or pd.to_numeric(text, errors="coerce").notna().mean() >= 0.9:
        return None
    return [str(v) for v in text.unique()[: _MAX_LEVELS + 1]]


def _from_levels(levels: list[str]) -> Descriptor | None:
    if len(levels) > _MAX_LEVELS:
        return None
    folded = {level.strip().casefold() for level in levels}
    shown = ", ".join(sorted(levels)[:4])
    if folded & _MALE and folded & _FEMALE and folded <= _MALE | _FEMALE | _GENDER_OTHER:
        return Descriptor("gender", f"levels {shown}", PROTECTED_KINDS["gender"])
    bands = [level for level in levels if _MONEY_BAND.match(level.strip())]
    if len(bands) >= 2 and len(bands) >= 0.6 * len(levels):
        return Descriptor("income band", f"levels such as {bands[0]!r}", None)
    return None


def _birth_year(tokens: list[str], values: pd.Series) -> Descriptor | None:
    if not _YEAR_TOKENS.intersection(tokens):
        return None
    numbers = pd.to_numeric(values.iloc[:_SAMPLE], errors="coerce").to_numpy(dtype=np.float64)
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0 or not np.all(numbers == np.round(numbers)):
        return None
    low, high = float(numbers.min()), float(numbers.max())
    if low >= 1900 and high <= 2010 and float(np.median(numbers)) <= 2000:
        return Descriptor("birth year", f"values {low:.0f}..{high:.0f}", "age")
    return None
