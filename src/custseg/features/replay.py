"""What a model keeps of the roll-up it was fitted on, and the same roll-up on new lines.

A model fitted from transactions (``custseg fit --transactions``) stores
:func:`rollup_record` in ``model.training["transactions"]``: the manifest of the
roll-up (recipe, window, as-of date and how it was set, counts of every row left out)
and the ``options`` that make it again, namely the recipe, the column of each role and
the window rule. :func:`replay_rollup` applies those options to new transaction lines,
so that ``custseg score --transactions`` and ``custseg drift --transactions`` see
customers built exactly as the training customers were. The as-of date is not
replayed: new lines end on their own last day unless one is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import ConfigError, ModelError
from .build import ROLE_OPTIONS, FeatureResult, Source, build_features

__all__ = ["REPLAYED_OPTIONS", "replay_rollup", "rollup_record"]

REPLAYED_OPTIONS = ("window", "date_format")
"""Options of :func:`build_features` kept as given; the recipe and columns come from the
result (what was found, not only what was asked)."""


def rollup_record(result: FeatureResult, options: Mapping[str, Any]) -> dict[str, Any]:
    """The roll-up as a fitted model keeps it (JSON-ready).

    Parameters
    ----------
    result : FeatureResult
        What :func:`build_features` returned.
    options : mapping
        The keyword arguments it was called with.

    Returns
    -------
    dict
        ``result.to_dict()`` plus ``options``: the recipe, the transactions' column of
        each role and the window rule (and a date format if one was given).
    """
    replay: dict[str, Any] = {"recipe": result.recipe}
    replay.update(result.columns.get("transactions", {}))
    replay.update({k: options[k] for k in REPLAYED_OPTIONS if options.get(k) is not None})
    replay = {
        k: v
        for k, v in replay.items()
        if k == "recipe" or k in ROLE_OPTIONS or k in REPLAYED_OPTIONS
    }
    return {**result.to_dict(), "options": replay}


def replay_rollup(
    source: Source,
    record: Mapping[str, Any],
    *,
    progress: Progress = NO_PROGRESS,
    **given: Any,
) -> FeatureResult:
    """Roll new transaction lines up as a model's training lines were.

    Parameters
    ----------
    source : path-like or DataSource
        The new transaction lines.
    record : mapping
        ``model.training["transactions"]`` (:func:`rollup_record`).
    progress : Progress, default=NO_PROGRESS
        Receives the roll-up's stages.
    **given
        Options of :func:`build_features` given now (``as_of``, ``statements``,
        ``accounts``...); a recipe, column or window that differs from the model's is
        refused, as the segments were drawn on customers built that way.

    Returns
    -------
    FeatureResult

    Raises
    ------
    ModelError
        If ``record`` does not hold the roll-up's options.
    ConfigError
        If a given option contradicts the model's roll-up, or the dates of the new
        lines read in another order (day-first vs month-first) than the training's.
    """
    options = record.get("options") if isinstance(record, Mapping) else None
    if not isinstance(options, Mapping) or "recipe" not in options:
        raise ModelError(
            "the model's roll-up record has no options; refit it with custseg fit --transactions"
        )
    for name, value in given.items():
        kept = options.get(name)
        if value is not None and kept is not None and name != "recipe" and str(value) != str(kept):
            raise ConfigError(
                f"{name}={value!r} differs from the model's roll-up ({name}={kept!r}); the"
                " segments were drawn on customers built that way: leave the option out"
            )
        if name == "recipe" and value not in (None, "auto", options["recipe"]):
            raise ConfigError(
                f"recipe={value!r} differs from the model's recipe {options['recipe']!r};"
                " leave --recipe out to use the model's"
            )
    merged = {**options, **{k: v for k, v in given.items() if v is not None and k != "recipe"}}
    # Share columns per level at the training's levels, not the new lines' own top ones.
    levels = (record.get("tables") or {}).get("transactions", {}).get("levels")
    result = build_features(source, progress=progress, levels=levels, **merged)
    _check_same_dates(record, result)
    return result


def _check_same_dates(record: Mapping[str, Any], result: FeatureResult) -> None:
    """Day-first at training and month-first now would build other customers."""
    before = (record.get("tables") or {}).get("transactions", {}).get("time_format") or {}
    now = result.found.get("transactions", {}).get("time_format") or {}
    orders = {before.get("order"), now.get("order")}
    if {"day-first", "month-first"} <= orders:
        raise ConfigError(
            f"the new lines' dates read {now['order']} ({now.get('evidence')}) but the"
            f" training lines' read {before['order']}; give --date-format with the"
            " training's pattern"
        )
