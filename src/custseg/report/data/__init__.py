"""The report's data step: everything the report shows, computed once into a plain dictionary.

:func:`build_report_data` (in :mod:`.build`) validates its inputs, runs the table
through the scorer and asks one module per report section for its part:

- :mod:`.context`: the playbook that named the segments (and the report's wording)
  and the warnings of the fit;
- :mod:`.overview`: data overview and exploration (rows, columns, gaps, distributions,
  correlations);
- :mod:`.choice_of_k`: the choice of the number of segments, driven by the index
  registry (:func:`custseg.cluster.indices.registered_indices`);
- :mod:`.segments`: the segment cards of the executive summary;
- :mod:`.outcomes`: outcome columns (churn, responses, scores) per segment;
- :mod:`.projection`: the two-dimensional view;
- :mod:`.profiles`: profiles, lift and the distinguishing features;
- :mod:`.evaluation`: the silhouette and the quality measures.

No module of this package imports matplotlib, Jinja2 or the rendering modules: what
the data step shares with drawing (data version, segment colours) comes from
:mod:`custseg.report._shared`.
"""

from .build import build_report_data

__all__ = ["build_report_data"]
