"""custseg: behavioural segmentation of credit-card customers.

The public API, imported lazily so that ``import custseg`` (and the command line's
``--help``) stays fast::

    from custseg import fit_segments, save_model, load_model, score_customers

    model = fit_segments(frame)               # choose k, fit, evaluate, explain
    save_model(model, "segments/model.json")  # versioned, checksummed JSON
    scored = score_customers(load_model("segments/model.json"), new_frame)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .config import FitConfig, PrepConfig, load_config
    from .estimator import CustomerSegmenter
    from .exceptions import CustsegError
    from .features import PreparationPlan
    from .model import Segment, SegmentationModel, load_model, save_model
    from .pipeline import fit_segments
    from .profiling import profile_segments
    from .schema import infer_schema
    from .scoring import score_customers, score_file
    from .selection import choose_n_clusters
    from .sources import extract, load_data, read_table
    from .sqlexport import export_sql

_EXPORTS = {
    "CustsegError": "exceptions",
    "FitConfig": "config",
    "PrepConfig": "config",
    "load_config": "config",
    "CustomerSegmenter": "estimator",
    "PreparationPlan": "features",
    "Segment": "model",
    "SegmentationModel": "model",
    "load_model": "model",
    "save_model": "model",
    "fit_segments": "pipeline",
    "profile_segments": "profiling",
    "infer_schema": "schema",
    "score_customers": "scoring",
    "score_file": "scoring",
    "choose_n_clusters": "selection",
    "extract": "sources",
    "load_data": "sources",
    "read_table": "sources",
    "export_sql": "sqlexport",
}

__all__ = [
    "CustomerSegmenter",
    "CustsegError",
    "FitConfig",
    "PrepConfig",
    "PreparationPlan",
    "Segment",
    "SegmentationModel",
    "__version__",
    "choose_n_clusters",
    "export_sql",
    "extract",
    "fit_segments",
    "infer_schema",
    "load_config",
    "load_data",
    "load_model",
    "profile_segments",
    "read_table",
    "save_model",
    "score_customers",
    "score_file",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'custseg' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
