"""What every custseg page shares: one Jinja environment and images inlined as data."""

from __future__ import annotations

import base64
import functools
import re
from typing import Any

import jinja2
from markupsafe import Markup, escape

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


# After a separator, and between a lower-case letter and a capital (CamelCase).
_BREAK_AFTER = re.compile(r"(?<=[_.\-])(?=\w)|(?<=[a-z])(?=[A-Z])")


def wrap_name(name: Any) -> Markup:
    """A column name that wraps at its own word boundaries in a narrow table cell.

    ``Naive_Bayes_Classifier_Attrition_Flag`` gets a line-break opportunity
    (``<wbr>``) after each underscore, dot or hyphen and inside CamelCase, so
    a 100-character name breaks between its words ("Attrition_" / "Flag") rather
    than at any letter; the page's ``overflow-wrap: anywhere`` is left for names
    without such a boundary. The text is escaped first: only ``<wbr>`` is markup.
    """
    parts = _BREAK_AFTER.split(str(name))
    return Markup("<wbr>").join(escape(part) for part in parts)


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
        wrap_name=wrap_name,
    )
    return env
