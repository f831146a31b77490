"""What every custseg page shares: one Jinja environment and images inlined as data."""

from __future__ import annotations

import base64
import functools

import jinja2

from ._format import (
    fmt_int,
    fmt_label,
    fmt_lift,
    fmt_metric,
    fmt_number,
    fmt_outcome,
    fmt_psi,
    fmt_share,
    fmt_timestamp,
)


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI: the pages stay single files that work offline."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of the report and the drift report, with their number filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("custseg.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(
        int_fmt=fmt_int,
        num_fmt=fmt_number,
        share_fmt=fmt_share,
        lift_fmt=fmt_lift,
        metric_fmt=fmt_metric,
        date_fmt=fmt_timestamp,
        outcome_fmt=fmt_outcome,
        label_fmt=fmt_label,
        psi_fmt=fmt_psi,
    )
    return env
