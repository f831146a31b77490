"""The audit tables in Chromium at 1280 px: long names wrap, the page never scrolls sideways."""

from __future__ import annotations

from _audit_data import audit_report_data
from _chromium import opened
from custseg.report._format import displayed
from custseg.report._pages import environment


def test_the_audit_table_keeps_the_segment_column_readable_at_1280_pixels(tmp_path) -> None:
    data = audit_report_data()
    data["segments"][1]["name"] = "Revolvers who carry a balance and pay the minimum every month"
    page = tmp_path / "audit.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        + environment().get_template("_style.html").render()
        + "</style></head><body><main class='wrap'>"
        + environment().get_template("_audit.html").render(data=displayed(data))
        + "</main></body></html>"
    )
    with opened(page) as (tab, log):
        widths = tab.evaluate(
            "Array.from(document.querySelectorAll('table.audit td.segment'))"
            ".map(e => e.getBoundingClientRect().width)"
        )
        overflow = tab.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
    assert not log.errors
    assert not overflow
    assert min(widths) >= 180  # a segment name reads in a few lines, never a letter a line
