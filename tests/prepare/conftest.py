"""Fixtures of the preparation tests."""

from __future__ import annotations

import pandas as pd
import pytest

from _credit_cards import CC_PATH


@pytest.fixture(scope="module")
def cc() -> pd.DataFrame:
    """CC_GENERAL read by pandas itself (a fresh copy per test module)."""
    return pd.read_csv(CC_PATH)
