"""Fitted preparation steps as plain data, and the numpy arithmetic that applies them.

Fit and transform share these helpers, so that a plan applied to its training rows gives
the training matrix bit for bit. Each helper mirrors one SQL expression (see
``custseg.prepare.plan``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .._utils.lazy import lazy_module
from ..exceptions import ModelError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "OUTPUT_BOUND",
    "MIN_SCALE",
    "MAX_STEP_NUMBER",
    "LAMBDA_BOUNDS",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "NumericStep",
    "CategoricalStep",
    "impute",
    "clip_values",
    "skew_transform",
    "yeo_johnson",
    "apply_numeric_into",
    "category_codes",
    "apply_categorical",
    "pca_arrays",
    "check_pca",
    "copy_pca",
]

OUTPUT_BOUND = 1e6
"""Prepared coordinates are clipped to +-this many (scaled) units; only absurd inputs reach it."""
MISSING_LEVEL = "__missing__"
OTHER_LEVEL = "__other__"
MIN_SCALE = float(np.finfo(np.float64).tiny)
"""Smallest scale a step divides by (the smallest normal float64, about 2.2e-308).

A scale of 0, a negative, NaN or a subnormal scale (1e-320 keeps a few bits) sends
every value of the column to the output bound: distances on it mean nothing. The fit
scales a column whose spread is below it by 1 (it contributes 0), like a constant one.
"""
MAX_STEP_NUMBER = 1e300
"""Numbers of a fitted step lie within +-this: far beyond any fitted value (inputs are
bounded at +-1e15) and far enough from the float limit (1.8e308) that the sum or
difference of two of them cannot overflow (1.7e308 - -1.7e308 does)."""
LAMBDA_BOUNDS = (-3.0, 3.0)
"""Yeo-Johnson powers the fit chooses from: beyond them ordinary amounts go to
astronomically large numbers (e.g. lambda 19.8 on TENURE 6..12)."""


@dataclass(frozen=True)
class NumericStep:
    """Fitted preparation of one numeric column (raw or derived)."""

    column: str
    impute: float
    indicator: str | None
    clip: tuple[float, float] | None
    transform: Literal["log1p", "yeo-johnson", "none"]
    lambda_: float | None
    center: float
    scale: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "impute": self.impute,
            "indicator": self.indicator,
            "clip": None if self.clip is None else [self.clip[0], self.clip[1]],
            "transform": self.transform,
            "lambda": self.lambda_,
            "center": self.center,
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NumericStep:
        clip = d["clip"]
        lam = d["lambda"]
        if d["transform"] not in ("log1p", "yeo-johnson", "none"):
            raise ModelError(f"unknown transform {d['transform']!r} for column {d['column']!r}")
        step = cls(
            column=str(d["column"]),
            impute=float(d["impute"]),
            indicator=None if d["indicator"] is None else str(d["indicator"]),
            clip=None if clip is None else (float(clip[0]), float(clip[1])),
            transform=d["transform"],
            lambda_=None if lam is None else float(lam),
            center=float(d["center"]),
            scale=float(d["scale"]),
        )
        step._check()
        return step

    def _check(self) -> None:
        """Refuse numbers no fit writes: they overflow or make distances meaningless."""
        numbers = {"impute": self.impute, "center": self.center}
        if self.clip is not None:
            numbers |= {"clip[0]": self.clip[0], "clip[1]": self.clip[1]}
        for name, value in numbers.items():
            _check_number(value, f"{name} of numeric column {self.column!r}")
        _check_scale(self.scale, f"scale of numeric column {self.column!r}")
        if self.clip is not None and self.clip[0] > self.clip[1]:
            raise _step_error(
                f"clip of numeric column {self.column!r} is [{self.clip[0]:g}, {self.clip[1]:g}]:"
                " its lower bound exceeds its upper bound"
            )
        if self.transform != "yeo-johnson":
            if self.lambda_ is not None:
                raise _step_error(
                    f"lambda of numeric column {self.column!r} is {self.lambda_:g} but its"
                    f" transform is {self.transform!r}, which has no lambda"
                )
        elif self.lambda_ is None or not (LAMBDA_BOUNDS[0] <= self.lambda_ <= LAMBDA_BOUNDS[1]):
            raise _step_error(
                f"lambda of numeric column {self.column!r} is {self.lambda_}, not a Yeo-Johnson"
                f" power within [{LAMBDA_BOUNDS[0]:g}, {LAMBDA_BOUNDS[1]:g}] as the fit chooses"
            )


@dataclass(frozen=True)
class CategoricalStep:
    """Fitted one-hot encoding of one categorical column (raw or derived).

    ``dropped`` holds known levels without a column of their own: another column
    encodes the same fact (``OnlineSecurity = No internet service`` is
    ``InternetService = No``, see :mod:`custseg.prepare.redundancy`). A row with such a
    level scores all-zero on this column; it is not an unseen level.
    """

    column: str
    levels: tuple[str, ...]
    impute: str
    other: str
    center: tuple[float, ...]
    scale: tuple[float, ...]
    dropped: tuple[str, ...] = ()

    def output_names(self) -> list[str]:
        return [f"{self.column}={level}" for level in self.levels]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "column": self.column,
            "levels": list(self.levels),
            "impute": self.impute,
            "other": self.other,
            "center": list(self.center),
            "scale": list(self.scale),
        }
        if self.dropped:  # absent otherwise: plans without redundancy read as before
            out["dropped"] = list(self.dropped)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoricalStep:
        levels = tuple(str(v) for v in d["levels"])
        center = tuple(float(v) for v in d["center"])
        scale = tuple(float(v) for v in d["scale"])
        if not len(levels) == len(center) == len(scale):
            raise ModelError(f"column {d['column']!r}: levels, center and scale differ in length")
        for level, c, s in zip(levels, center, scale, strict=True):
            where = f"categorical column {d['column']!r}, level {level[:40]!r}"
            if not 0.0 <= c <= 1.0:
                raise _step_error(f"center of {where} is {c:g}, not a share between 0 and 1")
            _check_scale(s, f"scale of {where}")
        dropped = tuple(str(v) for v in d.get("dropped", ()))
        if set(dropped) & set(levels):
            raise _step_error(
                f"categorical column {d['column']!r} lists a level both as encoded and as dropped"
            )
        return cls(
            str(d["column"]), levels, str(d["impute"]), str(d["other"]), center, scale, dropped
        )


def _step_error(problem: str) -> ModelError:
    return ModelError(
        f"the preparation plan's {problem}; refit the model or restore the original file"
    )


def _check_number(value: float, what: str) -> None:
    if not abs(value) <= MAX_STEP_NUMBER:  # NaN fails the comparison too
        raise _step_error(f"{what} is {value:g}, not a finite number within +-{MAX_STEP_NUMBER:g}")


def _check_scale(value: float, what: str) -> None:
    _check_number(value, what)
    if not value >= MIN_SCALE:
        raise _step_error(
            f"{what} is {value:g}; a scale of 0, a negative or a subnormal scale (below"
            f" {MIN_SCALE:.3g}) makes every distance on it meaningless"
        )


# ---------------------------------------------------------------------- arithmetic
# The same helpers serve fit and transform, so that both produce identical bits.


def impute(x: np.ndarray, value: float) -> np.ndarray:
    return np.where(np.isnan(x), value, x)


def clip_values(v: np.ndarray, clip: tuple[float, float] | None) -> np.ndarray:
    return v if clip is None else np.clip(v, clip[0], clip[1])


def skew_transform(v: np.ndarray, kind: str, lam: float | None) -> np.ndarray:
    if kind == "log1p":
        # Scoring rows may hold negatives (refunds) in a column that was
        # non-negative in training: they are clipped to 0 so that log1p is defined.
        return np.log1p(np.maximum(v, 0.0))
    if kind == "yeo-johnson":
        assert lam is not None
        return yeo_johnson(v, lam)
    return v


def yeo_johnson(v: np.ndarray, lam: float) -> np.ndarray:
    out = np.empty_like(v)
    pos = v >= 0
    with np.errstate(over="ignore", invalid="ignore"):
        if lam == 0.0:
            out[pos] = np.log1p(v[pos])
        else:
            out[pos] = (np.power(v[pos] + 1.0, lam) - 1.0) / lam
        if lam == 2.0:
            out[~pos] = -np.log1p(-v[~pos])
        else:
            out[~pos] = -(np.power(1.0 - v[~pos], 2.0 - lam) - 1.0) / (2.0 - lam)
    return out


def apply_numeric_into(
    row: np.ndarray, x: np.ndarray, gaps: np.ndarray | None, step: NumericStep
) -> None:
    """Impute, clip, skew-transform, scale and bound ``x`` into ``row``, in place.

    ``gaps`` marks the NaN of ``x``; ``None`` when ``x`` is known to have none.

    One implementation for fit, transform and scoring: in place in one contiguous row, no
    temporaries, so that every path gives the same bits.
    """
    log1p = step.transform == "log1p"
    with np.errstate(over="ignore", invalid="ignore"):
        # The copy of x is fused with the first operation (clip, or the floor at 0 of
        # log1p), and the gaps then take the imputation value put through the same
        # operation: the same bits as imputing first, one pass over the column fewer.
        floored = False
        if step.clip is not None:
            np.clip(x, step.clip[0], step.clip[1], out=row)
            fill = np.clip(step.impute, step.clip[0], step.clip[1])
        elif log1p:
            np.maximum(x, 0.0, out=row)
            fill, floored = np.maximum(step.impute, 0.0), True
        else:
            np.copyto(row, x)
            fill = step.impute
        if gaps is not None and gaps.any():
            np.copyto(row, fill, where=gaps)
        if log1p:
            # Scoring rows may hold negatives (refunds) in a column that was
            # non-negative in training: they are clipped to 0 so that log1p is defined.
            if not floored:
                np.maximum(row, 0.0, out=row)
            np.log1p(row, out=row)
        elif step.transform == "yeo-johnson":
            assert step.lambda_ is not None
            row[:] = yeo_johnson(row, step.lambda_)
        np.subtract(row, step.center, out=row)
        np.divide(row, step.scale, out=row)
    # Overflowed values (+-inf) are pinned to the bound; they only arise from absurd inputs.
    np.clip(row, -OUTPUT_BOUND, OUTPUT_BOUND, out=row)


def category_codes(values: np.ndarray, step: CategoricalStep) -> np.ndarray:
    """Index into ``step.levels`` per row, -1 for a level without a column.

    Unseen levels count as ``other`` when the step has that level; dropped levels
    (encoded by another column) never do: they stay -1, all-zero.
    """
    filled = pd.Index(pd.Series(values, dtype=object).fillna(step.impute))
    codes = pd.Index(list(step.levels), dtype=object).get_indexer(filled)
    if step.other in step.levels:
        unseen = codes < 0
        if step.dropped:
            unseen &= ~filled.isin(list(step.dropped))
        codes[unseen] = step.levels.index(step.other)
    return codes


def apply_categorical(values: np.ndarray, step: CategoricalStep) -> np.ndarray:
    codes = category_codes(values, step)
    onehot = (codes[:, None] == np.arange(len(step.levels))[None, :]).astype(np.float64)
    return (onehot - np.asarray(step.center)) / np.asarray(step.scale)


def pca_arrays(pca: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray] | None:
    if pca is None:
        return None
    mean = np.asarray(pca["mean"], dtype=np.float64)
    components = np.asarray(pca["components"], dtype=np.float64).reshape(-1, mean.size)
    return mean, components


def check_pca(pca: Mapping[str, Any]) -> None:
    """Refuse a projection no fit writes: a mean beyond the step bound, a component
    coordinate beyond 1 (components are unit vectors) or a variance share beyond 0..1.

    Raises
    ------
    ModelError
        Naming the entry and its value.
    """
    for i, value in enumerate(pca["mean"]):
        _check_number(value, f"PCA mean[{i}]")
    for i, row in enumerate(pca["components"]):
        for j, value in enumerate(row):
            if not abs(value) <= 1.0 + 1e-9:
                raise _step_error(
                    f"PCA components[{i}][{j}] is {value:g}; components are unit vectors,"
                    " with coordinates within +-1"
                )
    for i, value in enumerate(pca["explained_variance_ratio"]):
        if not 0.0 <= value <= 1.0 + 1e-9:
            raise _step_error(
                f"PCA explained_variance_ratio[{i}] is {value:g}, not a share between 0 and 1"
            )


def copy_pca(pca: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "input_names": [str(n) for n in pca["input_names"]],
        "mean": [float(v) for v in pca["mean"]],
        "components": [[float(v) for v in row] for row in pca["components"]],
        "explained_variance_ratio": [float(v) for v in pca["explained_variance_ratio"]],
    }
