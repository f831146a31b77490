"""The scoring contract's row flags: codes, identifiers seen earlier, flag texts.

Every scored row carries ``distance_percentile`` and ``flags``; every rejected row a
reason. The codes are defined once here and used by files, the Python API, the service
and Spark alike:

``out_of_profile``
    farther from its centroid than the model's outlier threshold (the segment's
    ``outlier_percentile`` of training distances, 99.5 by default): the nearest segment
    is reported, but the row resembles none of its training customers;
``unseen_level:<column>``
    its value in ``<column>`` is not one of the levels the model encodes (it is scored
    as the model scores unknown levels: all-zero one-hot, or the ``__other__`` level).

A scored row's ``flags`` joins its codes with ``;`` in that order (null when none).
Rejected rows' reasons start with their code: ``missing_id: ...`` (always rejected),
``duplicate_id: ...`` (its identifier appeared on an earlier row of the same input; the
first row with it is kept) and ``unseen_level: ...`` (both only when asked, see
:data:`REJECTABLE`). Repeated identifiers are counted whether or not they are rejected.

Identifiers are compared through 64-bit keys (:func:`id_keys`): integers map one to one
to their keys; two distinct texts share a key with probability about 2**-64 per pair
(for a file of 5 million distinct identifiers, about one chance in 1.4 million that
one pair is counted as a repeat). Counting keeps 8 bytes per row (:class:`DuplicateCount`,
40 MB for 5 million rows); rejecting repeats while streaming keeps 8 bytes per distinct
identifier (:class:`SeenIds`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .._utils.arrow import string_array
from ..exceptions import ConfigError

__all__ = [
    "COUNTS",
    "DUPLICATE_ID",
    "DuplicateCount",
    "contract_counts",
    "missing_ids",
    "repeated_rows",
    "FLAGS_COLUMN",
    "MISSING_ID",
    "OUT_OF_PROFILE",
    "PERCENTILE_COLUMN",
    "REJECTABLE",
    "UNSEEN_LEVEL",
    "FlagCodes",
    "SeenIds",
    "check_reject",
    "id_keys",
    "json_id",
    "row_value",
]

#: Column of each scored row's percentile (0-100) among its segment's training customers.
PERCENTILE_COLUMN = "distance_percentile"
#: Column of each scored row's flag codes (``;``-separated, null when none).
FLAGS_COLUMN = "flags"
OUT_OF_PROFILE = "out_of_profile"
DUPLICATE_ID = "duplicate_id"
UNSEEN_LEVEL = "unseen_level"
MISSING_ID = "missing_id"
#: Codes that reject their rows when asked (``reject=...``, ``custseg score --reject``).
REJECTABLE: tuple[str, ...] = (DUPLICATE_ID, UNSEEN_LEVEL)

# Bits of a row's flag mask: out_of_profile, then one per categorical input.
BIT_OUT_OF_PROFILE = 1
_FIRST_LEVEL_BIT = 1


#: The counts every scoring run reports, in this order.
COUNTS: tuple[str, ...] = (MISSING_ID, DUPLICATE_ID, UNSEEN_LEVEL, OUT_OF_PROFILE)


def contract_counts(counts: Mapping[str, int] | None = None) -> dict[str, int]:
    """The four counts of :data:`COUNTS` (0 where ``counts`` has none)."""
    counts = counts or {}
    return {name: int(counts.get(name, 0)) for name in COUNTS}


def check_reject(reject: Collection[str] | str | None) -> frozenset[str]:
    """The codes of ``reject`` as a set; raise :class:`ConfigError` for an unknown one."""
    if reject is None:
        return frozenset()
    if isinstance(reject, str):
        reject = [part.strip() for part in reject.split(",") if part.strip()]
    codes = frozenset(reject)
    unknown = sorted(str(c) for c in codes - set(REJECTABLE))
    if unknown:
        raise ConfigError(
            f"reject code {unknown[0]!r} is unknown; rows can be rejected for any of"
            f" {', '.join(REJECTABLE)} (e.g. --reject {','.join(REJECTABLE)})"
        )
    return codes


class FlagCodes:
    """Flag masks to their texts, for one model's categorical inputs.

    Parameters
    ----------
    categorical : sequence of str
        The model's categorical input columns, in order (bit ``1 + i`` is column ``i``).
    """

    def __init__(self, categorical: Sequence[str]) -> None:
        self.categorical = tuple(categorical)
        self._texts: dict[int, str] = {}

    def level_bit(self, i: int) -> int:
        """The mask bit of categorical input ``i``."""
        return 1 << (_FIRST_LEVEL_BIT + i)

    def text(self, mask: int) -> str | None:
        """The ``;``-joined codes of one mask (``None`` for 0)."""
        if not mask:
            return None
        found = self._texts.get(mask)
        if found is None:
            parts = []
            if mask & BIT_OUT_OF_PROFILE:
                parts.append(OUT_OF_PROFILE)
            for i, column in enumerate(self.categorical):
                if mask & self.level_bit(i):
                    parts.append(f"{UNSEEN_LEVEL}:{column}")
            found = self._texts[mask] = ";".join(parts)
        return found

    def texts(self, masks: np.ndarray) -> list[str | None]:
        """The texts of many masks (JSON and pandas)."""
        return [self.text(m) for m in masks.tolist()]

    def arrow(self, masks: np.ndarray) -> pa.DictionaryArray:
        """The texts of many masks as an Arrow dictionary column (no per-row Python).

        Rows without a flag are null; the dictionary holds the few masks that occur.
        """
        flagged = np.flatnonzero(masks)
        indices = np.zeros(len(masks), dtype=np.int32)
        values = np.empty(0, dtype=np.int64)
        if flagged.size:
            values, inverse = np.unique(masks[flagged], return_inverse=True)
            indices[flagged] = inverse
        dictionary = string_array([str(self.text(int(v))) for v in values])
        # Built from buffers: pa.array(..., mask=) would import pandas to inspect them.
        validity = np.packbits(masks != 0, bitorder="little")
        codes = pa.Array.from_buffers(
            pa.int32(),
            len(masks),
            [pa.py_buffer(validity), pa.py_buffer(indices)],
            null_count=len(masks) - int(flagged.size),
        )
        return pa.DictionaryArray.from_arrays(codes, dictionary)


# --------------------------------------------------------------------------- identifiers

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_WEIGHTS = tuple(
    np.uint64(w)
    for w in (0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93, 0xC2B2AE3D27D4EB4F)
)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that spreads every input bit."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _text_keys(array: pa.Array) -> np.ndarray:
    """64-bit hashes of the texts of a (large_)string array (nulls get any value)."""
    n = len(array)
    if not n:
        return np.empty(0, dtype=np.uint64)
    buffers = array.buffers()
    offsets = _offsets(array).astype(np.int64)
    start = int(offsets[0])
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8, count=int(offsets[-1]) - start, offset=start)
        if buffers[2] is not None and offsets[-1] > start
        else np.empty(0, dtype=np.uint8)
    )
    lengths = np.diff(offsets)
    longest = int(lengths.max())
    if longest > _LONGEST_PACKED:
        # Rare long texts are hashed one by one; the others below.
        long = np.flatnonzero(lengths > _LONGEST_PACKED)
        short = lengths.copy()
        short[long] = 0
        key = _packed_keys(data, offsets - start, short, _LONGEST_PACKED)
        raw = data.tobytes()
        key[long] = _mix(
            np.array(
                [hash(raw[offsets[i] - start : offsets[i + 1] - start]) for i in long],
                dtype=np.int64,
            ).view(np.uint64)
        )
        return key
    return _packed_keys(data, offsets - start, lengths, longest)


#: Texts up to this many bytes are hashed with numpy, longer ones one by one.
_LONGEST_PACKED = 64


def _packed_keys(
    data: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, longest: int
) -> np.ndarray:
    """Keys of texts of at most ``longest`` bytes (``lengths``; 0 for texts skipped)."""
    n = len(lengths)
    words = (longest + 7) // 8
    if longest and int(lengths.min()) == longest and len(data) == n * longest:
        # Texts of one length (most identifiers): each 64-bit word read in place
        # through a strided view of the bytes, the bytes past the text masked off.
        buffer = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
        packed = [
            np.ndarray((n,), dtype="<u8", buffer=buffer, offset=8 * w, strides=(longest,))
            for w in range(words)
        ]
        tail = longest - 8 * (words - 1)
        if tail < 8:
            packed[-1] = packed[-1] & np.uint64((1 << (8 * tail)) - 1)
    else:
        padded = np.zeros((n, words * 8), dtype=np.uint8)
        if longest:
            row = np.repeat(np.arange(n), lengths)
            column = np.arange(int(lengths.sum())) - np.repeat(
                np.cumsum(lengths) - lengths, lengths
            )
            padded[row, column] = data[np.repeat(offsets[:-1], lengths) + column]
        view = padded.view(np.uint64)
        packed = [view[:, w] for w in range(words)]
    # A weighted sum of the words and the length (mod 2**64, odd weights): texts that
    # differ in one word never share a key, and a final mix spreads the bits.
    with np.errstate(over="ignore"):
        key = lengths.astype(np.uint64) * _GOLDEN
        for w, word in enumerate(packed):
            key += word * _WEIGHTS[w % len(_WEIGHTS)]
        return _mix(key)


def id_keys(ids: Any) -> tuple[np.ndarray, np.ndarray]:
    """64-bit keys of identifiers, and the mask of missing ones.

    Parameters
    ----------
    ids : pyarrow.Array, pyarrow.ChunkedArray, pandas.Series, numpy.ndarray or list
        One identifier per row. Texts, integers and floats are read from their Arrow
        buffers; other values are compared as their text.

    Returns
    -------
    (numpy.ndarray of uint64, numpy.ndarray of bool)
        Keys (equal identifiers, equal keys) and ``True`` where the identifier is
        missing (null, NaN or empty text).
    """
    if not isinstance(ids, pa.Array | pa.ChunkedArray):
        try:
            ids = pa.array(ids, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
            # Mixed types compare as text; a lone surrogate (valid in JSON, not in UTF-8)
            # is kept distinct as its escape rather than refusing the request.
            ids = pa.array([None if v is None or v != v else _text(v) for v in ids], pa.string())
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    keys: list[np.ndarray] = []
    missing: list[np.ndarray] = []
    for chunk in chunks:
        kind = chunk.type
        if pa.types.is_dictionary(kind):
            chunk = chunk.cast(kind.value_type)
            kind = chunk.type
        absent = (
            np.asarray(chunk.is_null(), dtype=bool)
            if chunk.null_count
            else np.zeros(len(chunk), dtype=bool)
        )
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            key = _text_keys(chunk)
            absent |= _empty_texts(chunk)
        elif pa.types.is_integer(kind):
            values = chunk.cast(pa.int64()).to_numpy(zero_copy_only=False)
            key = _mix(np.asarray(values, dtype=np.int64).view(np.uint64))
        elif pa.types.is_floating(kind):
            values = np.asarray(chunk.cast(pa.float64()).to_numpy(zero_copy_only=False))
            absent |= np.isnan(values)
            # A float identifier that is a whole number is the same customer as the
            # integer (17850.0 and 17850): keys of integral floats are the integers'.
            whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**63)
            as_int = np.where(whole, values, 0).astype(np.int64)
            key = np.where(
                whole, _mix(as_int.view(np.uint64)), _mix(values.view(np.uint64) ^ _GOLDEN)
            )
        else:
            text = chunk.cast(pa.large_string()) if not pa.types.is_null(kind) else None
            key = _text_keys(text) if text is not None else np.zeros(len(chunk), np.uint64)
            if text is not None:
                absent |= _empty_texts(text)
        keys.append(key)
        missing.append(absent)
    if not keys:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=bool)
    return np.concatenate(keys), np.concatenate(missing)


def _rising(ids: Any, last: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The last identifier (as integers) when ``ids`` rise strictly after ``last``, else None.

    Only for columns without nulls of integers or of texts of one length up to 16 bytes,
    compared as big-endian 64-bit words (the order of their bytes).
    """
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    for chunk in chunks:
        if not isinstance(chunk, pa.Array) or chunk.null_count or not len(chunk):
            return None
        kind = chunk.type
        if pa.types.is_integer(kind) and kind.bit_width <= 64 and pa.types.is_signed_integer(kind):
            words = [np.asarray(chunk.to_numpy(zero_copy_only=False), dtype=np.int64)]
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            found = _text_words(chunk)
            if found is None:
                return None
            words = found
        else:
            return None
        first = tuple(int(w[0]) for w in words)
        if last is not None and not first > last:
            return None
        rising = words[0][1:] > words[0][:-1]
        if len(words) == 2:
            rising |= (words[0][1:] == words[0][:-1]) & (words[1][1:] > words[1][:-1])
        if not bool(rising.all()):
            return None
        last = tuple(int(w[-1]) for w in words)
    return last


