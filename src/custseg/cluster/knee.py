"""Knee (elbow) detection with the Kneedle algorithm.

Satopää, Albrecht, Irwin and Raghavan, "Finding a 'Kneedle' in a Haystack: Detecting
Knee Points in System Behavior" (ICDCS workshops, 2011). The knee of a curve is the
point of maximum curvature: where adding more ``x`` stops buying much ``y``. For the
inertia of K-means against ``k`` (a convex, decreasing curve) it is the classic elbow.

The implementation follows the paper's steps, numbered in the comments of
:func:`find_knee`. Step 1 of the paper smooths the curve with a spline; the curves
this package feeds it (an inertia per ``k``) are short and already monotone, so
smoothing would only move the knee, and the points are used as given (like the
``kneed`` package's default ``interp_method="interp1d"``).

When the curve has no knee (a straight line, a constant, fewer than three points),
:func:`find_knee` returns a result whose ``knee`` is ``None``: "no knee" is an answer,
never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..exceptions import ConfigError, DataError

__all__ = ["KneeResult", "find_knee"]

Curve = Literal["convex", "concave"]
Direction = Literal["increasing", "decreasing"]


@dataclass(frozen=True)
class KneeResult:
    """The knee of a curve, with the intermediate curves for plots and reports.

    Attributes
    ----------
    knee : float or None
        ``x`` value of the knee; ``None`` when the curve has none.
    knee_y : float or None
        ``y`` value at the knee.
    all_knees : list of float
        Every knee the scan of step 7 found, in scan order; ``knee`` is the first one
        (the paper's offline answer).
    curve, direction : str
        The shape the curve was analysed as.
    sensitivity : float
        The sensitivity ``S`` of the threshold.
    x_normalized : list of float
        ``x`` mapped to [0, 1] (and mirrored where the shape needs it).
    difference : list of float
        The difference curve ``y_n - x_n`` whose local maxima are knee candidates,
        in the order of ``x_normalized``.
    """

    knee: float | None
    knee_y: float | None
    all_knees: list[float] = field(default_factory=list)
    curve: str = "convex"
    direction: str = "decreasing"
    sensitivity: float = 1.0
    x_normalized: list[float] = field(default_factory=list)
    difference: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "knee": self.knee,
            "knee_y": self.knee_y,
            "all_knees": list(self.all_knees),
            "curve": self.curve,
            "direction": self.direction,
            "sensitivity": self.sensitivity,
            "x_normalized": list(self.x_normalized),
            "difference": list(self.difference),
        }


def find_knee(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    curve: Curve = "convex",
    direction: Direction = "decreasing",
    sensitivity: float = 1.0,
) -> KneeResult:
    """Find the knee of a curve with Kneedle.

    Parameters
    ----------
    x : sequence of float
        Distinct ``x`` values (sorted or not; they are sorted with ``y``).
    y : sequence of float
        ``y`` values, same length as ``x``.
    curve : {"convex", "concave"}, default "convex"
        Shape of the curve: ``"convex"`` for an elbow such as inertia against ``k``.
    direction : {"increasing", "decreasing"}, default "decreasing"
        Whether ``y`` grows or shrinks with ``x``.
    sensitivity : float, default 1.0
        The paper's ``S``: how many "average x steps" the difference curve must drop
        below a local maximum before that maximum is declared a knee. Larger values
        are more conservative.

    Returns
    -------
    KneeResult
        ``knee`` is ``None`` when the curve has no knee.

    Raises
    ------
    ConfigError
        If ``curve``, ``direction`` or ``sensitivity`` is not valid.
    DataError
        If ``x`` and ``y`` differ in length, hold NaN/inf or ``x`` repeats a value.
    """
    if curve not in ("convex", "concave"):
        raise ConfigError(f"curve={curve!r} is not valid; use 'convex' or 'concave'")
    if direction not in ("increasing", "decreasing"):
        raise ConfigError(f"direction={direction!r} is not valid; use 'increasing' or 'decreasing'")
    if not np.isfinite(sensitivity) or sensitivity < 0:
        raise ConfigError(f"sensitivity={sensitivity!r} should be a finite number >= 0")
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if xs.shape != ys.shape:
        raise DataError(f"x has {xs.size} values but y has {ys.size}; pass one y value per x value")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise DataError("x and y should hold finite numbers; remove NaN and infinite values")
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if xs.size and np.any(np.diff(xs) == 0):
        repeated = float(xs[1:][np.diff(xs) == 0][0])
        raise DataError(f"x repeats the value {repeated:g}; pass distinct x values")
    return _kneedle(xs, ys, curve, direction, float(sensitivity))


def _normalize(a: np.ndarray) -> np.ndarray | None:
    span = a.max() - a.min()
    if span <= 0:
        return None
    return (a - a.min()) / span


def _kneedle(
    xs: np.ndarray, ys: np.ndarray, curve: str, direction: str, sensitivity: float
) -> KneeResult:
    def result(knees: list[float], xn: np.ndarray, diff: np.ndarray) -> KneeResult:
        knee = knees[0] if knees else None
        knee_y = float(ys[np.flatnonzero(xs == knee)[0]]) if knee is not None else None
        return KneeResult(
            knee=knee,
            knee_y=knee_y,
            all_knees=knees,
            curve=curve,
            direction=direction,
            sensitivity=sensitivity,
            x_normalized=[float(v) for v in xn],
            difference=[float(v) for v in diff],
        )

    empty = np.empty(0)
    # A knee needs a point on each side of it.
    if xs.size < 3:
        return result([], empty, empty)

    # Step 2: normalise both axes to the unit square, so that the shape, not the
    # units, decides where the curve bends. A flat curve has no knee.
    xn = _normalize(xs)
    yn = _normalize(ys)
    if xn is None or yn is None:
        return result([], empty, empty)

    # Step 3: turn every shape into a concave increasing curve, the case the paper
    # describes, by mirroring x and/or y; then the knee is where the curve lies
    # furthest above the diagonal.
    mirror_x = (curve, direction) in (("concave", "decreasing"), ("convex", "increasing"))
    mirror_y = curve == "convex"
    source = np.arange(xs.size)  # index of the original point behind each position
    if mirror_y:
        yn = 1.0 - yn
    if mirror_x:
        xn, yn, source = (1.0 - xn)[::-1], yn[::-1], source[::-1]

    # Step 4: the difference curve D = y_n - x_n.
    diff = yn - xn

    # Step 5: local maxima of D (interior points not lower than their neighbours).
    interior = np.arange(1, diff.size - 1)
    is_max = (diff[interior] >= diff[interior - 1]) & (diff[interior] >= diff[interior + 1])
    maxima = interior[is_max]
    if maxima.size == 0:
        return result([], xn, diff)

    # Step 6: each local maximum gets a threshold T = D_max - S * (mean x step).
    step = float(np.mean(np.diff(xn)))
    thresholds = diff[maxima] - sensitivity * step

    # Step 7: walk right from each local maximum; if D falls below its threshold
    # before the next local maximum, that maximum is a knee.
    knees: list[float] = []
    for position, (i, threshold) in enumerate(zip(maxima, thresholds, strict=True)):
        stop = maxima[position + 1] if position + 1 < maxima.size else diff.size
        if np.any(diff[i + 1 : stop] < threshold):
            knees.append(float(xs[source[i]]))
    return result(knees, xn, diff)
