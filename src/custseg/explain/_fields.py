"""The field checks every part of a playbook's validation shares: one error per problem.

Each check raises a one-line :class:`~custseg.exceptions.ConfigError` that names the
file, the field (``[levers].raise``, ``segments.dormant.name``), what is wrong and the
fix; :mod:`custseg.explain.playbook` and :mod:`custseg.explain.advice` build on them.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import ConfigError

__all__ = ["FieldChecks"]


class FieldChecks:
    """Checks of the fields of one playbook file, quoting ``source`` in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"playbook {self.source}: {where} {problem}; {fix}")

    def patterns(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(
                where, "is empty or not a list", 'list column names or patterns, e.g. ["Mnt*"]'
            )
        return tuple(self.text(v, f"{where}[{i}]") for i, v in enumerate(value))

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"is {value!r}", "use a non-empty string")
        return value.strip()

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"is {type(value).__name__}", "make it a table")
        return value

    def known(self, body: dict[str, Any], where: str, allowed: set[str]) -> None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise self.fail(
                where,
                f"has unknown field {unknown[0]!r}",
                f"use only {', '.join(sorted(allowed))}",
            )
