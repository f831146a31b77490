"""The fitted segmentation, typed in memory, and its safe file format.

A :class:`SegmentationModel` holds everything needed to score new customers without
the training session: the input schema (:class:`~custseg.prepare.TableSchema`), the
preparation plan (:class:`~custseg.prepare.PreparationPlan`), the centroids, the segment
catalogue (names, descriptions, strategies), the k selection
(:class:`~custseg.cluster.KSelection`), the distance profile, the playbook and lineage
records, the metrics and the training statistics for drift checks. It becomes plain
data only when saved: one JSON document with a format version and a sha256 checksum of
its canonical body, read back by :func:`load_model`, which builds the typed fields once.
Loading never executes code.

Modules: :mod:`~custseg.model.records` (the model's own records),
:mod:`~custseg.model.segmentation` (the model), :mod:`~custseg.model.document` (the
JSON document: checks, checksum, signature, files).
"""

from __future__ import annotations

from .document import MAX_MODEL_BYTES, load_model, model_from_json, model_to_json, save_model
from .records import DistanceProfile, LineageRecord, PlaybookRecord, Segment
from .segmentation import FORMAT_NAME, FORMAT_VERSION, SegmentationModel

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_MODEL_BYTES",
    "DistanceProfile",
    "LineageRecord",
    "PlaybookRecord",
    "Segment",
    "SegmentationModel",
    "save_model",
    "load_model",
    "model_to_json",
    "model_from_json",
]
