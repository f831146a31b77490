"""numpy arrays to and from Arrow through their buffers, without pandas.

``pyarrow.array(ndarray)`` and ``Array.to_numpy()`` import pandas the first time they run
(pyarrow checks whether the object is a pandas Series). Scoring a file needs neither
pandas nor its fifth of a second of import time, so the scoring path crosses between
numpy and Arrow here, at the buffer level: fixed-width columns are shared, not copied.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["float64_values", "from_numpy", "mask_array", "string_array"]

_TYPES = {
    np.dtype(np.float64): pa.float64(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.int32): pa.int32(),
}


def float64_values(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A float64 Arrow column as a read-only numpy array, nulls as NaN.

    The values are shared with Arrow when the column has no nulls and one chunk.
    """
    array = _one_chunk(column)
    if array.type != pa.float64():
        raise TypeError(f"expected a float64 column, got {array.type}")
    n = len(array)
    validity, data = array.buffers()
    values = np.frombuffer(data, dtype=np.float64, count=n, offset=array.offset * 8)
    if array.null_count == 0 or validity is None:
        values.flags.writeable = False  # Arrow's memory: never written through numpy
        return values
    valid = np.unpackbits(
        np.frombuffer(validity, dtype=np.uint8), count=array.offset + n, bitorder="little"
    )[array.offset :].view(bool)
    return np.where(valid, values, np.nan)


def from_numpy(values: np.ndarray) -> pa.Array:
    """A float64, int64 or int32 numpy array as an Arrow array without nulls (shared)."""
    values = np.ascontiguousarray(values)
    kind = _TYPES.get(values.dtype)
    if kind is None or values.ndim != 1:
        raise TypeError(f"cannot share a {values.ndim}-d {values.dtype} array with Arrow")
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def mask_array(keep: np.ndarray) -> pa.BooleanArray:
    """A boolean numpy mask as an Arrow boolean array (for ``filter``)."""
    bits = np.packbits(np.asarray(keep, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(keep), [None, pa.py_buffer(bits)])


def string_array(values: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array without nulls."""
    encoded = [value.encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(value) for value in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(),
        len(encoded),
        [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
    )


def _one_chunk(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column
