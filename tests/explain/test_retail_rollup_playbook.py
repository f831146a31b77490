"""Customers rolled up by the retail recipe are named by the retail playbook."""

from __future__ import annotations

from _transactions import retail_lines
from custseg import build_features, fit_segments
from custseg.explain import choose_playbook


def test_the_retail_recipe_output_speaks_retail() -> None:
    customers = build_features(retail_lines(n_customers=300, seed=4)[0]).frame
    choice = choose_playbook(list(customers.columns), None)
    assert choice.playbook.key == "retail"
    found = dict(choice.match.found)
    assert set(found["spend by product category"]) >= {"monetary", "average_order_value"}
    assert found["recency"] == ("recency_days",)
    model = fit_segments(customers, k=3, k_range=(3, 3))
    assert model.playbook.key == "retail"
    texts = " ".join(" ".join(s.strategies) for s in model.segments)
    # Strategies change what a retailer can influence, never who the customer is.
    assert "tenure" not in texts.lower()