def _text_words(array: pa.Array) -> list[np.ndarray] | None:
    """Texts of one length up to 16 bytes as big-endian words (their byte order), or None."""
    n = len(array)
    buffers = array.buffers()
    offsets = _offsets(array)
    start, stop = int(offsets[0]), int(offsets[-1])
    length = (stop - start) // n
    if not 0 < length <= 16 or stop - start != n * length or buffers[2] is None:
        return None
    if int(offsets[1]) - start != length or not bool((np.diff(offsets) == length).all()):
        return None
    data = np.frombuffer(buffers[2], dtype=np.uint8, count=stop - start, offset=start)
    buffer = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
    words = []
    for w in range((length + 7) // 8):
        word = np.ndarray((n,), dtype=">u8", buffer=buffer, offset=8 * w, strides=(length,))
        tail = length - 8 * w
        if tail < 8:
            word = word & np.uint64(~((1 << (8 * (8 - tail))) - 1) & (2**64 - 1))
        words.append(word.astype(np.uint64))
    return words


def missing_ids(ids: Any) -> np.ndarray | None:
    """``True`` where an identifier is missing (null, NaN or empty text); ``None`` if none is.

    Cheap when nothing is missing: Arrow columns are read from their null counts and
    offsets, without pyarrow.compute.
    """
    if ids is None:
        return None
    if isinstance(ids, pa.Array | pa.ChunkedArray):
        parts = []
        for chunk in ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]:
            absent = (
                np.asarray(chunk.is_null(), dtype=bool)
                if chunk.null_count
                else np.zeros(len(chunk), dtype=bool)
            )
            if pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type):
                absent |= _empty_texts(chunk)
            parts.append(absent)
        missing = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
    else:
        values = np.asarray(ids, dtype=object) if not hasattr(ids, "isna") else None
        if values is None:
            missing = np.array(ids.isna(), dtype=bool)
            if ids.dtype == object or str(ids.dtype) in ("str", "string"):
                missing |= np.asarray(ids.astype(object) == "", dtype=bool)
        else:
            missing = np.array(
                [v is None or v != v or (isinstance(v, str) and not v) for v in values.tolist()],
                dtype=bool,
            )
    return missing if bool(missing.any()) else None


