"""Data for the "Protected characteristics" part of the report: the sensitive-attribute audit.

The model records which columns hold protected characteristics and their audit at
training (``model.profiles["audit"]``, :mod:`custseg.explain.audit`). When this table
holds those columns, the audit is measured again on it, through the model's segments
(as the outcome table is); otherwise the training audit is shown, and the report says
so. A model fitted before the audit existed has no record: the section says to refit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...explain.audit import audit_segments, flag_text
from ...model import SegmentationModel
from ...prepare.schema import column_lookup

__all__ = ["sensitive_audit"]


def sensitive_audit(
    model: SegmentationModel, rows: pd.DataFrame, labels: np.ndarray
) -> dict[str, Any] | None:
    """The audit of this table's segments by protected characteristic.

    Parameters
    ----------
    model : SegmentationModel
        The fitted model; ``model.profiles["audit"]`` names the protected columns.
    rows : pandas.DataFrame
        The usable rows of the raw table, in the order of ``labels``.
    labels : numpy.ndarray
        Segment of each row.

    Returns
    -------
    dict or None
        The audit as :meth:`custseg.explain.audit.SensitiveAudit.to_dict` gives it
        (``found``, ``characteristics``, ``flags``, ``rule``...), plus ``source``
        (``"table"`` or ``"training"``) and ``flag_texts`` (one sentence per flag,
        naming the segment); ``None`` when the model records no audit.
    """
    record = model.profiles.get("audit")
    if not isinstance(record, dict):
        return None
    audited = {str(c["column"]): str(c["characteristic"]) for c in record["characteristics"]}
    lookup = column_lookup(rows.columns)
    audit, source = record, "training"
    if audited and all(name in lookup for name in audited):
        frame = pd.DataFrame(
            {name: rows[lookup[name]].reset_index(drop=True) for name in audited},
            index=pd.RangeIndex(len(rows)),
        )
        clustered = [str(c["column"]) for c in record["characteristics"] if c["clustered"]]
        year = record.get("reference_year")
        audit = audit_segments(
            frame, labels, audited, k=model.k, clustered=clustered, reference_year=year
        ).to_dict()
        source = "table"
    names = model.segment_names()
    texts = [flag_text(flag, names[flag["segment_id"]]) for flag in audit["flags"]]
    return {**audit, "source": source, "flag_texts": texts}
