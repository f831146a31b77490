"""The levels section holds 40 categorical columns with 100-character names at 1280 px."""

from __future__ import annotations

import numpy as np
import pandas as pd

from _chromium import opened
from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.report import write_report

_BOXES = """() => {
  for (const d of document.querySelectorAll('details.level-shares')) d.open = true;
  const section = document.querySelector('#profiles').getBoundingClientRect();
  return Array.from(document.querySelectorAll('#profiles .scroll')).map(box => {
    const r = box.getBoundingClientRect();
    return {left: r.left, right: r.right, sectionRight: section.right};
  });
}"""


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], 120)
    frame = pd.DataFrame(
        {
            "customer_ref": [f"C{i:04d}" for i in range(group.size)],
            "visits": rng.normal(10 + 10 * group, 2),
            "spend": rng.normal(100 + 50 * group, 10),
        }
    )
    for j in range(40):
        name = f"service_option_{j:02d}_" + "z" * 82
        assert len(name) == 100
        own = np.array(["Basic plan", "Premium plan", "No service"])[group]
        noise = rng.choice(["Basic plan", "Premium plan", "No service"], group.size)
        frame[name] = np.where(rng.random(group.size) < 0.8, own, noise)
    return frame


def test_forty_categorical_columns_with_long_names_keep_the_page_width(tmp_path):
    frame = _table()
    config = FitConfig(k=3, k_range=(2, 3), n_init=2, n_resamples=2)
    model = fit_segments(frame, config=config)
    written = write_report(model, frame, tmp_path / "report")
    html = written["report.html"].read_text(encoding="utf-8")
    assert html.count("service_option_") >= 40
    with opened(written["report.html"]) as (page, log):
        assert page.locator("#levels").is_visible()
        boxes = page.evaluate(_BOXES)
        widths = page.evaluate(
            "() => ({document: document.documentElement.scrollWidth, viewport: window.innerWidth})"
        )
    assert widths["document"] <= widths["viewport"] == 1280, widths
    assert boxes and all(b["right"] <= b["sectionRight"] + 0.5 for b in boxes), boxes
    assert not log.errors
