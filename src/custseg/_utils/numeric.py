"""Private helpers shared by the numerical engine (silhouette, segmenter, selection,
evaluation): input checks for matrices and labels, randomness, and thread control.

Threads: the engine runs its numpy work in its own pool of Python threads, one per
usable core (numpy and BLAS release the GIL), with BLAS itself held to one thread, and runs
scikit-learn's K-means with one OpenMP thread on small data. Library thread pools
busy-wait: when the machine's two cores are shared with other work they can be
many times slower than one thread, whereas blocked Python threads cost nothing.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

import numpy as np

from ..exceptions import ConfigError, DataError
from .checks import check_int, is_int
from .text import count, plain

T = TypeVar("T")

RandomState = int | np.random.Generator | None


def generator(random_state: RandomState) -> np.random.Generator:
    """A numpy Generator from ``None``, an int seed or a Generator (used as is)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if not is_int(random_state):
        raise ConfigError(
            f"random_state={plain(random_state)!r} is not valid; pass an int seed, "
            "a numpy Generator or None"
        )
    return np.random.default_rng(check_int(random_state, "random_state", minimum=0))


def skewness(v: np.ndarray) -> float:
    """Sample skewness of finite values (the biased moment estimator); 0 for a constant."""
    mean = float(v.mean())
    d = v - mean
    sd = math.sqrt(float(np.mean(d * d)))
    # Spread at rounding level (or none) is a constant column: no skew to treat.
    if not math.isfinite(sd) or sd <= 1e-12 * max(1.0, abs(mean)):
        return 0.0
    z = d / sd
    value = float(np.mean(z * z * z))  # z * z * z: a float power is 10x slower
    return value if math.isfinite(value) else 0.0


def seed_from(rng: np.random.Generator) -> int:
    """An int seed for libraries that take one (scikit-learn), drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def as_matrix(
    X: Any, *, name: str = "X", min_rows: int = 1, check_values: bool = True
) -> np.ndarray:
    """Check that ``X`` is a finite 2-D numeric matrix; return it as float32/float64.

    float32 input stays float32 (callers that need float64 convert per chunk);
    everything else becomes float64. The message quotes the first bad cell.
    ``check_values=False`` skips the NaN/inf scan for callers that scan per chunk.
    """
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{name} cannot be read as a numeric matrix ({exc}); pass a 2-D array"
        ) from exc
    if arr.ndim != 2:
        raise DataError(
            f"{name} has {count(arr.ndim, 'dimension')} with shape {arr.shape}; "
            "pass a 2-D matrix of rows x features"
        )
    if arr.dtype.kind not in "fiub":
        raise DataError(
            f"{name} has dtype {arr.dtype}; pass a numeric matrix (prepare the data first)"
        )
    if arr.dtype != np.float32:
        arr = np.asarray(arr, dtype=np.float64)
    if arr.shape[1] == 0:
        raise DataError(f"{name} has no feature column (shape {arr.shape}); pass at least one")
    if arr.shape[0] < min_rows:
        raise DataError(f"{name} has n_rows={arr.shape[0]}; it should have >= {min_rows}")
    if check_values:
        check_finite(arr, name=name)
    return arr


def check_finite(arr: np.ndarray, *, name: str = "X", row_offset: int = 0) -> None:
    """Raise a DataError naming the first NaN/inf cell of ``arr``.

    Works in row blocks so that the check needs no full-size temporary.
    """
    if arr.ndim != 2 or arr.size == 0:
        return
    step = max(1, (1 << 20) // max(1, arr.shape[1]))
    for start in range(0, arr.shape[0], step):
        block = arr[start : start + step]
        if not np.isfinite(block).all():
            row, col = np.argwhere(~np.isfinite(block))[0]
            raise DataError(
                f"{name} has the value {block[row, col]} at row "
                f"{int(row) + start + row_offset}, column {int(col)}; "
                "impute or drop missing and infinite values first"
            )


def as_labels(labels: Any, n_rows: int, *, name: str = "labels") -> np.ndarray:
    """Check that ``labels`` holds ``n_rows`` non-negative integers; return int64."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise DataError(
            f"{name} has shape {arr.shape} but X has {count(n_rows, 'row')}; pass one label per row"
        )
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))][0]
            raise DataError(f"{name} holds {plain(bad)!r}; segment labels should be integers")
    elif arr.dtype.kind not in "iub":
        raise DataError(f"{name} has dtype {arr.dtype}; segment labels should be integers 0..k-1")
    out = arr.astype(np.int64)
    if out.size and out.min() < 0:
        raise DataError(f"{name} holds {int(out.min())}; segment labels should be >= 0")
    return out


def n_workers() -> int:
    """Threads the engine uses: one per core this process may run on.

    The usable cores, not the machine's: a container or ``taskset`` may allow fewer.
    ``os.process_cpu_count`` (Python 3.13) says so; before it, the affinity mask does
    where the platform has one, and ``os.cpu_count`` elsewhere.
    """
    process_cpu_count = getattr(os, "process_cpu_count", None)
    if process_cpu_count is not None:
        cores = process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # macOS and Windows before Python 3.13
        cores = os.cpu_count()
    return max(1, cores or 1)


def parallel_map(function: Callable[[T], Any], items: Sequence[T], workers: int) -> list[Any]:
    """``[function(item) for item in items]``, on up to ``workers`` threads."""
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(function, items))


def strided(items: Sequence[T], parts: int) -> Iterator[Sequence[T]]:
    """Split ``items`` into ``parts`` interleaved slices (balanced work per thread)."""
    for start in range(parts):
        yield items[start::parts]


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@functools.cache
def _openmp_controller() -> Any:
    import sklearn.cluster  # noqa: F401 - loads scikit-learn's OpenMP runtime before the scan
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager[Any]:
    """Hold BLAS to one thread while the engine runs its own threads."""
    return _blas_controller().limit(limits=1, user_api="blas")


def library_threads(limit: int | None) -> AbstractContextManager[Any]:
    """Limit the OpenMP and BLAS threads of scikit-learn calls (``None``: defaults).

    Both matter: scikit-learn's k-means++ seeding runs on BLAS, its Lloyd loop on
    OpenMP.
    """
    if limit is None:
        return nullcontext()
    return _openmp_controller().limit(limits=limit)