def _empty_texts(array: pa.Array) -> np.ndarray:
    """Texts of length 0 (a blank identifier is a missing one)."""
    return np.diff(_offsets(array)) == 0


def _offsets(array: pa.Array) -> np.ndarray:
    """The offsets buffer of a (large_)string array, read in place (n + 1 values)."""
    width = 8 if pa.types.is_large_string(array.type) else 4
    return np.frombuffer(
        array.buffers()[1],
        dtype=np.int64 if width == 8 else np.int32,
        count=len(array) + 1,
        offset=array.offset * width,
    )


def repeated_rows(keys: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """``True`` for rows whose key appeared on an earlier row of the same array."""
    repeated = np.zeros(len(keys), dtype=bool)
    rows = np.arange(len(keys)) if present is None else np.flatnonzero(present)
    if rows.size < 2:
        return repeated
    _, first = np.unique(keys[rows], return_index=True)
    if first.size < rows.size:
        later = np.ones(rows.size, dtype=bool)
        later[first] = False
        repeated[rows[later]] = True
    return repeated


class SeenIds:
    """The identifiers of one input seen so far, to find repeats chunk after chunk.

    The distinct keys (8 bytes each) are kept as a few sorted runs whose sizes at least
    double from the newest to the oldest (a log-structured merge): each chunk is looked
    up in every run with a binary search and becomes a new run, and a run is merged
    into the one before it once it is as large. A key is thus copied about log2(chunks)
    times in all, instead of once per chunk when one sorted array takes every chunk in
    (that took 148 s for 5 million rows, against 9 s without rejecting repeats).
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def add(self, keys: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        """Record ``keys`` in order; ``True`` where a key was seen on an earlier row.

        ``present`` (default all) masks the rows whose keys count (missing identifiers
        are never repeats).
        """
        repeated = np.zeros(len(keys), dtype=bool)
        rows = np.arange(len(keys)) if present is None else np.flatnonzero(present)
        if not rows.size:
            return repeated
        distinct, first, inverse = np.unique(keys[rows], return_index=True, return_inverse=True)
        later = np.ones(rows.size, dtype=bool)
        later[first] = False
        known = np.zeros(distinct.size, dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, distinct)
            np.minimum(at, run.size - 1, out=at)
            known |= run[at] == distinct
        repeated[rows] = later | known[inverse.reshape(-1)]
        self._runs.append(distinct[~known])
        while len(self._runs) > 1 and self._runs[-2].size <= self._runs[-1].size:
            newest = self._runs.pop()
            self._runs[-1] = np.sort(np.concatenate([self._runs[-1], newest]))
        return repeated


class DuplicateCount:
    """Rows of one input whose identifier appeared on an earlier row, counted at the end.

    Keeps every key (8 bytes per row: 40 MB for 5 million rows). Each chunk's keys are
    sorted as they come and cut into :data:`_BUCKETS` ranges of values; :meth:`total`
    then sorts each range on its own (pieces that fit in the processor's cache), which
    costs about half of one sort of all keys.

    :meth:`add_ids` first tries the shortcut of inputs in identifier order (exports are
    often sorted by their key): while every chunk's identifiers are texts of one length
    up to 16 bytes, or integers, and rise strictly from the first row on, there can be no
    repeat and nothing is hashed or sorted; the identifier columns are kept (about
    their size in the file) and hashed the first time the order breaks.
    """

    _BUCKETS = 64

    def __init__(self) -> None:
        self._parts: list[list[np.ndarray]] = [[] for _ in range(self._BUCKETS)]
        self._edges = (np.arange(1, self._BUCKETS, dtype=np.uint64)) << np.uint64(58)
        self._ordered: list[Any] | None = []  # identifier columns while in order
        self._last: tuple[int, ...] | None = None

    def add_ids(self, ids: Any) -> None:
        """Count the identifiers of one chunk (any type :func:`id_keys` reads)."""
        if self._ordered is not None:
            rising = _rising(ids, self._last)
            if rising is not None:
                self._ordered.append(ids)
                self._last = rising
                return
            ordered, self._ordered = self._ordered, None
            for earlier in ordered:
                self._add_column(earlier)
        self._add_column(ids)

    def _add_column(self, ids: Any) -> None:
        keys, absent = id_keys(ids)
        self.add(keys, ~absent)

    def add(self, keys: np.ndarray, present: np.ndarray | None = None) -> None:
        """Keep the keys of one chunk (``present`` masks the rows that have one)."""
        mine = np.sort(keys if present is None or present.all() else keys[present])
        cuts = np.searchsorted(mine, self._edges)
        for bucket, piece in enumerate(np.split(mine, cuts)):
            if piece.size:
                self._parts[bucket].append(piece)

    def total(self) -> int:
        """Rows whose key is not the first of its kind."""
        repeats = 0
        for pieces in self._parts:
            if not pieces:
                continue
            keys = np.sort(np.concatenate(pieces)) if len(pieces) > 1 else pieces[0]
            repeats += int(np.count_nonzero(keys[1:] == keys[:-1]))
        return repeats


def row_value(values: Any, row: int) -> Any:
    """One row of a Series, an Arrow column or a sequence, as a Python value."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values[row].as_py()
    if hasattr(values, "iloc"):
        return values.iloc[row]
    return values[row]


def json_id(value: Any) -> Any:
    """An identifier as a JSON value (numpy scalars and NaN become Python values)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _text(value: Any) -> str:
    """``str(value)`` as UTF-8-safe text: lone surrogates become their backslash escape."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")
