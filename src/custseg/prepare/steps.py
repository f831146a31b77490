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
    "copy_pca",
]

OUTPUT_BOUND = 1e6
"""Prepared coordinates are clipped to +-this many (scaled) units; only absurd inputs reach it."""
MISSING_LEVEL = "__missing__"
OTHER_LEVEL = "__other__"


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
        return cls(
            column=str(d["column"]),
            impute=float(d["impute"]),
            indicator=None if d["indicator"] is None else str(d["indicator"]),
            clip=None if clip is None else (float(clip[0]), float(clip[1])),
            transform=d["transform"],
            lambda_=None if lam is None else float(lam),
            center=float(d["center"]),
            scale=float(d["scale"]),
        )


@dataclass(frozen=True)
class CategoricalStep:
    """Fitted one-hot encoding of one categorical column (raw or derived)."""

    column: str
    levels: tuple[str, ...]
    impute: str
    other: str
    center: tuple[float, ...]
    scale: tuple[float, ...]

    def output_names(self) -> list[str]:
        return [f"{self.column}={level}" for level in self.levels]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "levels": list(self.levels),
            "impute": self.impute,
            "other": self.other,
            "center": list(self.center),
            "scale": list(self.scale),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoricalStep:
        levels = tuple(str(v) for v in d["levels"])
        center = tuple(float(v) for v in d["center"])
        scale = tuple(float(v) for v in d["scale"])
        if not len(levels) == len(center) == len(scale):
            raise ModelError(f"column {d['column']!r}: levels, center and scale differ in length")
        return cls(str(d["column"]), levels, str(d["impute"]), str(d["other"]), center, scale)


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
    """Index into ``step.levels`` per row, -1 for a level without a column."""
    filled = pd.Series(values, dtype=object).fillna(step.impute)
    codes = pd.Index(list(step.levels), dtype=object).get_indexer(pd.Index(filled))
    if step.other in step.levels:
        codes[codes < 0] = step.levels.index(step.other)
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


def copy_pca(pca: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "input_names": [str(n) for n in pca["input_names"]],
        "mean": [float(v) for v in pca["mean"]],
        "components": [[float(v) for v in row] for row in pca["components"]],
        "explained_variance_ratio": [float(v) for v in pca["explained_variance_ratio"]],
    }
