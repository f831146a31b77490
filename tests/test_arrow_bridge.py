"""numpy <-> Arrow through buffers: the values survive, gaps become NaN, and pandas stays out."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from custseg._utils.arrow import float64_values, from_numpy, mask_array, string_array


def test_float64_values_turn_nulls_into_nan_also_in_slices_and_chunks():
    array = pa.array([1.5, None, -2.0, None, 4.25, 0.0, None, 8.0, 9.5], type=pa.float64())
    np.testing.assert_array_equal(
        float64_values(array), [1.5, np.nan, -2.0, np.nan, 4.25, 0.0, np.nan, 8.0, 9.5]
    )
    # A slice starts inside a validity byte: offsets of data and bits must both hold.
    np.testing.assert_array_equal(
        float64_values(array.slice(3, 5)), [np.nan, 4.25, 0.0, np.nan, 8.0]
    )
    chunked = pa.chunked_array([array.slice(0, 4), array.slice(4)])
    np.testing.assert_array_equal(float64_values(chunked), float64_values(array))


def test_float64_values_share_memory_when_there_is_no_gap():
    array = pa.array(np.arange(10, dtype=np.float64))
    values = float64_values(array)
    assert not values.flags.writeable  # Arrow's buffer, not a copy
    np.testing.assert_array_equal(values, np.arange(10.0))
    with pytest.raises(TypeError, match="float64"):
        float64_values(pa.array([1, 2, 3]))


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32])
def test_from_numpy_round_trips(dtype):
    values = (np.arange(-5, 6) * 3).astype(dtype)[::2]  # not contiguous
    array = from_numpy(values)
    assert array.null_count == 0
    assert array.to_pylist() == values.tolist()


def test_masks_and_strings():
    keep = np.array([True, False, True, True, False, False, True, False, True, True])
    assert pa.array(list(range(10))).filter(mask_array(keep)).to_pylist() == [0, 2, 3, 6, 8, 9]
    names = string_array(["Revolvers", "", "Café – très", "Transactors"])
    assert names.to_pylist() == ["Revolvers", "", "Café – très", "Transactors"]
    assert string_array([]).to_pylist() == []


def test_the_bridge_does_not_import_pandas():
    code = (
        "import sys, numpy as np, pyarrow as pa\n"
        "from custseg._utils.arrow import float64_values, from_numpy, mask_array, string_array\n"
        "a = pa.Array.from_buffers(pa.float64(), 3, [None, pa.py_buffer(np.ones(3))])\n"
        "float64_values(a); from_numpy(np.arange(3)); mask_array(np.ones(3, bool))\n"
        "string_array(['a'])\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
