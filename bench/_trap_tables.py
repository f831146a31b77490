"""Synthetic customer tables with the shapes and traps of real public tables.

The bundled sample is not the world: these generators build tables shaped like three
public customer tables that custseg's first release was tried on, with their traps
(identifiers with plain names, outcome flags, scores of an earlier model with
130-character names, rare 0/1 flags, dates, CamelCase names, constant columns, text
categories, gaps). Each has a few latent customer types, overlapping as real customer
types do, plus columns that carry no structure at all.

``bank_churners``
    Shaped like Kaggle's "Credit Card customers" (BankChurners.csv, 10,127 rows): a
    unique 9-digit ``CLIENTNUM`` (no id-like name), the outcome ``Attrition_Flag``
    ("Attrited Customer" / "Existing Customer", 16%), categorical demographics with
    "Unknown" levels, a rare card category, transaction amounts in bands, and two
    naive-Bayes score columns whose names have 130 characters.
``bank_churn``
    Shaped like Kaggle's "Bank Customer Churn" (10,000 rows): ``RowNumber``, an
    8-digit ``CustomerId``, ``Surname`` (free text), CamelCase names, a balance that is
    zero for a third of the customers, 0/1 flags (``HasCrCard``, ``IsActiveMember``),
    the outcome ``Exited`` (20%) and ``Complain`` (almost the same column).
``retail``
    Shaped like Kaggle's "Customer Personality Analysis" (marketing_campaign.csv, 2,240
    rows): ``ID``, spend per product category (``MntWines``...), purchases per channel,
    campaign acceptances (0/1, one of them on 1.3% of customers), ``Complain`` (0.9%),
    the outcome ``Response``, a date ``Dt_Customer`` (dd-mm-yyyy), two constant columns
    and rare marital statuses.
``telco``
    Shaped like IBM's "Telco Customer Churn" (7,043 rows): a code ``customerID``
    (``7590-VHVEG``), mostly Yes/No and three-level service columns, a 0/1
    ``SeniorCitizen``, ``tenure`` and charges, ``TotalCharges`` stored as text with
    blanks for new customers, and the outcome ``Churn`` (Yes/No).

Used by ``bench/robust_k.py``, ``bench/rare_flags.py`` and the tests (``pytest`` puts
``bench/`` on the path)::

    from _trap_tables import TABLES, bank_churners
    frame = bank_churners(2000, random_state=0)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = [
    "TABLES",
    "NB_SCORE_1",
    "NB_SCORE_2",
    "bank_churn",
    "bank_churners",
    "retail",
    "telco",
]

NB_SCORE_1 = (
    "Naive_Bayes_Classifier_Attrition_Flag_Card_Category_Contacts_Count_12_mon_"
    "Dependent_count_Education_Level_Months_Inactive_12_mon_1"
)
NB_SCORE_2 = NB_SCORE_1[:-1] + "2"


def _types(rng: np.random.Generator, n: int, shares: list[float]) -> np.ndarray:
    return rng.choice(len(shares), size=n, p=np.asarray(shares) / sum(shares))


def _pick(rng: np.random.Generator, n: int, levels: dict[str, float]) -> np.ndarray:
    p = np.asarray(list(levels.values()), dtype=np.float64)
    return rng.choice(np.asarray(list(levels), dtype=object), size=n, p=p / p.sum())


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    values = rng.choice(np.arange(low, high, dtype=np.int64), size=n, replace=False)
    return np.asarray(values, dtype=np.int64)


def bank_churners(n: int = 10_127, random_state: int = 0) -> pd.DataFrame:
    """A credit-card attrition table shaped like Kaggle's BankChurners.csv.

    Latent types: low-activity revolvers (45%), regular users (35%), high spenders
    (12%) and very high spenders with large limits (8%); attrition is more frequent
    among inactive customers with few transactions.
    """
    rng = np.random.default_rng(random_state)
    kind = _types(rng, n, [0.45, 0.35, 0.12, 0.08])
    age = np.clip(rng.normal(46, 8, n).round(), 26, 73).astype(np.int64)
    gender = np.where(rng.random(n) < 0.53, "F", "M")
    income = _pick(
        rng,
        n,
        {
            "Less than $40K": 35,
            "$40K - $60K": 18,
            "$80K - $120K": 15,
            "$60K - $80K": 14,
            "Unknown": 11,
            "$120K +": 7,
        },
    )
    card = _pick(rng, n, {"Blue": 93.2, "Silver": 5.5, "Gold": 1.1, "Platinum": 0.2})
    limit_base = np.array([4000.0, 6000.0, 11000.0, 20000.0])[kind]
    limit = limit_base * rng.lognormal(0, 0.55, n) * np.where(gender == "M", 1.6, 1.0)
    limit = np.clip(limit, 1438.3, 34516.0).round(1)
    revolving = np.where(
        rng.random(n) < np.array([0.12, 0.3, 0.3, 0.35])[kind],
        0.0,
        np.clip(rng.normal(np.array([1500, 1100, 1200, 1000])[kind], 500), 132, 2517),
    )
    revolving = np.minimum(revolving, 0.95 * limit).round()
    amount_centre = np.array([1700.0, 4200.0, 8200.0, 14500.0])[kind]
    trans_amt = np.clip(amount_centre * rng.lognormal(0, 0.22, n), 510, 18484).round()
    count_centre = np.array([38.0, 70.0, 80.0, 108.0])[kind]
    trans_ct = np.clip(rng.normal(count_centre, 9.0), 10, 139).round()
    inactive = np.clip(rng.poisson(np.array([2.6, 2.2, 1.9, 1.8])[kind]), 0, 6)
    contacts = np.clip(rng.poisson(2.4, n), 0, 6)
    ct_change = np.clip(rng.normal(np.array([0.62, 0.72, 0.74, 0.76])[kind], 0.2), 0, 3.7)
    logit = (
        -2.6
        + 0.55 * (inactive - 2)
        + 0.35 * (contacts - 2.4)
        - 0.06 * (trans_ct - 60)
        - 2.2 * (ct_change - 0.7)
        + 0.9 * (revolving == 0)
    )
    attrited = rng.random(n) < 1 / (1 + np.exp(-logit))
    # An earlier model's posterior, as the public table ships it: near 0 or near 1.
    nb = np.where(
        attrited,
        rng.uniform(0.9955, 0.99999, n),
        rng.uniform(0.0000080, 0.00060, n),
    ).round(8)
    frame = pd.DataFrame(
        {
            "CLIENTNUM": _unique_ints(rng, n, 708_082_083, 828_343_083),
            "Attrition_Flag": np.where(attrited, "Attrited Customer", "Existing Customer"),
            "Customer_Age": age,
            "Gender": gender,
            "Dependent_count": np.clip(rng.poisson(2.3, n), 0, 5),
            "Education_Level": _pick(
                rng,
                n,
                {
                    "Graduate": 31,
                    "High School": 20,
                    "Unknown": 15,
                    "Uneducated": 15,
                    "College": 10,
                    "Post-Graduate": 5,
                    "Doctorate": 4,
                },
            ),
            "Marital_Status": _pick(
                rng, n, {"Married": 46, "Single": 39, "Unknown": 7, "Divorced": 7}
            ),
            "Income_Category": income,
            "Card_Category": card,
            "Months_on_book": np.clip(
                np.where(rng.random(n) < 0.24, 36, rng.normal(36, 8, n).round()), 13, 56
            ).astype(np.int64),
            "Total_Relationship_Count": rng.integers(1, 7, n),
            "Months_Inactive_12_mon": inactive,
            "Contacts_Count_12_mon": contacts,
            "Credit_Limit": limit,
            "Total_Revolving_Bal": revolving,
            "Avg_Open_To_Buy": (limit - revolving).round(1),
            "Total_Amt_Chng_Q4_Q1": np.clip(rng.normal(0.76, 0.22, n), 0, 3.4).round(3),
            "Total_Trans_Amt": trans_amt,
            "Total_Trans_Ct": trans_ct,
            "Total_Ct_Chng_Q4_Q1": ct_change.round(3),
            "Avg_Utilization_Ratio": (revolving / limit).round(3),
            NB_SCORE_1: nb,
            NB_SCORE_2: (1 - nb).round(8),
        }
    )
    return frame


_SYLLABLES = ["ha", "mi", "lo", "ber", "ton", "son", "ri", "che", "wa", "ng", "ov", "el", "ar"]


def bank_churn(n: int = 10_000, random_state: int = 0) -> pd.DataFrame:
    """A retail-bank churn table shaped like Kaggle's "Bank Customer Churn".

    Latent types: savers with a balance and one product (40%), everyday customers
    with no balance and two products (35%), older wealthy customers (15%) and young
    low-engagement customers (10%).
    """
    rng = np.random.default_rng(random_state)
    kind = _types(rng, n, [0.40, 0.35, 0.15, 0.10])
    geography = _pick(rng, n, {"France": 50, "Germany": 25, "Spain": 25})
    age = np.clip(
        rng.normal(np.array([40.0, 36.0, 55.0, 27.0])[kind], np.array([8.0, 7.0, 7.0, 4.0])[kind]),
        18,
        92,
    ).round()
    zero_balance = (rng.random(n) < np.array([0.05, 0.92, 0.1, 0.6])[kind]) & (
        geography != "Germany"
    )
    balance = np.where(
        zero_balance,
        0.0,
        rng.normal(np.array([115e3, 60e3, 150e3, 40e3])[kind], 28e3).clip(3768.69, 250898.09),
    ).round(2)
    products = np.array(
        [
            rng.choice([1, 2, 3, 4], p=p)
            for p in np.array(
                [
                    [0.80, 0.17, 0.025, 0.005],
                    [0.15, 0.82, 0.025, 0.005],
                    [0.45, 0.45, 0.08, 0.02],
                    [0.65, 0.32, 0.025, 0.005],
                ]
            )[kind]
        ]
    )
    active = rng.random(n) < np.array([0.5, 0.55, 0.7, 0.25])[kind]
    has_card = rng.random(n) < 0.7
    logit = (
        -1.9
        + 0.07 * (age - 40)
        + 0.8 * (geography == "Germany")
        - 0.9 * active
        + 2.5 * (products >= 3)
        - 0.6 * (products == 2)
    )
    exited = rng.random(n) < 1 / (1 + np.exp(-logit))
    complain = np.where(rng.random(n) < 0.995, exited, ~exited)
    surnames = [
        "".join(rng.choice(_SYLLABLES, size=rng.integers(2, 4))).capitalize() for _ in range(n)
    ]
    frame = pd.DataFrame(
        {
            "RowNumber": np.arange(1, n + 1),
            "CustomerId": _unique_ints(rng, n, 15_565_701, 15_815_691),
            "Surname": surnames,
            "CreditScore": np.clip(rng.normal(650, 97, n), 350, 850).round().astype(np.int64),
            "Geography": geography,
            "Gender": np.where(rng.random(n) < 0.545, "Male", "Female"),
            "Age": age.astype(np.int64),
            "Tenure": rng.integers(0, 11, n),
            "Balance": balance,
            "NumOfProducts": products.astype(np.int64),
            "HasCrCard": has_card.astype(np.int64),
            "IsActiveMember": active.astype(np.int64),
            "EstimatedSalary": rng.uniform(11.58, 199_992.48, n).round(2),
            "Exited": exited.astype(np.int64),
            "Complain": complain.astype(np.int64),
            "Satisfaction Score": rng.integers(1, 6, n),
            "Card Type": _pick(rng, n, {"DIAMOND": 25, "GOLD": 25, "SILVER": 25, "PLATINUM": 25}),
            "Point Earned": rng.integers(119, 1001, n),
        }
    )
    return frame


def retail(n: int = 2_240, random_state: int = 0) -> pd.DataFrame:
    """A retail purchase-history table shaped like Kaggle's marketing_campaign.csv.

    Latent types: families with young children and small baskets (45%), households
    with teenagers who buy on deals and online (30%), affluent customers without
    children who buy wine and meat by catalogue and in store (25%).
    """
    rng = np.random.default_rng(random_state)
    kind = _types(rng, n, [0.45, 0.30, 0.25])
    income = np.clip(rng.normal(np.array([35e3, 58e3, 76e3])[kind], 9e3), 1730, 162397).round()
    income[rng.choice(n, size=max(1, n // 93), replace=False)] = np.nan
    kid = np.clip(rng.poisson(np.array([1.0, 0.15, 0.03])[kind]), 0, 2)
    kid[kind == 0] = np.maximum(kid[kind == 0], rng.random((kind == 0).sum()) < 0.75)
    teen = np.clip(rng.poisson(np.array([0.35, 1.0, 0.15])[kind]), 0, 2)

    def spend(centres: list[float], spread: float = 0.7) -> np.ndarray:
        return np.round(np.array(centres)[kind] * rng.lognormal(0, spread, n))

    def count(centres: list[float]) -> np.ndarray:
        return rng.poisson(np.array(centres)[kind])

    def accepted(rates: list[float]) -> np.ndarray:
        return (rng.random(n) < np.array(rates)[kind]).astype(np.int64)

    start = np.datetime64("2012-07-30")
    joined = start + rng.integers(0, 700, n).astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "ID": _unique_ints(rng, n, 0, 11_192),
            "Year_Birth": np.clip(rng.normal(1969, 12, n).round(), 1940, 1996).astype(np.int64),
            "Education": _pick(
                rng, n, {"Graduation": 50, "PhD": 22, "Master": 17, "2n Cycle": 9, "Basic": 2}
            ),
            "Marital_Status": _pick(
                rng,
                n,
                {
                    "Married": 38.6,
                    "Together": 25.9,
                    "Single": 21.4,
                    "Divorced": 10.4,
                    "Widow": 3.4,
                    "Alone": 0.15,
                    "Absurd": 0.09,
                    "YOLO": 0.09,
                },
            ),
            "Income": income,
            "Kidhome": kid.astype(np.int64),
            "Teenhome": teen.astype(np.int64),
            "Dt_Customer": pd.to_datetime(joined).strftime("%d-%m-%Y"),
            "Recency": rng.integers(0, 100, n),
            "MntWines": spend([25, 350, 620]),
            "MntFruits": spend([3, 12, 55], 0.9),
            "MntMeatProducts": spend([15, 90, 420]),
            "MntFishProducts": spend([4, 15, 80], 0.9),
            "MntSweetProducts": spend([3, 12, 55], 0.9),
            "MntGoldProds": spend([10, 45, 70], 0.8),
            "NumDealsPurchases": count([2.0, 4.0, 1.2]),
            "NumWebPurchases": count([2.2, 6.0, 5.0]),
            "NumCatalogPurchases": count([0.5, 2.5, 5.5]),
            "NumStorePurchases": count([3.3, 7.5, 8.5]),
            "NumWebVisitsMonth": count([6.5, 5.8, 2.8]),
            "AcceptedCmp3": accepted([0.07, 0.07, 0.08]),
            "AcceptedCmp4": accepted([0.01, 0.1, 0.12]),
            "AcceptedCmp5": accepted([0.0, 0.02, 0.25]),
            "AcceptedCmp1": accepted([0.0, 0.03, 0.21]),
            "AcceptedCmp2": accepted([0.002, 0.015, 0.035]),
            "Complain": (rng.random(n) < 0.009).astype(np.int64),
            "Z_CostContact": 3,
            "Z_Revenue": 11,
            "Response": accepted([0.09, 0.12, 0.3]),
        }
    )
    return frame


def telco(n: int = 7_043, random_state: int = 0) -> pd.DataFrame:
    """A telecom churn table shaped like IBM's "Telco Customer Churn".

    Latent types: phone-only customers (22%), DSL households (34%) and fibre customers
    who stream (44%); contracts and tenure vary within each.
    """
    rng = np.random.default_rng(random_state)
    kind = _types(rng, n, [0.22, 0.34, 0.44])
    internet = np.array(["No", "DSL", "Fiber optic"], dtype=object)[kind]
    contract = np.array(
        [
            rng.choice(["Month-to-month", "One year", "Two year"], p=p)
            for p in np.array([[0.35, 0.25, 0.40], [0.50, 0.25, 0.25], [0.70, 0.18, 0.12]])[kind]
        ],
        dtype=object,
    )
    tenure_centre = np.select(
        [contract == "Month-to-month", contract == "One year"], [10.0, 35.0], 58.0
    )
    tenure = np.clip(rng.normal(tenure_centre, 12), 0, 72).round().astype(np.int64)
    has_phone = (kind == 0) | (rng.random(n) < 0.9)

    def service(yes_share: list[float]) -> np.ndarray:
        yes = rng.random(n) < np.array(yes_share)[kind]
        return np.where(kind == 0, "No internet service", np.where(yes, "Yes", "No"))

    streaming_tv = service([0.0, 0.25, 0.65])
    streaming_movies = service([0.0, 0.25, 0.65])
    monthly = (
        np.array([20.0, 48.0, 78.0])[kind]
        + 10 * (streaming_tv == "Yes")
        + 10 * (streaming_movies == "Yes")
        + rng.normal(0, 3, n)
    ).round(2)
    total = np.where(tenure == 0, " ", (monthly * tenure * rng.uniform(0.95, 1.05, n)).round(2))
    logit = (
        -1.2
        + 1.2 * (contract == "Month-to-month")
        - 0.04 * tenure
        + 0.8 * (internet == "Fiber optic")
        - 0.6 * (kind == 0)
    )
    codes = [
        f"{rng.integers(1000, 9999)}-{''.join(rng.choice(list('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), 5))}"
        for _ in range(n)
    ]
    return pd.DataFrame(
        {
            "customerID": codes,
            "gender": np.where(rng.random(n) < 0.5, "Male", "Female"),
            "SeniorCitizen": (rng.random(n) < 0.16).astype(np.int64),
            "Partner": np.where(rng.random(n) < 0.48, "Yes", "No"),
            "Dependents": np.where(rng.random(n) < 0.3, "Yes", "No"),
            "tenure": tenure,
            "PhoneService": np.where(has_phone, "Yes", "No"),
            "MultipleLines": np.where(
                ~has_phone, "No phone service", np.where(rng.random(n) < 0.45, "Yes", "No")
            ),
            "InternetService": internet,
            "OnlineSecurity": service([0.0, 0.45, 0.25]),
            "OnlineBackup": service([0.0, 0.45, 0.40]),
            "DeviceProtection": service([0.0, 0.35, 0.45]),
            "TechSupport": service([0.0, 0.45, 0.25]),
            "StreamingTV": streaming_tv,
            "StreamingMovies": streaming_movies,
            "Contract": contract,
            "PaperlessBilling": np.where(
                rng.random(n) < np.array([0.3, 0.55, 0.75])[kind], "Yes", "No"
            ),
            "PaymentMethod": _pick(
                rng,
                n,
                {
                    "Electronic check": 34,
                    "Mailed check": 23,
                    "Bank transfer (automatic)": 22,
                    "Credit card (automatic)": 21,
                },
            ),
            "MonthlyCharges": monthly,
            "TotalCharges": total.astype(str),
            "Churn": np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No"),
        }
    )


TABLES: dict[str, Callable[..., pd.DataFrame]] = {
    "bank_churners": bank_churners,
    "bank_churn": bank_churn,
    "retail": retail,
    "telco": telco,
}
"""Every generator by name, at the size of the public table it imitates."""
