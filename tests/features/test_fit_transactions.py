"""``custseg fit --transactions``: transaction lines rolled up, then customers segmented."""

from __future__ import annotations

import json

from _transactions import retail_lines
from custseg.cli import main


def test_fit_transactions_segments_customers_not_lines(tmp_path, capsys) -> None:
    lines, expected, _ = retail_lines(n_customers=120, guests=8, seed=2)
    invoices = tmp_path / "invoices.csv"
    lines.to_csv(invoices, index=False)
    out = tmp_path / "segments"
    code = main(
        ["fit", "--input", str(invoices), "--transactions", "--out", str(out), "--no-report"]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Recipe: retail, chosen from the columns" in err
    assert "Rows left out: 8 without a customer id" in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert sum(metrics["sizes"]) == len(expected)  # customers, not the lines
    model = json.loads((out / "model.json").read_text())
    assert "recency_days" in json.dumps(model["schema"])
