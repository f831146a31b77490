"""Small synthetic customer tables with the traits of real data, for known-answer tests.

- :func:`retail_table`: a retail purchase history with the columns of the public
  "Customer Personality Analysis" data (CamelCase names: MntWines, NumStorePurchases,
  Recency, AcceptedCmp1...) and three planted groups of shoppers;
- :func:`snake_retail_table`: the same shoppers under snake_case names of another
  naming style (wine_spend, web_orders, days_since_last_purchase);
- :func:`long_names_table`: ten well-separated groups described by columns with
  130-character names.

Each returns the table and the planted group of every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AFFLUENT, FAMILIES, LAPSED = 0, 1, 2
"""The planted groups of the retail tables."""


def retail_table(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Affluent shoppers, families buying on deals online, and lapsed customers."""
    rng = np.random.default_rng(seed)
    group = np.repeat([AFFLUENT, FAMILIES, LAPSED], n // 3)
    rng.shuffle(group)
    m = len(group)
    affluent, families, lapsed = (group == g for g in (AFFLUENT, FAMILIES, LAPSED))

    def spend(scale_affluent: float, scale_other: float) -> np.ndarray:
        scale = np.where(affluent, scale_affluent, scale_other)
        return rng.gamma(3.0, scale, m).round(0)

    frame = pd.DataFrame(
        {
            "ID": rng.permutation(np.arange(5000, 5000 + m)),
            "Year_Birth": rng.integers(1945, 2000, m),
            "Income": np.where(
                affluent, rng.normal(78_000, 7_000, m), rng.normal(42_000, 7_000, m)
            ).round(0),
            "Kidhome": np.where(families, rng.integers(1, 3, m), (rng.random(m) < 0.1).astype(int)),
            "Teenhome": np.where(families, rng.integers(0, 2, m), 0),
            "Recency": np.where(lapsed, rng.integers(70, 100, m), rng.integers(0, 40, m)),
            "MntWines": spend(250.0, 30.0),
            "MntFruits": spend(25.0, 6.0),
            "MntMeatProducts": spend(200.0, 25.0),
            "MntFishProducts": spend(35.0, 8.0),
            "MntSweetProducts": spend(25.0, 6.0),
            "MntGoldProds": spend(30.0, 10.0),
            "NumDealsPurchases": np.where(families, rng.poisson(6, m), rng.poisson(1, m)),
            "NumWebPurchases": np.where(families, rng.poisson(7, m), rng.poisson(3, m)),
            "NumCatalogPurchases": np.where(affluent, rng.poisson(6, m), rng.poisson(1, m)),
            "NumStorePurchases": np.where(affluent, rng.poisson(9, m), rng.poisson(4, m)),
            "NumWebVisitsMonth": np.where(families, rng.poisson(8, m), rng.poisson(4, m)),
        }
    )
    return frame, group


SNAKE_NAMES = {
    "ID": "shopper_ref",
    "Income": "household_income",
    "Kidhome": "kids_at_home",
    "Teenhome": "teens_at_home",
    "Recency": "days_since_last_purchase",
    "MntWines": "wine_spend",
    "MntFruits": "fruit_spend",
    "MntMeatProducts": "meat_spend",
    "MntFishProducts": "fish_spend",
    "MntSweetProducts": "sweets_spend",
    "MntGoldProds": "gold_spend",
    "NumDealsPurchases": "deal_orders",
    "NumWebPurchases": "web_purchases",
    "NumCatalogPurchases": "catalog_orders",
    "NumStorePurchases": "store_purchases",
    "NumWebVisitsMonth": "web_visits_per_month",
}


def snake_retail_table(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`retail_table` with snake_case names in another naming style."""
    frame, group = retail_table(n, seed)
    return frame.drop(columns=["Year_Birth"]).rename(columns=SNAKE_NAMES), group


def long_name(i: int) -> str:
    """A 130-character column name; the names differ only in their last characters."""
    stem = "quarterly_behavioural_indicator_computed_by_the_customer_analytics_platform_"
    return f"{stem}{'x' * (126 - len(stem))}_{i:03d}"


def long_names_table(
    n_groups: int = 10, per_group: int = 60, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """``n_groups`` well-separated groups over 12 columns with 130-character names."""
    rng = np.random.default_rng(seed)
    n_columns = 12
    centres = rng.normal(0.0, 6.0, size=(n_groups, n_columns))
    group = np.repeat(np.arange(n_groups), per_group)
    values = centres[group] + rng.normal(0.0, 1.0, size=(group.size, n_columns))
    # Positive, skewed amounts like real behavioural columns.
    frame = pd.DataFrame(np.exp(values / 4.0) * 100.0, columns=[long_name(i) for i in range(12)])
    frame.insert(0, "customer_reference", [f"K{i:05d}" for i in range(group.size)])
    assert all(len(c) == 130 for c in frame.columns[1:])
    return frame, group
