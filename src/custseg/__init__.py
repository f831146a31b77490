"""custseg: behavioural segmentation of credit-card customers.

The public API, imported lazily so that ``import custseg`` (and the command line's
``--help``) stays fast::

    from custseg import fit_segments, save_model, load_model, score_customers

    model = fit_segments(frame)               # choose k, fit, evaluate, explain
    save_model(model, "segments/model.json")  # versioned, checksummed JSON
    scored = score_customers(load_model("segments/model.json"), new_frame)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._utils.lazy import lazy_exports
from ._version import __version__

if TYPE_CHECKING:
    from .cluster import choose_n_clusters
    from .config import FitConfig, PrepConfig, load_config
    from .estimator import CustomerSegmenter
    from .exceptions import CustsegError
    from .explain import profile_segments
    from .features import FeatureResult, build_features
    from .model import Segment, SegmentationModel, load_model, save_model
    from .pipeline import FitOutput, fit_segments, fit_to_folder
    from .prepare import PreparationPlan, infer_schema
    from .scoring import export_sql, score_customers, score_file
    from .sources import extract, load_data, read_table

_EXPORTS = {
    "CustsegError": "exceptions",
    "FitConfig": "config",
    "PrepConfig": "config",
    "load_config": "config",
    "CustomerSegmenter": "estimator",
    "PreparationPlan": "prepare",
    "Segment": "model",
    "SegmentationModel": "model",
    "load_model": "model",
    "save_model": "model",
    "fit_segments": "pipeline",
    "fit_to_folder": "pipeline",
    "FitOutput": "pipeline",
    "profile_segments": "explain",
    "build_features": "features",
    "FeatureResult": "features",
    "infer_schema": "prepare",
    "score_customers": "scoring",
    "score_file": "scoring",
    "choose_n_clusters": "cluster",
    "extract": "sources",
    "load_data": "sources",
    "read_table": "sources",
    "export_sql": "scoring",
}

__all__ = [
    "CustomerSegmenter",
    "CustsegError",
    "FeatureResult",
    "FitConfig",
    "FitOutput",
    "PrepConfig",
    "PreparationPlan",
    "Segment",
    "SegmentationModel",
    "__version__",
    "build_features",
    "choose_n_clusters",
    "export_sql",
    "extract",
    "fit_segments",
    "fit_to_folder",
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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
