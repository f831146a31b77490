"""Tables and report data for the tests of the sensitive-attribute audit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from _report_data import hand_made_report_data
from custseg.explain.audit import audit_segments, flag_text

LONG = (
    "Customer_Self_Reported_Ethnic_Background_As_Recorded_At_Account_Opening_By_The_Branch_Staff"
    "_Member_On_Duty_That_Day"
)
"""A protected column with a 115-character name and no space to wrap at."""


def audit_report_data(k: int = 2) -> dict[str, Any]:
    """Report data whose segment 1 is 90% women against 50% overall, and a long column."""
    n = 400
    labels = np.repeat([0, 1], n)
    women = np.concatenate([np.arange(n) < n // 10, np.arange(n) < 9 * n // 10])
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "Sex": np.where(women, "Female", "Male"),
            "Age": rng.integers(20, 80, 2 * n),
            LONG: rng.choice(
                ["White", "Asian or Asian British: Pakistani heritage", "Black"], 2 * n
            ),
        }
    )
    audit = audit_segments(
        frame, labels, {"Sex": "sex/gender", "Age": "age", LONG: "race/ethnicity"}, clustered=[]
    ).to_dict()
    data = hand_made_report_data(k=k)
    names = [seg["name"] for seg in data["segments"]]
    texts = [flag_text(f, names[f["segment_id"]]) for f in audit["flags"]]
    data["audit"] = {**audit, "source": "table", "flag_texts": texts}
    return data


def gender_trap(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Two behaviour groups; the low spenders are 90% women, the others 10%: 50% overall."""
    rng = np.random.default_rng(seed)
    low = np.arange(n) < n // 2
    women = np.where(low, rng.random(n) < 0.9, rng.random(n) < 0.1)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "Sex": np.where(women, "Female", "Male"),
            "monthly_spend": np.where(low, rng.normal(80, 10, n), rng.normal(400, 40, n)),
            "store_visits": np.where(low, rng.poisson(2, n), rng.poisson(9, n)),
        }
    ).sample(frac=1.0, random_state=seed, ignore_index=True)
