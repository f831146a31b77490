"""The knee (elbow) of a curve: Kneedle, as implemented by the ``kneed`` package.

Satopää, Albrecht, Irwin and Raghavan, "Finding a 'Kneedle' in a Haystack: Detecting
Knee Points in System Behavior" (ICDCS workshops, 2011). The knee of a curve is the
point of maximum curvature: where adding more ``x`` stops buying much ``y``. For the
inertia of K-means against ``k`` (a convex, decreasing curve) it is the classic elbow.

The search is ``kneed.KneeLocator`` with its default ``interp_method="interp1d"``: the
curves this package feeds it (an inertia per ``k``) are short and already monotone, so
smoothing would only move the knee. This module adds what a caller needs around it:

1. input checks with one-line errors (lengths, finite values, repeated ``x``);
2. "no knee" as an answer, never an error or a warning: curves with fewer than three
   points, or flat in ``x`` or ``y``, have none;
3. a knee needs a point on each side of it: ``kneed`` may report the first (or, for
   mirrored shapes, the last) point of the curve when the difference curve only
   falls, which is not a bend; such answers are dropped and the first interior knee
   of the scan is kept (``online=True`` collects every knee of the scan);
4. a plain-data :class:`KneeResult` with the normalised curves, for reports.
"""

from __future__ import annotations

import warnings
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
        Every interior knee of the scan, in scan order; ``knee`` is the first one
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KneeResult:
        """Rebuild a result written by :meth:`to_dict` (a model's ``k_selection``)."""
        return cls(**data)

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
    if xs.size < 3 or np.ptp(xs) <= 0 or np.ptp(ys) <= 0:
        return result([], empty, empty)

    # Imported here, not at the top: kneed brings scipy.signal and matplotlib.pyplot
    # (about 1 s on a cold interpreter), which `import custseg` and scoring never need.
    from kneed import KneeLocator

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # kneed warns when it finds no knee: an answer here
        located = KneeLocator(xs, ys, S=sensitivity, curve=curve, direction=direction, online=True)
    ends = {float(xs[0]), float(xs[-1])}
    knees = [float(k) for k in located.all_knees if float(k) not in ends]
    return result(knees, np.asarray(located.x_normalized), np.asarray(located.y_difference))
