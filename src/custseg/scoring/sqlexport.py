"""A model as one SQL query that scores a table inside the warehouse.

:func:`export_sql` turns the model's declarative preparation plan and its centroids
into a single ``SELECT`` built from common table expressions, one per step::

    cs_input     raw columns read once: numbers cast to double, text trimmed, gap words
                 to NULL; a row flag is false when a number is infinite or beyond
                 +-1e15 or the identifier is empty (the rows Python scoring rejects),
                 such values become NULL
    cs_derived   credit-card features (guarded ratios, purchase type) that cluster,
                 when the model uses any
    cs_clean     gaps imputed and missing indicators, clipping, category levels (and
                 the row's unseen_level codes)
    cs_features  skew transforms (log1p, Yeo-Johnson), scaling, bounds, one-hot columns
    cs_pca       principal components (only when the model uses PCA)
    cs_distance  squared euclidean distance to every centroid
    cs_nearest   the smallest of them
    cs_assigned  the first centroid at that distance (ties go to the lowest id, like
                 numpy's argmin), and its distance
    cs_profile   ``distance_percentile``: a CASE over the segment's quantile table, the
                 interpolation of :mod:`custseg.cluster.typicality` written out; and
                 ``flags`` (``out_of_profile`` beyond the outlier threshold, then the
                 ``unseen_level:<column>`` codes)

and the final ``SELECT`` returns the identifier, ``segment_id``, ``segment_name``,
``distance``, ``distance_percentile`` and ``flags``. Repeated identifiers are not
looked for (``GROUP BY`` the identifier to find them). Rows that Python scoring would
reject get NULL segment columns instead of disappearing. Every step reproduces
:meth:`custseg.prepare.plan.PreparationPlan.transform` operation by operation, so the
assignments match Python scoring except where two centroids are equally near to within
rounding. Floats are written with ``repr`` (the
shortest text that reads back as the same double) and an exponent, so that every
dialect reads them as doubles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

from ..exceptions import ConfigError, ModelError
from ..model import SegmentationModel
from ..prepare import MAX_ABS_VALUE, MISSING_TOKENS
from ..prepare.plan import OUTPUT_BOUND, CategoricalStep, NumericStep, PreparationPlan
from ..prepare.recipes import DomainFeature
from .contract import FLAGS_COLUMN, OUT_OF_PROFILE, PERCENTILE_COLUMN, UNSEEN_LEVEL
from .dialects import DIALECTS, Dialect
from .dialects import dialect as get_dialect

__all__ = ["DIALECTS", "export_sql", "export_sql_from_transactions"]


def _num(value: float) -> str:
    """A float literal every dialect reads as the same double (e.g. ``1.5e0``, ``(-2e-05)``)."""
    value = float(value)
    if not math.isfinite(value):
        raise ModelError(f"the model holds a non-finite number {value!r}; refit the model")
    text = repr(value)
    if "e" not in text:
        # Without an exponent DuckDB and Spark read decimals as DECIMAL; with one, DOUBLE.
        text += "e0"
    return f"({text})" if text.startswith("-") else text


def _minus(expr: str, value: float) -> str:
    """``expr - value`` without ``- -`` (``x - (-c)`` equals ``x + c`` exactly)."""
    if value < 0 or (value == 0 and math.copysign(1.0, value) < 0):
        return f"{expr} + {_num(-value)}"
    return f"{expr} - {_num(value)}"


def _comment(text: str) -> str:
    """One ``--`` comment line: characters other than plain printable ASCII become ``?``."""
    return "-- " + "".join(c if " " <= c <= "~" else "?" for c in text) + "\n"


def _check_text(what: str, value: str) -> None:
    if "\x00" in value:
        raise ConfigError(f"{what} {value!r} contains a NUL character, which SQL cannot quote")


def export_sql(model: SegmentationModel, *, dialect: str, table: str) -> str:
    """One SQL query that prepares every row of ``table`` and assigns its segment.

    Parameters
    ----------
    model : SegmentationModel
        The model (see :func:`custseg.load_model`); it must have an identifier column.
    dialect : str
        SQL dialect of the warehouse: one of :data:`custseg.scoring.dialects.DIALECTS`
        (duckdb, bigquery, spark, postgres).
    table : str
        Table holding the customers, with the model's input columns; dots separate
        qualifiers (``dataset.customers``, ``project.dataset.customers``) and each
        part is quoted.

    Returns
    -------
    str
        A ``WITH ... SELECT`` query returning the identifier (under its own name),
        ``segment_id``, ``segment_name``, ``distance`` (euclidean, prepared space),
        ``distance_percentile`` and ``flags`` for every row of ``table``. Rows that
        Python scoring would reject (an infinite number or one beyond +-1e15, an
        empty identifier) keep their identifier with NULL segment columns.

    Raises
    ------
    ConfigError
        If the dialect is unknown, the table name is empty, or the model has no
        identifier column.
    """
    d = _check_model(model, dialect)
    if not isinstance(table, str) or not table.strip():
        raise ConfigError(f"table={table!r} should name a table, e.g. dataset.customers")
    parts = table.strip().split(".")
    if any(not p.strip() for p in parts):
        raise ConfigError(f"table={table!r} has an empty part between dots; write dataset.table")
    _check_text("table", table)
    source = ".".join(d.ident(p.strip()) for p in parts)
    return _Query(d, model.preparation, model, _id_column(model), source).build()


def export_sql_from_transactions(
    model: SegmentationModel,
    *,
    dialect: str,
    table: str = "transactions",
    statements_table: str | None = None,
    accounts_table: str | None = None,
    as_of: str | date | None = None,
) -> str:
    """One SQL query from the raw transaction table to every customer's segment.

    The model's roll-up (``model.training["transactions"]``, kept by ``custseg fit
    --transactions``) reads ``table`` and builds one row per customer, as
    :func:`custseg.features.build_features` did at training; the scoring query of
    :func:`export_sql` then reads those rows. Both halves are one ``WITH`` query.

    Parameters
    ----------
    model : SegmentationModel
        A model fitted from transactions.
    dialect : str
        One of :data:`custseg.scoring.dialects.DIALECTS`.
    table : str, default "transactions"
        The raw transaction table (dots separate qualifiers).
    statements_table, accounts_table : str, optional
        The card recipe's statements and accounts tables, when the model was fitted
        with them; a model that reads their features is refused without them.
    as_of : str or datetime.date, optional
        The as-of date (the window ends the day before): a date, ``"today"`` (the
        warehouse's date when the query runs), or ``None`` for the day after the
        table's last transaction, computed in SQL (what the Python roll-up does).
        The query's first lines say which.

    Returns
    -------
    str
        A ``WITH ... SELECT`` query with the columns of :func:`export_sql`, one row
        per customer of the window.

    Raises
    ------
    ConfigError
        An unknown dialect, a bad table name or date, or a table the model's
        features need that was not named.
    ModelError
        If the model was not fitted from transactions.
    """
    from ..features.export import rollup_query

    d = _check_model(model, dialect)
    id_column = _id_column(model)
    record = model.training.get("transactions")
    if not record:
        raise ModelError(
            "the model was not fitted from transactions, so it has no roll-up to export;"
            " use --table with a customer table, or refit with custseg fit --transactions"
        )
    rollup = rollup_query(
        record,
        dialect=d.name,
        needed=model.preparation.input_columns,
        table=table,
        statements_table=statements_table,
        accounts_table=accounts_table,
        as_of=as_of,
    )
    if rollup.id_column != id_column:
        raise ModelError(
            f"the roll-up names customers {rollup.id_column!r} but the model {id_column!r};"
            " refit it with custseg fit --transactions"
        )
    query = _Query(d, model.preparation, model, id_column, d.ident(rollup.relation))
    return query.build(preamble=rollup.ctes, notes=rollup.notes)


def _check_model(model: SegmentationModel, dialect: str) -> Dialect:
    if not isinstance(model, SegmentationModel):
        raise ConfigError(
            f"model should be a SegmentationModel, got {type(model).__name__};"
            " load one with custseg.load_model(path)"
        )
    d = get_dialect(dialect)
    for segment in model.segments:
        _check_text("segment name", segment.name)
    for column in [model.schema.id_column, *model.preparation.input_columns]:
        if column is not None:
            _check_text("column", column)
    return d


def _id_column(model: SegmentationModel) -> str:
    id_column = model.schema.id_column
    if id_column is None:
        raise ConfigError(
            "the model has no identifier column, so SQL results could not be joined back;"
            " refit it with an id column (id_column, --id-column)"
        )
    return id_column


class _Query:
    """Builds the CTEs of one export; aliases are positional so user names appear once."""

    def __init__(
        self,
        d: Dialect,
        plan: PreparationPlan,
        model: SegmentationModel,
        id_column: str,
        source: str,
    ) -> None:
        self.d = d
        self.plan = plan
        self.model = model
        self.id_column = id_column
        self.source = source
        self.alias: dict[str, str] = {}  # column name (raw or derived) -> alias
        # The unseen-level codes ride along from cs_clean to cs_profile.
        self.carried = ["cs_id", "cs_ok"] + (["cs_unseen"] if plan.input_categorical else [])

    def build(self, preamble: Sequence[tuple[str, str]] = (), notes: Sequence[str] = ()) -> str:
        """The query; ``preamble`` CTEs come first (the rows may be one of them)."""
        ctes = [*preamble, ("cs_input", self._input())]
        if any(f.clustering for f in self.plan.domain_features):
            ctes.append(("cs_derived", self._derived()))
        ctes += [
            ("cs_clean", self._clean(ctes[-1][0])),
            ("cs_features", self._features()),
        ]
        coordinates = [f"cs_f{j}" for j in range(len(self.plan.prepared_names))]
        if self.plan.pca is not None:
            ctes.append(("cs_pca", self._pca(coordinates)))
            coordinates = [f"cs_p{j}" for j in range(len(self.plan.pca["components"]))]
        ctes += [
            ("cs_distance", self._distance(coordinates, ctes[-1][0])),
            ("cs_nearest", self._nearest()),
            ("cs_assigned", self._assigned()),
            ("cs_profile", self._profile()),
        ]
        body = ",\n".join(self.d.cte(name, sql) for name, sql in ctes)
        # The header is the one place outside literals where model text appears: only
        # validated fields (a version number, an ISO time), and never a line break.
        header = _comment(
            f"custseg {self.model.custseg_version} scoring query ({self.d.name}):"
            f" {self.model.k} segments, model created {self.model.created_at}"
        )
        header += "".join(_comment(note) for note in notes)
        return f"{header}WITH\n{body}\n{self._final()}\n"

    # -- helpers

    @staticmethod
    def _select(items: Sequence[str], source: str) -> str:
        return "  SELECT\n    " + ",\n    ".join(items) + f"\n  FROM {source}"

    # -- steps

    def _input(self) -> str:
        d = self.d
        items = [f"{d.ident(self.id_column)} AS cs_id"]
        checks: list[str] = []
        for i, name in enumerate(self.plan.input_numeric):
            cast = f"CAST({d.ident(name)} AS {d.double})"
            items.append(
                f"CASE WHEN ABS({cast}) <= {_num(MAX_ABS_VALUE)} THEN {cast} END AS cs_n{i}"
            )
            checks.append(f"({d.ident(name)} IS NULL OR ABS({cast}) <= {_num(MAX_ABS_VALUE)})")
            self.alias[name] = f"cs_n{i}"
        gaps = ", ".join(d.string(t) for t in sorted(MISSING_TOKENS))
        for i, name in enumerate(self.plan.input_categorical):
            text = f"TRIM(CAST({d.ident(name)} AS {d.text}))"
            items.append(
                f"CASE WHEN LOWER({text}) IN ({gaps}) THEN NULL ELSE {text} END AS cs_c{i}"
            )
            self.alias[name] = f"cs_c{i}"
        # An empty identifier is rejected by Python scoring: the same rows here.
        ident = d.ident(self.id_column)
        checks.append(f"{ident} IS NOT NULL AND CAST({ident} AS {d.text}) <> ''")
        items.append("(" + " AND ".join(checks) + ") AS cs_ok")
        return self._select(items, self.source)

    def _derived(self) -> str:
        items = ["*"]
        for j, spec in enumerate(f for f in self.plan.domain_features if f.clustering):
            alias = f"cs_x{j}"
            items.append(f"{_derived_sql(spec, self.alias, self.d)} AS {alias}")
            self.alias[spec.name] = alias
        return self._select(items, "cs_input")

    def _clean(self, source: str) -> str:
        items = ["cs_id", "cs_ok"]
        for i, step in enumerate(self.plan.numeric_steps):
            x = self.alias[step.column]
            v = f"COALESCE({x}, {_num(step.impute)})"
            if step.clip is not None:
                v = f"LEAST(GREATEST({v}, {_num(step.clip[0])}), {_num(step.clip[1])})"
            items.append(f"{v} AS cs_v{i}")
            if step.indicator is not None:
                items.append(f"CASE WHEN {x} IS NULL THEN 1e0 ELSE 0e0 END AS cs_m{i}")
        for i, cat in enumerate(self.plan.categorical_steps):
            items.append(f"{_level_sql(cat, self.alias[cat.column], self.d)} AS cs_l{i}")
        if self.plan.input_categorical:
            items.append(f"{self._unseen_sql()} AS cs_unseen")
        return self._select(items, source)

    def _unseen_sql(self) -> str:
        """``;unseen_level:<column>`` for each raw category value the model does not encode."""
        steps = {cat.column: cat for cat in self.plan.categorical_steps}
        parts = []
        for name in self.plan.input_categorical:
            if name not in steps:  # profiled only: every level repeats another column's
                continue
            x = self.alias[name]
            known = (*steps[name].levels, *steps[name].dropped)
            levels = ", ".join(self.d.string(level) for level in known)
            code = self.d.string(f";{UNSEEN_LEVEL}:{name}")
            parts.append(
                f"CASE WHEN {x} IS NOT NULL AND {x} NOT IN ({levels}) THEN {code} ELSE '' END"
            )
        return " || ".join(parts)

    def _features(self) -> str:
        items = list(self.carried)
        j = 0
        for i, step in enumerate(self.plan.numeric_steps):
            items.append(f"{_numeric_sql(step, f'cs_v{i}')} AS cs_f{j}")
            j += 1
            if step.indicator is not None:
                items.append(f"cs_m{i} AS cs_f{j}")
                j += 1
        for i, cat in enumerate(self.plan.categorical_steps):
            for level, center, scale in zip(cat.levels, cat.center, cat.scale, strict=True):
                hot = f"CASE WHEN cs_l{i} = {self.d.string(level)} THEN 1e0 ELSE 0e0 END"
                if center != 0.0 or scale != 1.0:
                    hot = f"({_minus(hot, center)}) / {_num(scale)}"
                items.append(f"{hot} AS cs_f{j}")
                j += 1
        return self._select(items, "cs_clean")

    def _pca(self, coordinates: list[str]) -> str:
        assert self.plan.pca is not None
        mean = self.plan.pca["mean"]
        items = list(self.carried)
        for k, row in enumerate(self.plan.pca["components"]):
            terms = [
                f"({_minus(c, m)}) * {_num(w)}"
                for c, m, w in zip(coordinates, mean, row, strict=True)
            ]
            items.append(" + ".join(terms) + f" AS cs_p{k}")
        return self._select(items, "cs_features")

    def _distance(self, coordinates: list[str], source: str) -> str:
        items = list(self.carried)
        for c, centroid in enumerate(self.model.centroids):
            terms = [
                f"({_minus(x, float(v))}) * ({_minus(x, float(v))})"
                for x, v in zip(coordinates, centroid, strict=True)
            ]
            items.append(" + ".join(terms) + f" AS cs_d{c}")
        return self._select(items, source)

    def _nearest(self) -> str:
        k = self.model.k
        least = "cs_d0" if k == 1 else "LEAST(" + ", ".join(f"cs_d{c}" for c in range(k)) + ")"
        return self._select(["*", f"{least} AS cs_dmin"], "cs_distance")

    def _assigned(self) -> str:
        whens = " ".join(f"WHEN cs_d{c} = cs_dmin THEN {c}" for c in range(self.model.k))
        items = [
            *(c for c in self.carried if c != "cs_ok"),
            f"CASE WHEN NOT cs_ok THEN NULL {whens} END AS cs_segment",
            "CASE WHEN cs_ok THEN SQRT(cs_dmin) END AS cs_distance",
        ]
        return self._select(items, "cs_nearest")

    def _profile(self) -> str:
        """Percentile and flags of each assigned row (NULL for rows Python rejects)."""
        percentiles, quantiles, thresholds = self.model.distance_profile.arrays()
        levels = percentiles.tolist()
        by_segment = " ".join(
            f"WHEN {s} THEN {_percentile_sql('cs_distance', levels, row)}"
            for s, row in enumerate(quantiles.tolist())
        )
        beyond = " ".join(
            f"WHEN {s} THEN CASE WHEN cs_distance > {_num(t)} THEN"
            f" {self.d.string(';' + OUT_OF_PROFILE)} ELSE '' END"
            for s, t in enumerate(thresholds.tolist())
        )
        codes = f"(CASE cs_segment {beyond} END)"
        if self.plan.input_categorical:
            codes += " || cs_unseen"
        items = [
            "cs_id",
            "cs_segment",
            "cs_distance",
            f"CASE cs_segment {by_segment} END AS cs_percentile",
            f"NULLIF(SUBSTR({codes}, 2), '') AS cs_flags",
        ]
        return self._select(items, "cs_assigned")

    def _final(self) -> str:
        names = " ".join(f"WHEN {s.id} THEN {self.d.string(s.name)}" for s in self.model.segments)
        items = [
            f"cs_id AS {self.d.ident(self.id_column)}",
            "cs_segment AS segment_id",
            f"CASE cs_segment {names} END AS segment_name",
            "cs_distance AS distance",
            f"cs_percentile AS {PERCENTILE_COLUMN}",
            f"cs_flags AS {FLAGS_COLUMN}",
        ]
        return "SELECT\n  " + ",\n  ".join(items) + "\nFROM cs_profile"


def _percentile_sql(d: str, percentiles: Sequence[float], q: Sequence[float]) -> str:
    """The interpolation of :func:`custseg.cluster.typicality.distance_percentiles` as SQL.

    The interval ``q[j-1] <= d < q[j]`` is the first ``j`` with ``d < q[j]``; intervals
    of zero width can never be it and are left out. The test is a tree of nested CASEs
    (about 7 comparisons a row for 101 intervals, not 50 in a flat list). Slopes are
    computed here, in Python, as :func:`numpy.interp` computes them: the same doubles.
    """
    q = [float(v) for v in q]
    p = [float(v) for v in percentiles]
    pieces = [(q[0], "0e0")]
    for j in range(1, len(q)):
        if q[j] <= q[j - 1]:
            continue
        slope = (p[j] - p[j - 1]) / (q[j] - q[j - 1])
        pieces.append((q[j], f"{_num(slope)} * ({_minus(d, q[j - 1])}) + {_num(p[j - 1])}"))
    return _first_below(d, pieces, "1e2")


def _first_below(d: str, pieces: Sequence[tuple[float, str]], default: str) -> str:
    """The expression of the first ``(bound, expression)`` with ``d < bound``, else ``default``.

    ``pieces`` are sorted by bound; the search halves them at every level.
    """
    if not pieces:
        return default
    middle = (len(pieces) - 1) // 2
    bound, expression = pieces[middle]
    below = _first_below(d, pieces[:middle], expression)
    above = _first_below(d, pieces[middle + 1 :], default)
    return f"CASE WHEN {d} < {_num(bound)} THEN {below} ELSE {above} END"


def _derived_sql(spec: DomainFeature, alias: dict[str, str], d: Dialect) -> str:
    """A derived feature from already-cast columns (see :mod:`custseg.prepare.recipes`)."""
    if spec.kind == "ratio":
        num = alias[spec.sources["numerator"]]
        den = alias[spec.sources["denominator"]]
        # Missing unless the denominator is > 0; a denominator so tiny that the ratio
        # would overflow also gives a gap (Python turns the overflow into NaN).
        return (
            f"CASE WHEN {num} IS NULL THEN NULL"
            f" WHEN {den} >= 1e-280 THEN {num} / {den}"
            f" WHEN {den} > 0e0 AND ABS({num}) <= {den} * 1e300 THEN {num} / {den} END"
        )
    oneoff = alias[spec.sources["oneoff"]]
    instal = alias[spec.sources["installments"]]
    labels = spec.labels
    return (
        f"CASE WHEN {oneoff} > 0e0 AND {instal} > 0e0 THEN {d.string(labels['both'])}"
        f" WHEN {oneoff} > 0e0 THEN {d.string(labels['oneoff_only'])}"
        f" WHEN {instal} > 0e0 THEN {d.string(labels['installments_only'])}"
        f" ELSE {d.string(labels['none'])} END"
    )


def _level_sql(cat: CategoricalStep, column: str, d: Dialect) -> str:
    """The level a category counts as: itself, ``other`` when unseen, or NULL (no column).

    A dropped level (encoded by another column) is NULL, never ``other``.
    """
    filled = f"COALESCE({column}, {d.string(cat.impute)})"
    levels = ", ".join(d.string(level) for level in cat.levels)
    unseen = d.string(cat.other) if cat.other in cat.levels else "NULL"
    dropped = ""
    if cat.dropped and unseen != "NULL":
        known = ", ".join(d.string(level) for level in cat.dropped)
        dropped = f" WHEN {filled} IN ({known}) THEN NULL"
    return f"CASE WHEN {filled} IN ({levels}) THEN {filled}{dropped} ELSE {unseen} END"


def _numeric_sql(step: NumericStep, v: str) -> str:
    """Skew transform, scaling and bounding of one imputed, clipped column ``v``."""
    t = _TRANSFORMS[step.transform](v, step.lambda_)
    z = f"({_minus(t, step.center)}) / {_num(step.scale)}"
    return f"LEAST(GREATEST({z}, {_num(-OUTPUT_BOUND)}), {_num(OUTPUT_BOUND)})"


def _log1p(v: str, lam: float | None) -> str:
    # Negatives (refunds) are clipped to 0 first, as in Python.
    return f"LN(1e0 + GREATEST({v}, 0e0))"


def _yeo_johnson(v: str, lam: float | None) -> str:
    assert lam is not None
    if lam == 0.0:
        positive = f"LN(1e0 + {v})"
    else:
        positive = f"(POWER({v} + 1e0, {_num(lam)}) - 1e0) / {_num(lam)}"
    if lam == 2.0:
        negative = f"-LN(1e0 - {v})"
    else:
        other = 2.0 - lam
        negative = f"-((POWER(1e0 - {v}, {_num(other)}) - 1e0) / {_num(other)})"
    return f"CASE WHEN {v} >= 0e0 THEN {positive} ELSE {negative} END"


def _identity(v: str, lam: float | None) -> str:
    return v


_TRANSFORMS: dict[str, Callable[[str, float | None], str]] = {
    "log1p": _log1p,
    "yeo-johnson": _yeo_johnson,
    "none": _identity,
}
