"""The bundled sample and simple K-means labels on it, shared by the interpretation tests.

The labels come from a deliberately simple preparation (median imputation, log1p of the
money columns, standard scaling) so that profiles, rules and names are tested
independently of custseg's own preparation plan.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

import custseg

CC_PATH = Path(custseg.__file__).parent / "data" / "CC_GENERAL.csv"
MONEY = [
    "BALANCE",
    "PURCHASES",
    "ONEOFF_PURCHASES",
    "INSTALLMENTS_PURCHASES",
    "CASH_ADVANCE",
    "CREDIT_LIMIT",
    "PAYMENTS",
    "MINIMUM_PAYMENTS",
]


@functools.cache
def cc_frame() -> pd.DataFrame:
    """CC_GENERAL read by pandas itself (cached: copy before changing it)."""
    return pd.read_csv(CC_PATH)


@functools.cache
def cc_labels(k: int, seed: int = 0) -> np.ndarray:
    """K-means labels on CC_GENERAL prepared simply: median impute, log1p money, scale."""
    numeric = cc_frame().drop(columns="CUST_ID")
    prepared = numeric.fillna(numeric.median())
    prepared[MONEY] = np.log1p(prepared[MONEY])
    X = StandardScaler().fit_transform(prepared)
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(X)


def with_derived(frame: pd.DataFrame, names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """``frame`` plus the credit-card ratios documented in the guide (guarded divisions).

    ``names`` restricts the derived columns; all five by default.
    """
    out = frame.copy()

    def ratio(num: str, den: str) -> pd.Series:
        return out[num] / out[den].where(out[den] > 0)

    formulas = {
        "MONTHLY_AVG_PURCHASES": ("PURCHASES", "TENURE"),
        "MONTHLY_AVG_CASH_ADVANCE": ("CASH_ADVANCE", "TENURE"),
        "CREDIT_UTILISATION": ("BALANCE", "CREDIT_LIMIT"),
        "PAYMENT_MINIMUM_RATIO": ("PAYMENTS", "MINIMUM_PAYMENTS"),
        "AVG_TICKET": ("PURCHASES", "PURCHASES_TRX"),
    }
    for name, (num, den) in formulas.items():
        if names is None or name in names:
            out[name] = ratio(num, den)
    return out
