"""The typed records a model holds beside the stages' own types.

:class:`Segment` (one entry of the catalogue), :class:`DistanceProfile` (how far the
training customers of each segment lie from its centroid), :class:`PlaybookRecord` (the
playbook that named the segments, and why) and :class:`LineageRecord` (how the segments
continue those of a previous model). Each has ``to_dict`` (the JSON form, the only one
written) and ``from_dict`` (which refuses a malformed record with a
:class:`~custseg.exceptions.ModelError` naming the field).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from ..exceptions import ModelError

__all__ = ["DistanceProfile", "LineageRecord", "PlaybookRecord", "Segment"]

#: Centroid coordinates and distances live in the prepared space, where every value is
#: clipped to +-1e6; anything far beyond is not a fitted model and would overflow.
MAX_COORDINATE = 1e12
_REFIT = "the file is inconsistent, refit it (custseg.fit_segments, `custseg fit`)"


def is_number(value: Any) -> bool:
    """A JSON number: ``int`` or ``float``, not ``bool``."""
    return type(value) in (int, float)


def _record_keys(cls: type, data: Any, what: str) -> dict[str, Any]:
    """``data`` as keyword arguments of ``cls``: an object with exactly its fields."""
    if not isinstance(data, Mapping):
        raise ModelError(f"{what} should be an object, got {type(data).__name__}; {_REFIT}")
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    missing = [n for n in names if n not in data]
    if unknown or missing:
        wrong = f"unexpected keys {unknown}" if unknown else f"no {', '.join(missing)}"
        raise ModelError(f"{what} has {wrong}; {_REFIT}")
    return dict(data)


@dataclass
class Segment:
    """One segment of the catalogue.

    Attributes
    ----------
    id : int
        Canonical segment number: 0 is the largest segment of the training data.
    size : int
        Training customers assigned to the segment.
    share : float
        ``size`` divided by the number of training customers.
    name : str
        Unique human-readable name (from the playbook or built from traits).
    description : str
        One sentence describing the segment.
    strategies : list of str
        Suggested business actions, for people to review.
    traits : list of str
        Short phrases for the most distinguishing features.
    rule : dict
        Human-readable rule with its precision and coverage (see ``custseg.explain.rules``).
    playbook_key : str or None
        Key of the playbook entry that named the segment, ``None`` for descriptive names.
    stability : float or None
        Mean Jaccard similarity of the segment with its best match in bootstrap refits
        (Hennig's clusterwise stability; ``None`` when not measured).
    stability_band : str or None
        ``"unstable"`` (below 0.6: no strategies), ``"doubtful"``, ``"fairly stable"``
        or ``"highly stable"`` (above 0.85); see ``docs/choosing_k.md``.
    """

    id: int
    size: int
    share: float
    name: str = ""
    description: str = ""
    strategies: list[str] = field(default_factory=list)
    traits: list[str] = field(default_factory=list)
    rule: dict[str, Any] = field(default_factory=dict)
    playbook_key: str | None = None
    stability: float | None = None
    stability_band: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class DistanceProfile:
    """How far the training customers of each segment lie from its centroid.

    See :mod:`custseg.cluster.typicality`, which computes it at fit time and reads a
    row's ``distance_percentile`` off it at scoring time.

    Attributes
    ----------
    percentiles : list of float
        Percentiles of the tables, rising strictly from 0 to 100 (0, 1, ..., 99, 99.5, 100).
    quantiles : list of list of float
        One non-decreasing row of distances per segment, one entry per percentile.
    outlier_percentile : float
        Rows farther than this percentile of their segment score ``out_of_profile``.
    rows : int
        Training rows measured.
    basis : str
        ``"all rows"`` or ``"uniform sample"``.

    Raises
    ------
    ModelError
        When building a profile whose tables scoring could not read (unsorted, not
        finite, rows of different lengths), naming the problem.
    """

    percentiles: list[float]
    quantiles: list[list[float]]
    outlier_percentile: float
    rows: int
    basis: str

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise ModelError(f"distance_profile {problem}; {_REFIT}")

    def _problem(self) -> str | None:
        percentiles = self.percentiles
        if (
            not isinstance(percentiles, list)
            or len(percentiles) < 2
            or not all(is_number(p) and math.isfinite(p) for p in percentiles)
        ):
            return "has no list of percentiles"
        if (
            percentiles[0] != 0
            or percentiles[-1] != 100
            or any(b <= a for a, b in zip(percentiles, percentiles[1:], strict=False))
        ):
            return "percentiles should rise strictly from 0 to 100"
        if not is_number(self.outlier_percentile) or self.outlier_percentile not in percentiles:
            return f"outlier_percentile {self.outlier_percentile!r} is not one of its percentiles"
        if not isinstance(self.quantiles, list) or not self.quantiles:
            return "should hold rows of quantiles, one per segment"
        for s, row in enumerate(self.quantiles):
            if (
                not isinstance(row, list)
                or len(row) != len(percentiles)
                or not all(is_number(v) and 0 <= v <= MAX_COORDINATE for v in row)
            ):
                return (
                    f"row {s} should hold {len(percentiles)} finite distances within"
                    f" 0..{MAX_COORDINATE:g}"
                )
            if any(b < a for a, b in zip(row, row[1:], strict=False)):
                return f"row {s} is not sorted"
        if type(self.rows) is not int or self.rows < 0:
            return f"rows {self.rows!r} should be a count"
        if not isinstance(self.basis, str):
            return f"basis {self.basis!r} should be a text"
        return None

    @classmethod
    def from_dict(cls, data: Any) -> DistanceProfile:
        """The profile of a model document (``distance_profile``)."""
        return cls(**_record_keys(cls, data, "distance_profile"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(percentiles, quantiles (k, m), thresholds (k,))`` as float64 arrays."""
        percentiles = np.asarray(self.percentiles, dtype=np.float64)
        quantiles = np.asarray(self.quantiles, dtype=np.float64).reshape(-1, percentiles.size)
        where = self.percentiles.index(self.outlier_percentile)
        return percentiles, quantiles, np.ascontiguousarray(quantiles[:, where])


@dataclass(frozen=True)
class PlaybookRecord:
    """The playbook that named the segments and why it was chosen.

    The stored form of :class:`custseg.explain.PlaybookChoice` (its ``to_dict()``): the
    playbook's own entries are not kept, only what reports and readers show.

    Attributes
    ----------
    key, name, domain, source : str
        The playbook's key, name, business domain and where it was read from.
    chosen_by : str
        ``"columns"`` (chosen from the table's columns) or ``"user"``.
    summary : str
        One sentence: which playbook, how it was chosen and on which columns.
    wording : dict of str to str
        The report's words for the playbook's customers and practice.
    match : dict
        How the table's columns fit the chosen playbook (``PlaybookMatch.to_dict()``).
    candidates : list of dict
        Every shipped domain playbook measured on the table (empty when given).
    """

    key: str
    name: str
    domain: str
    source: str
    chosen_by: str
    summary: str
    wording: dict[str, str]
    match: dict[str, Any]
    candidates: list[dict[str, Any]]

    @classmethod
    def from_dict(cls, data: Any) -> PlaybookRecord:
        """The record of a model document (``playbook``)."""
        record = cls(**_record_keys(cls, data, "playbook"))
        texts = ("key", "name", "domain", "source", "chosen_by", "summary")
        wrong = [n for n in texts if not isinstance(getattr(record, n), str)]
        if wrong or not isinstance(record.wording, dict) or not isinstance(record.match, dict):
            raise ModelError(f"playbook has malformed {wrong or 'wording or match'}; {_REFIT}")
        return record

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


# Fields of LineageRecord keyed by segment id: text keys in JSON, integers in memory.
_BY_SEGMENT = ("previous_names", "matched", "shift", "relative_shift", "nearest", "renamed")


@dataclass(frozen=True)
class LineageRecord:
    """How the segments of a model continue those of a previous one (``--previous``).

    Built by :func:`custseg.engines.lineage.align_segments`; segment ids are integers
    here and texts in the JSON document.

    Attributes
    ----------
    previous_checksum, previous_created_at : str
        The previous model's checksum and creation time.
    previous_k : int
        Its number of segments.
    previous_names : dict of int to str
        Its segment names by id.
    space : str
        The space the centroids were compared in.
    max_shift : float
        Relative shift above which a segment is not matched.
    rows_compared : int
        Rows both models scored to match the segments.
    matched : dict of int to int
        New segment id -> previous segment id.
    new, retired : list of int
        New segments without a previous one; previous segments without a new one.
    shift, relative_shift : dict of int to float
        How far each matched segment's centroid moved (absolute, relative).
    nearest : dict of int to int
        The nearest previous segment of each new segment.
    renamed : dict of int to str
        Segments whose playbook name now differs from the carried one: that name.
    """

    previous_checksum: str
    previous_created_at: str
    previous_k: int
    previous_names: dict[int, str]
    space: str
    max_shift: float
    rows_compared: int
    matched: dict[int, int]
    new: list[int]
    retired: list[int]
    shift: dict[int, float]
    relative_shift: dict[int, float]
    nearest: dict[int, int]
    renamed: dict[int, str]

    @classmethod
    def from_dict(cls, data: Any) -> LineageRecord:
        """The record of a model document (``lineage``, segment ids as texts)."""
        values = _record_keys(cls, data, "lineage")
        try:
            for name in _BY_SEGMENT:
                values[name] = {int(key): value for key, value in values[name].items()}
        except (AttributeError, TypeError, ValueError) as exc:
            raise ModelError(f"lineage has a malformed {name}; {_REFIT}") from exc
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: segment ids as texts, in id order."""
        out = asdict(self)
        for name in _BY_SEGMENT:
            out[name] = {str(key): value for key, value in sorted(out[name].items())}
        return out
