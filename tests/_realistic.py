"""Synthetic tables shaped like public customer tables custseg is judged on.

Each generator follows the columns, value formats and known structure of a well-known
public table, so that a known-answer test meets the traps of the real one:

- :func:`attrition_table`: a bank's credit-card attrition table (the "BankChurners"
  layout): a 9-digit ``CLIENTNUM``, the ``Attrition_Flag`` outcome as text, the
  demographics (``Customer_Age``, ``Gender``, ``Dependent_count``, ``Education_Level``,
  ``Marital_Status``, ``Income_Category``), behaviour over twelve months, a redundant
  ``Avg_Open_To_Buy`` (= ``Credit_Limit - Total_Revolving_Bal``) and two model-output
  columns with 130-character names;
- :func:`telco_table`: a telecom's churn table (the "Telco customer churn" layout): a
  code-like ``customerID``, demographics, one Yes/No/"No internet service" column per
  add-on (six columns share the "No internet service" level with ``InternetService =
  No``), contracts, charges, ``TotalCharges`` as text with blanks, ``Churn`` as Yes/No;
- :func:`mall_table`: the small "mall customers" table (``CustomerID``, ``Gender``,
  ``Age``, ``Annual Income (k$)``, ``Spending Score (1-100)``): five groups by income and
  spending score, and an age that differs between them more than anything else.

Every generator returns the table and the planted group of every row; group sizes,
rates and correlations follow what the public tables show (attrition 16%, telco churn
27% with 22% of customers without internet service, 55% month-to-month).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NB_COLUMNS = (
    "Naive_Bayes_Classifier_Attrition_Flag_Card_Category_Contacts_Count_12_mon"
    "_Dependent_count_Education_Level_Months_Inactive_12_mon_1",
    "Naive_Bayes_Classifier_Attrition_Flag_Card_Category_Contacts_Count_12_mon"
    "_Dependent_count_Education_Level_Months_Inactive_12_mon_2",
)
"""The two model-output columns of the attrition table (130 characters each)."""

# Planted groups of the attrition table.
ENGAGED, HIGH_SPENDERS, DISENGAGED, REVOLVERS = 0, 1, 2, 3
# Planted groups of the telco table.
NO_INTERNET, NEW_FIBRE, LOYAL_BUNDLED, DSL_BASIC = 0, 1, 2, 3

_EDUCATION = ("Graduate", "High School", "Unknown", "Uneducated", "College", "Post-Graduate")
_EDUCATION_P = (0.31, 0.20, 0.15, 0.15, 0.10, 0.09)
_MARITAL = ("Married", "Single", "Unknown", "Divorced")
_MARITAL_P = (0.46, 0.39, 0.08, 0.07)
_INCOME = ("Less than $40K", "$40K - $60K", "$60K - $80K", "$80K - $120K", "$120K +", "Unknown")
_ADD_ONS = (
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)


def attrition_table(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Card holders: engaged, high spenders, disengaged (who leave) and revolvers.

    The behaviour columns carry the groups; the demographics do not (except that men
    have higher incomes and limits, as in the public table): a segmentation that splits
    on gender or education clusters on who customers are, not on what they do. The
    disengaged group leaves at about 55%, the others at 3-10%: 16% overall.
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(
        [ENGAGED, HIGH_SPENDERS, DISENGAGED, REVOLVERS], size=n, p=[0.50, 0.09, 0.21, 0.20]
    )
    g = {
        name: group == value
        for name, value in (
            ("eng", ENGAGED),
            ("high", HIGH_SPENDERS),
            ("dis", DISENGAGED),
            ("rev", REVOLVERS),
        )
    }
    male = rng.random(n) < 0.47
    age = np.clip(rng.normal(46, 8, n), 26, 73).round()
    months_on_book = np.clip(age - 10 + rng.normal(0, 5, n), 13, 56).round()
    income_code = np.where(
        male,
        rng.choice(6, n, p=[0.10, 0.18, 0.30, 0.25, 0.15, 0.02]),
        rng.choice(6, n, p=[0.60, 0.25, 0.02, 0.01, 0.01, 0.11]),
    )
    limit = np.clip(
        np.exp(rng.normal(8.6 + 0.25 * np.minimum(income_code, 4) / 4 + 0.5 * g["high"], 0.6)),
        1438,
        34516,
    ).round(0)
    revolving = np.where(
        g["rev"],
        rng.uniform(1500, 2517, n),
        np.where(rng.random(n) < 0.25, 0.0, rng.uniform(300, 1800, n)),
    )
    revolving = np.where(g["dis"] & (rng.random(n) < 0.5), 0.0, revolving).round(0)
    trans_ct = np.where(
        g["high"],
        rng.normal(110, 12, n),
        np.where(g["dis"], rng.normal(44, 10, n), rng.normal(70, 12, n)),
    )
    trans_ct = np.clip(trans_ct, 10, 139).round()
    ticket = np.where(g["high"], rng.normal(130, 12, n), rng.normal(62, 10, n))
    trans_amt = np.clip(trans_ct * ticket, 510, 18484).round(0)
    churn_p = np.select([g["dis"], g["rev"], g["high"]], [0.55, 0.03, 0.05], 0.10)
    attrited = rng.random(n) < churn_p
    frame = pd.DataFrame(
        {
            "CLIENTNUM": rng.choice(np.arange(708_082_083, 828_343_083), n, replace=False),
            "Attrition_Flag": np.where(attrited, "Attrited Customer", "Existing Customer"),
            "Customer_Age": age.astype(int),
            "Gender": np.where(male, "M", "F"),
            "Dependent_count": rng.choice(6, n, p=[0.09, 0.18, 0.26, 0.27, 0.15, 0.05]),
            "Education_Level": rng.choice(_EDUCATION, n, p=_EDUCATION_P),
            "Marital_Status": rng.choice(_MARITAL, n, p=_MARITAL_P),
            "Income_Category": np.array(_INCOME)[income_code],
            "Card_Category": rng.choice(
                ["Blue", "Silver", "Gold", "Platinum"], n, p=[0.93, 0.055, 0.012, 0.003]
            ),
            "Months_on_book": months_on_book.astype(int),
            "Total_Relationship_Count": np.where(
                g["dis"], rng.integers(1, 4, n), rng.integers(2, 7, n)
            ),
            "Months_Inactive_12_mon": np.where(
                g["dis"], rng.integers(2, 7, n), rng.integers(0, 4, n)
            ),
            "Contacts_Count_12_mon": np.where(
                g["dis"], rng.integers(2, 7, n), rng.integers(0, 4, n)
            ),
            "Credit_Limit": limit,
            "Total_Revolving_Bal": revolving.astype(int),
            "Avg_Open_To_Buy": limit - revolving,
            "Total_Amt_Chng_Q4_Q1": np.clip(
                rng.normal(np.where(g["dis"], 0.62, 0.78), 0.15, n), 0, 3.4
            ).round(3),
            "Total_Trans_Amt": trans_amt.astype(int),
            "Total_Trans_Ct": trans_ct.astype(int),
            "Total_Ct_Chng_Q4_Q1": np.clip(
                rng.normal(np.where(g["dis"], 0.55, 0.74), 0.15, n), 0, 3.7
            ).round(3),
            "Avg_Utilization_Ratio": (revolving / limit).round(3),
        }
    )
    nb = np.clip(np.where(attrited, 0.99, 0.0001) + rng.normal(0, 0.0005, n), 0, 1)
    frame[NB_COLUMNS[0]] = nb.round(5)
    frame[NB_COLUMNS[1]] = (1 - nb).round(5)
    return frame, group


def telco_table(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers without internet, new fibre customers (who leave), loyal bundles, basic DSL.

    The six add-on columns and ``InternetService = No`` encode one fact ("no internet
    service"); ``TotalCharges`` is about ``tenure * MonthlyCharges`` (as text, blank for
    customers of tenure 0); churn is 45% among new fibre customers, 7% without internet.
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(
        [NO_INTERNET, NEW_FIBRE, LOYAL_BUNDLED, DSL_BASIC], size=n, p=[0.22, 0.33, 0.25, 0.20]
    )
    no_net, fibre_new, loyal, dsl = (group == v for v in range(4))
    internet = np.select(
        [no_net, fibre_new, loyal],
        ["No", "Fiber optic", rng.choice(["Fiber optic", "DSL"], n, p=[0.6, 0.4])],
        "DSL",
    )
    tenure = np.select(
        [no_net, fibre_new, loyal],
        [rng.integers(1, 73, n), rng.integers(0, 19, n), rng.integers(36, 73, n)],
        rng.integers(1, 40, n),
    )
    contract = np.select(
        [no_net, fibre_new, loyal],
        [
            rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.34, 0.25, 0.41]),
            rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.93, 0.06, 0.01]),
            rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.12, 0.35, 0.53]),
        ],
        rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.70, 0.20, 0.10]),
    )
    add_on_p = np.select([fibre_new, loyal], [0.25, 0.75], 0.35)
    add_ons = {
        name: np.where(
            no_net, "No internet service", np.where(rng.random(n) < add_on_p, "Yes", "No")
        )
        for name in _ADD_ONS
    }
    n_add_ons = sum((values == "Yes").astype(int) for values in add_ons.values())
    phone = np.where(dsl & (rng.random(n) < 0.3), "No", "Yes")
    lines = np.where(phone == "No", "No phone service", np.where(rng.random(n) < 0.45, "Yes", "No"))
    base = np.select([no_net, internet == "Fiber optic"], [20.0, 70.0], 45.0)
    monthly = (base + 5 * n_add_ons + 5 * (lines == "Yes") + rng.normal(0, 2, n)).round(2)
    total = np.where(tenure == 0, " ", (monthly * np.maximum(tenure, 1)).round(2).astype(str))
    churn_p = np.select([no_net, fibre_new, loyal], [0.07, 0.45, 0.05], 0.25)
    frame = pd.DataFrame(
        {
            "customerID": _telco_ids(rng, n),
            "gender": rng.choice(["Female", "Male"], n),
            "SeniorCitizen": (rng.random(n) < 0.16).astype(int),
            "Partner": np.where(rng.random(n) < np.where(loyal, 0.7, 0.4), "Yes", "No"),
            "Dependents": np.where(rng.random(n) < 0.3, "Yes", "No"),
            "tenure": tenure,
            "PhoneService": phone,
            "MultipleLines": lines,
            "InternetService": internet,
            **add_ons,
            "Contract": contract,
            "PaperlessBilling": np.where(
                rng.random(n) < np.where(fibre_new, 0.75, 0.5), "Yes", "No"
            ),
            "PaymentMethod": rng.choice(
                [
                    "Electronic check",
                    "Mailed check",
                    "Bank transfer (automatic)",
                    "Credit card (automatic)",
                ],
                n,
            ),
            "MonthlyCharges": monthly,
            "TotalCharges": total,
            "Churn": np.where(rng.random(n) < churn_p, "Yes", "No"),
        }
    )
    return frame, group


def _telco_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Unique codes like ``7590-VHVEG``."""
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    ids: dict[str, None] = {}
    while len(ids) < n:
        digits = rng.integers(1000, 10000)
        ids[f"{digits}-{''.join(rng.choice(letters, 5))}"] = None
    return list(ids)


def mall_table(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Five groups by annual income and spending score; age differs most between them."""
    rng = np.random.default_rng(seed)
    centres = np.array(
        # income k$, spending score, mean age
        [[26, 20, 45], [26, 79, 25], [55, 50, 43], [87, 18, 41], [86, 82, 32]],
        dtype=float,
    )
    group = rng.choice(5, size=n, p=[0.11, 0.11, 0.40, 0.19, 0.19])
    income = np.clip(centres[group, 0] + rng.normal(0, 7, n), 15, 137).round()
    score = np.clip(centres[group, 1] + rng.normal(0, 7, n), 1, 99).round()
    age = np.clip(centres[group, 2] + rng.normal(0, 6, n), 18, 70).round()
    frame = pd.DataFrame(
        {
            "CustomerID": np.arange(1, n + 1),
            "Gender": rng.choice(["Female", "Male"], n, p=[0.56, 0.44]),
            "Age": age.astype(int),
            "Annual Income (k$)": income.astype(int),
            "Spending Score (1-100)": score.astype(int),
        }
    )
    return frame, group
