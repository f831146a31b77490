"""Kneedle: known curves, every shape, no-knee answers, and agreement with ``kneed``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from kneed import KneeLocator

from custseg.cluster.knee import find_knee
from custseg.exceptions import ConfigError, DataError

X = np.arange(1, 21, dtype=np.float64)


def test_convex_decreasing_elbow_of_one_over_x() -> None:
    # Normalised, the difference curve of 1/x on 1..20 is (1 - 1/x)/0.95 - (x - 1)/19,
    # whose maximum is at x = sqrt(20) = 4.47; on the integer grid D(4) = D(5) = 12/19
    # and the scan of step 7 keeps the last point of that plateau.
    result = find_knee(X, 1.0 / X, curve="convex", direction="decreasing")
    assert result.difference[3] == pytest.approx(12 / 19)
    assert result.difference[4] == pytest.approx(12 / 19)
    assert result.knee == 5.0
    assert result.knee_y == pytest.approx(0.2)


def test_elbow_of_a_piecewise_linear_curve_is_its_corner() -> None:
    # Steep line down to x=5, then almost flat: the corner is the only sensible answer.
    y = np.where(X <= 5, 100 - 18 * (X - 1), 28 - 0.5 * (X - 5))
    assert find_knee(X, y).knee == 5.0


@pytest.mark.parametrize(
    ("curve", "direction", "y"),
    [
        ("concave", "increasing", np.log(X)),
        ("convex", "increasing", np.exp(X / 4)),
        ("concave", "decreasing", -np.exp(X / 4)),
        ("convex", "decreasing", np.exp(-X / 4)),
    ],
)
def test_every_shape_matches_kneed(curve: str, direction: str, y: np.ndarray) -> None:
    ours = find_knee(X, y, curve=curve, direction=direction)  # type: ignore[arg-type]
    reference = KneeLocator(X, y, curve=curve, direction=direction)
    assert ours.knee is not None
    assert ours.knee == reference.knee


def test_mirror_shapes_give_mirror_knees() -> None:
    # Reflecting x maps a convex increasing curve onto a convex decreasing one.
    y = np.exp(X / 4)
    increasing = find_knee(X, y, curve="convex", direction="increasing").knee
    decreasing = find_knee(21 - X, y, curve="convex", direction="decreasing").knee
    assert increasing is not None and decreasing is not None
    assert increasing == 21 - decreasing


def test_agrees_with_kneed_on_noisy_decreasing_curves() -> None:
    rng = np.random.default_rng(7)
    compared = 0
    for _ in range(60):
        n = int(rng.integers(6, 25))
        x = np.arange(2, 2 + n, dtype=np.float64)
        y = 1000.0 / x ** rng.uniform(0.5, 2.0) + rng.normal(0, 2.0, n)
        for sensitivity in (0.5, 1.0, 3.0):
            reference = KneeLocator(x, y, curve="convex", direction="decreasing", S=sensitivity)
            if reference.knee == x[0]:
                continue  # kneed's first-point convention, see the next test
            ours = find_knee(x, y, sensitivity=sensitivity)
            assert ours.knee == reference.knee, (x.tolist(), y.tolist(), sensitivity)
            compared += 1
    assert compared > 100


def test_first_point_is_never_a_knee() -> None:
    # The difference curve of a concave curve read as convex falls from the start;
    # kneed then calls the first x a knee, Kneedle's local maxima are interior.
    x = np.arange(10, dtype=np.float64)
    y = 10 - x**2 / 10
    assert KneeLocator(x, y, curve="convex", direction="decreasing").knee == 0.0
    assert find_knee(x, y, curve="convex", direction="decreasing").knee is None


@pytest.mark.parametrize(
    "y",
    [
        np.linspace(10, 1, 10),  # straight line
        np.full(10, 3.0),  # constant
    ],
)
def test_curves_without_knee_return_none(y: np.ndarray) -> None:
    result = find_knee(np.arange(10), y)
    assert result.knee is None
    assert result.knee_y is None
    assert result.all_knees == []


@pytest.mark.parametrize("n", [0, 1, 2])
def test_too_short_curves_return_none(n: int) -> None:
    assert find_knee(np.arange(n), np.arange(n)[::-1]).knee is None


def test_unsorted_input_is_sorted_with_y() -> None:
    y = 1.0 / X
    order = np.random.default_rng(0).permutation(X.size)
    assert find_knee(X[order], y[order]).knee == find_knee(X, y).knee


def test_higher_sensitivity_is_more_conservative() -> None:
    # A gentle bend: detected with S=1, not with a very demanding S.
    y = 1.0 / np.sqrt(X)
    assert find_knee(X, y, sensitivity=1.0).knee is not None
    assert find_knee(X, y, sensitivity=25.0).knee is None


def test_result_is_json_ready() -> None:
    result = find_knee(X, 1.0 / X)
    payload = result.to_dict()
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert len(payload["difference"]) == X.size
    assert len(payload["x_normalized"]) == X.size


@pytest.mark.parametrize(
    ("kwargs", "error", "quoted"),
    [
        ({"curve": "wiggly"}, ConfigError, "'wiggly'"),
        ({"direction": "up"}, ConfigError, "'up'"),
        ({"sensitivity": -1.0}, ConfigError, "-1.0"),
    ],
)
def test_invalid_options_raise_one_line_errors(
    kwargs: dict[str, object], error: type[Exception], quoted: str
) -> None:
    with pytest.raises(error) as info:
        find_knee(X, 1.0 / X, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert quoted in message and "\n" not in message


def test_invalid_data_raise_data_errors() -> None:
    with pytest.raises(DataError, match="x has 3 values but y has 2"):
        find_knee([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="finite"):
        find_knee([1, 2, 3], [1, np.nan, 2])
    with pytest.raises(DataError, match="repeats the value 2"):
        find_knee([1, 2, 2, 3], [4, 3, 2, 1])


def test_kneed_is_imported_as_it_is_and_only_when_a_knee_is_searched() -> None:
    # Importing the module stays cheap (kneed brings scipy.signal and pyplot, about 1 s
    # on a cold interpreter); the first search imports kneed unaltered, plots included.
    code = (
        "import sys, numpy as np\n"
        "from custseg.cluster.knee import find_knee\n"
        "assert 'kneed' not in sys.modules\n"
        "assert find_knee(np.arange(1, 21), 1 / np.arange(1, 21)).knee == 5.0\n"
        "import kneed.knee_locator\n"
        "assert kneed.knee_locator._has_matplotlib\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
