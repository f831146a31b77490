"""Request and response shapes of the scoring service (they document the OpenAPI schema).

The handlers build plain dictionaries of exactly these shapes and serialise them
directly: validating a response of 10,000 records through pydantic would cost more than
scoring it. These models are the contract clients read at ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "Health",
    "ScoredRecord",
    "ScoreCounts",
    "ScoreResponse",
    "SegmentInfo",
    "ModelInfo",
    "DriftFeature",
    "DriftSegment",
    "DriftResponse",
    "ErrorDetail",
    "ErrorResponse",
    "score_request_schema",
]

Scalar = str | int | float | None


class Health(BaseModel):
    """Answer of ``GET /healthz``."""

    status: Literal["ok"] = "ok"
    model: str = Field(description="Short checksum of the served model file.")
    k: int = Field(description="Number of segments.")


class ScoredRecord(BaseModel):
    """The outcome for one record, at the same position as the record in the request."""

    index: int = Field(description="Position of the record in the request, from 0.")
    id: Scalar = Field(description="The record's identifier (the model's id column), if any.")
    status: Literal["scored", "rejected"]
    segment_id: int | None = Field(description="Assigned segment; null when rejected.")
    segment_name: str | None = Field(description="Name of the assigned segment.")
    distance: float | None = Field(
        description="Euclidean distance to the assigned centroid, in the prepared space."
    )
    runner_up_id: int | None = Field(description="The second-nearest segment.")
    margin: float | None = Field(
        description="Distance to the runner-up minus distance to the assigned centroid (>= 0)."
    )
    distance_percentile: float | None = Field(
        description="Percentile (0-100) of the distance among the training customers of the"
        " segment: 50 is a typical member, 100 as far as the farthest or beyond."
    )
    flags: str | None = Field(
        description="Codes joined by ';': out_of_profile (beyond the model's outlier"
        " threshold, the 99.5th percentile by default), unseen_level:<column> (a category"
        " level the model was not trained on); null when none."
    )
    reason: str | None = Field(
        description="Why the record could not be scored, starting with a code when the"
        " scoring contract rejects it (missing_id: ...); null when scored."
    )


class ScoreCounts(BaseModel):
    """The scoring contract's counts, the same as ``custseg score --json`` reports."""

    missing_id: int = Field(description="Records rejected because their identifier is empty.")
    duplicate_id: int = Field(
        description="Records whose identifier is on an earlier record of the request."
    )
    unseen_level: int = Field(description="Records with a category level not seen in training.")
    out_of_profile: int = Field(description="Scored records beyond the outlier threshold.")


class ScoreResponse(BaseModel):
    """Answer of ``POST /v1/score``: one result per record, in request order."""

    model: str = Field(description="Short checksum of the model that scored the records.")
    n_records: int
    n_scored: int
    n_rejected: int
    counts: ScoreCounts
    results: list[ScoredRecord]


class SegmentInfo(BaseModel):
    """One entry of the segment catalogue."""

    id: int
    name: str
    description: str
    strategies: list[str]
    traits: list[str]
    size: int = Field(description="Training customers in the segment.")
    share: float = Field(description="Share of the training customers in the segment.")


class ModelInfo(BaseModel):
    """Answer of ``GET /v1/model``: metadata and the segment catalogue."""

    model: str = Field(description="Short checksum of the model file.")
    custseg_version: str
    format_version: int
    created_at: str
    k: int
    id_column: str | None
    input_columns: list[str] = Field(description="Fields every record must carry.")
    feature_names: list[str]
    training: dict[str, Any]
    metrics: dict[str, Any]
    max_records: int = Field(description="Most records accepted in one request.")
    lineage: dict[str, Any] = Field(
        default_factory=dict,
        description="How the segments continue a previous model's (custseg fit --previous):"
        " previous_checksum, matched (new id -> previous id), new, retired, shift; empty"
        " otherwise.",
    )
    segments: list[SegmentInfo]


class DriftFeature(BaseModel):
    """Drift of one input feature."""

    feature: str
    kind: Literal["numeric", "categorical"]
    psi: float = Field(description="Population stability index against the training histogram.")
    status: Literal["green", "amber", "red"]
    missing_then: float = Field(description="Share of missing values at training.")
    missing_now: float = Field(description="Share of missing values in the records.")
    mean_then: float | None
    mean_now: float | None
    bins: dict[str, Any] = Field(description="The bins and their shares then and now.")


class DriftSegment(BaseModel):
    """A segment's share at training and in the records."""

    segment_id: int
    name: str
    share_then: float
    share_now: float
    customers_now: int


class DriftResponse(BaseModel):
    """Answer of ``POST /v1/drift``: the document ``custseg drift`` writes to drift.json."""

    format: Literal["custseg-drift"]
    version: int
    verdict: str = Field(description='One line, e.g. "retrain recommended: 8 features red, ...".')
    status: Literal["green", "amber", "red"] = Field(description="The worst status of all.")
    thresholds: dict[str, float] = Field(description="PSI thresholds of amber and red.")
    model: dict[str, Any]
    rows: int
    rows_compared: int = Field(description="Records that could be scored, and are compared.")
    rows_rejected: int
    features: list[DriftFeature]
    segments: list[DriftSegment]
    segments_psi: float
    segments_status: Literal["green", "amber", "red"]
    notes: list[str]
    created_at: str


class ErrorDetail(BaseModel):
    """One problem of a request: where (``loc``) and what (``msg``)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: a message, or a list of problems for invalid records (422)."""

    detail: str | list[ErrorDetail]


def score_request_schema(fields: list[str], example: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI request body of ``POST /v1/score`` for a model needing ``fields``."""
    record = {
        "type": "object",
        "required": fields,
        "properties": {f: {"type": ["number", "string", "null"]} for f in fields},
        "additionalProperties": True,
    }
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": record},
                        {
                            "type": "object",
                            "required": ["records"],
                            "properties": {"records": {"type": "array", "items": record}},
                        },
                    ]
                },
                "example": [example],
            }
        },
    }
