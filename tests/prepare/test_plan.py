"""The preparation plan: fitted steps, scoring of new rows, plain-data round trips."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from sklearn.decomposition import PCA

from _credit_cards import CC_PATH
from custseg.exceptions import ConfigError, DataError, ModelError, SchemaError
from custseg.prepare import ColumnInfo, TableSchema, check_rows, infer_schema
from custseg.prepare.plan import OUTPUT_BOUND, PreparationPlan, PrepConfig

CC_GENERAL = CC_PATH


@pytest.fixture(scope="module")
def cc_schema(cc: pd.DataFrame) -> TableSchema:
    return infer_schema(cc)


def _schema(numeric: list[str], categorical: list[str] | None = None) -> TableSchema:
    cols = [ColumnInfo(c, "numeric", "float64", "test") for c in numeric]
    cols += [ColumnInfo(c, "categorical", "str", "test") for c in categorical or []]
    return TableSchema(tuple(cols))


def _roundtrip(plan: PreparationPlan) -> PreparationPlan:
    return PreparationPlan.from_dict(json.loads(json.dumps(plan.to_dict(), allow_nan=False)))


# ---------------------------------------------------------------------- CC_GENERAL


def test_default_plan_on_cc_general(cc: pd.DataFrame, cc_schema: TableSchema) -> None:
    plan, X = PreparationPlan.fit_transform(cc, cc_schema)
    assert X.shape == (8950, len(plan.feature_names)) and X.dtype == np.float64
    assert np.isfinite(X).all()
    assert plan.input_columns == cc_schema.numeric
    # PURCHASES = ONEOFF_PURCHASES + INSTALLMENTS_PURCHASES: profiled, not clustered
    # (tests/prepare/test_redundancy.py); still an input, read at scoring.
    clustered = [c for c in cc_schema.numeric if c != "PURCHASES"]
    assert plan.feature_names[:16] == clustered
    # Money columns are log1p-ed, bounded shares and the left-skewed TENURE are not.
    steps = {s.column: s for s in plan.numeric_steps}
    for money in ("BALANCE", "ONEOFF_PURCHASES", "CASH_ADVANCE", "PAYMENTS", "MINIMUM_PAYMENTS"):
        assert steps[money].transform == "log1p"
    assert steps["PURCHASES_FREQUENCY"].transform == "none"
    assert steps["TENURE"].transform == "none"
    assert "BALANCE: log1p (skewness 2.39 > 1; -0.86 after)" in plan.decisions
    assert any(
        d.startswith("TENURE: no transform (skewness -2.94 is a left tail") for d in plan.decisions
    )
    assert steps["MINIMUM_PAYMENTS"].impute == float(cc["MINIMUM_PAYMENTS"].median())
    assert steps["MINIMUM_PAYMENTS"].indicator is None  # 3.5% gaps <= 5%
    # Standardised: every numeric column has mean 0 and unit variance on the training rows.
    np.testing.assert_allclose(X[:, :16].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(X[:, :16].std(axis=0), 1, atol=1e-9)
    assert plan.transform(cc[cc.columns[::-1]]).tobytes() == X.tobytes()
    assert _roundtrip(plan).transform(cc).tobytes() == X.tobytes()


def test_plan_dict_follows_the_documented_layout(cc: pd.DataFrame, cc_schema: TableSchema) -> None:
    d = PreparationPlan.fit(cc, cc_schema).to_dict()
    assert set(d) >= {
        "version",
        "config",
        "input_columns",
        "domain_features",
        "numeric",
        "categorical",
        "pca",
        "feature_names",
        "decisions",
    }
    assert d["input_columns"] == {"numeric": cc_schema.numeric, "categorical": []}
    balance = d["numeric"][0]
    assert set(balance) == {
        "column",
        "impute",
        "indicator",
        "clip",
        "transform",
        "lambda",
        "center",
        "scale",
    }
    assert balance["column"] == "BALANCE" and balance["transform"] == "log1p"
    ratio = next(f for f in d["domain_features"] if f["name"] == "CREDIT_UTILISATION")
    assert ratio["numerator"] == "BALANCE" and ratio["denominator"] == "CREDIT_LIMIT"
    assert isinstance(ratio["clustering"], bool) and ratio["description"]
    ptype = next(f for f in d["domain_features"] if f["name"] == "PURCHASE_TYPE")
    assert (
        ptype["oneoff"] == "ONEOFF_PURCHASES" and ptype["installments"] == "INSTALLMENTS_PURCHASES"
    )
    assert set(ptype["labels"].values()) == {"none", "one_off_only", "instalments_only", "both"}
    json.dumps(d, allow_nan=False)


def test_manual_arithmetic_matches_the_dict(cc: pd.DataFrame, cc_schema: TableSchema) -> None:
    """The dict is enough to recompute a column by hand, as the SQL export will."""
    plan = PreparationPlan.fit(cc, cc_schema, PrepConfig(winsorize=0.02))
    X = plan.transform(cc)
    step = plan.to_dict()["numeric"][plan.feature_names.index("PAYMENTS")]
    v = cc["PAYMENTS"].fillna(step["impute"]).clip(*step["clip"]).to_numpy()
    t = np.log1p(np.maximum(v, 0))
    expected = (t - step["center"]) / step["scale"]
    np.testing.assert_array_equal(X[:, plan.feature_names.index("PAYMENTS")], expected)


# ---------------------------------------------------------------------- single steps


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(5, 1.5, n)
    income = rng.normal(50, 10, n)
    income[: n // 10] = np.nan  # 10% gaps
    return pd.DataFrame(
        {
            "amount": amount,
            "income": income,
            "score": rng.normal(0, 1, n),
            "flat": np.full(n, 3.0),
            # "w" is rare: 2 rows of 400 (0.5% < rare_level_share 1%)
            "region": ["w", "w"] + list(rng.choice(["n", "s", "e"], n - 2, p=[0.4, 0.3, 0.3])),
        }
    )


def test_missing_indicator_above_threshold_and_mean_imputation() -> None:
    frame = _frame()
    schema = _schema(["amount", "income", "score"], ["region"])
    plan, X = PreparationPlan.fit_transform(frame, schema, PrepConfig(impute="mean"))
    names = plan.feature_names
    assert names[:4] == ["amount", "income", "income__missing", "score"]
    np.testing.assert_array_equal(X[:, 2], frame["income"].isna().astype(float))
    income = next(s for s in plan.numeric_steps if s.column == "income")
    assert income.impute == pytest.approx(frame["income"].mean())
    assert any("income: 40 gaps (10.0%) filled with the mean" in d for d in plan.decisions)
    plan2 = PreparationPlan.fit(frame, schema, PrepConfig(indicator_threshold=0.2))
    assert "income__missing" not in plan2.feature_names


def test_rare_levels_are_grouped_and_unseen_levels_never_fail() -> None:
    frame = _frame()
    schema = _schema(["amount"], ["region"])
    plan = PreparationPlan.fit(frame, schema)
    assert plan.feature_names[1:] == ["region=e", "region=n", "region=s", "region=__other__"]
    new = pd.DataFrame({"amount": [10.0, 10.0, 10.0, 10.0], "region": ["n", "w", "mars", None]})
    X = plan.transform(new)
    np.testing.assert_array_equal(
        X[:, 1:], [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]]
    )

    # Without rare levels there is no "__other__": unseen levels are all zeros.
    common = frame.assign(region=np.where(frame["region"] == "w", "e", frame["region"]))
    plan = PreparationPlan.fit(common, schema)
    assert plan.feature_names[1:] == ["region=e", "region=n", "region=s"]
    X = plan.transform(new)
    np.testing.assert_array_equal(X[:, 1:], [[0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_log1p_clips_negative_and_out_of_range_values_at_scoring() -> None:
    frame = _frame()
    schema = _schema(["amount"])
    plan = PreparationPlan.fit(frame, schema)
    assert plan.numeric_steps[0].transform == "log1p"
    X = plan.transform(pd.DataFrame({"amount": [0.0, -250.0, 1e14, np.nan]}))
    assert np.isfinite(X).all()
    assert X[1, 0] == X[0, 0]  # a refund scores like no spending
    assert X[2, 0] > 10  # far outside the training range, still finite


def test_yeo_johnson_matches_scipy_with_the_stored_lambda() -> None:
    frame = _frame()
    frame["signed"] = np.sinh(frame["score"] * 2)  # heavy tails on both sides
    schema = _schema(["amount", "signed"])
    plan = PreparationPlan.fit(frame, schema, PrepConfig(skew="yeo-johnson", scaling="robust"))
    X = plan.transform(frame)
    for j, step in enumerate(plan.numeric_steps):
        assert step.transform == "yeo-johnson" and step.lambda_ is not None
        expected = stats.yeojohnson(frame[step.column].to_numpy(), lmbda=step.lambda_)
        t = X[:, j] * step.scale + step.center
        np.testing.assert_allclose(t, expected, rtol=1e-9, atol=1e-9)
        assert step.center == pytest.approx(np.median(expected))
        assert step.scale == pytest.approx(np.subtract(*np.quantile(expected, [0.75, 0.25])))
    assert any("yeo-johnson lambda" in d for d in plan.decisions)


def test_winsorising_uses_training_quantiles() -> None:
    frame = _frame()
    plan = PreparationPlan.fit(frame, _schema(["score"]), PrepConfig(winsorize=0.05))
    lo, hi = np.quantile(frame["score"], [0.05, 0.95])
    assert plan.numeric_steps[0].clip == (lo, hi)
    X = plan.transform(pd.DataFrame({"score": [hi, hi + 100, lo - 100, lo]}))
    assert X[0, 0] == X[1, 0] and X[2, 0] == X[3, 0]


def test_constant_columns_scale_one_and_never_nan() -> None:
    frame = _frame()
    for scaling in ("standard", "robust"):
        plan, X = PreparationPlan.fit_transform(
            frame,
            _schema(["flat", "amount"]),
            PrepConfig(scaling=scaling),  # type: ignore[arg-type]
        )
        assert plan.numeric_steps[0].scale == 1.0
        assert (X[:, 0] == 0).all()
        assert "flat: constant after preparation; scale 1 (contributes 0)" in plan.decisions
        assert np.isfinite(plan.transform(pd.DataFrame({"flat": [1e9], "amount": [1.0]}))).all()


def test_robust_scaling_falls_back_when_the_iqr_is_zero() -> None:
    frame = pd.DataFrame({"cash": [0.0] * 90 + list(np.arange(1.0, 11.0))})
    plan = PreparationPlan.fit(frame, _schema(["cash"]), PrepConfig(scaling="robust", skew="none"))
    step = plan.numeric_steps[0]
    assert step.center == 0.0 and step.scale == pytest.approx(frame["cash"].std(ddof=0))
    assert any("interquartile range is 0" in d for d in plan.decisions)


@pytest.mark.parametrize("n_components", [3, 0.8])
def test_pca_agrees_with_scikit_learn(
    cc: pd.DataFrame, cc_schema: TableSchema, n_components: float
) -> None:
    plan, X = PreparationPlan.fit_transform(cc, cc_schema, PrepConfig(pca=n_components))
    base = PreparationPlan.fit(cc, cc_schema).transform(cc)
    ref = PCA(n_components=n_components, svd_solver="full").fit(base)
    k = ref.n_components_
    assert X.shape == (8950, k) and plan.feature_names == [f"PC{i + 1}" for i in range(k)]
    np.testing.assert_allclose(
        plan.pca["explained_variance_ratio"], ref.explained_variance_ratio_, rtol=1e-8
    )  # type: ignore[index]
    # Same axes up to sign.
    np.testing.assert_allclose(np.abs(X), np.abs(ref.transform(base)), atol=1e-7)
    comps = np.asarray(plan.pca["components"])  # type: ignore[index]
    np.testing.assert_allclose(comps @ comps.T, np.eye(k), atol=1e-10)
    assert _roundtrip(plan).transform(cc).tobytes() == X.tobytes()
    with pytest.raises(ConfigError, match="pca=40 should be <= the number of prepared columns 16"):
        PreparationPlan.fit(cc, cc_schema, PrepConfig(pca=40))


# ---------------------------------------------------------------------- errors


def test_bad_values_in_training_name_column_and_example(
    cc: pd.DataFrame, cc_schema: TableSchema
) -> None:
    bad = cc.astype({"PURCHASES": object})
    bad.loc[17, "PURCHASES"] = "abc"
    with pytest.raises(
        DataError, match=r"1 of 8,950 rows .*row 17: PURCHASES: 'abc' is not a number"
    ):
        PreparationPlan.fit(bad, cc_schema)
    inf = cc.copy()
    inf.loc[3, "BALANCE"] = np.inf
    with pytest.raises(DataError, match="BALANCE: infinite value"):
        PreparationPlan.fit(inf, cc_schema)
    plan = PreparationPlan.fit(cc, cc_schema)
    with pytest.raises(DataError, match="check_rows"):
        plan.transform(inf)


def test_missing_columns_and_empty_features(cc: pd.DataFrame, cc_schema: TableSchema) -> None:
    plan = PreparationPlan.fit(cc, cc_schema)
    with pytest.raises(SchemaError, match="required column 'TENURE'"):
        plan.transform(cc.drop(columns="TENURE"))
    only_id = infer_schema(cc[["CUST_ID", "TENURE"]].assign(TENURE=12))
    with pytest.raises(DataError, match="no usable feature column .*TENURE: constant"):
        PreparationPlan.fit(cc, only_id)
    empty = cc.assign(CREDIT_LIMIT=np.nan)
    with pytest.raises(DataError, match="'CREDIT_LIMIT' has no value in the 8950 training rows"):
        PreparationPlan.fit(empty, cc_schema)
    with pytest.raises(DataError, match="n_rows=1 should be >= 2"):
        PreparationPlan.fit(cc.iloc[:1], cc_schema)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"impute": "mode"}, "impute='mode' should be one of median, mean"),
        ({"skew": "boxcox"}, "skew='boxcox'"),
        ({"scaling": "minmax"}, "scaling='minmax'"),
        ({"winsorize": 0.7}, "winsorize=0.7"),
        ({"pca": 0}, "pca=0"),
        ({"pca": 1.5}, "pca=1.5"),
        ({"indicator_threshold": -0.1}, "indicator_threshold=-0.1"),
        ({"clustering_domain_features": "SPEND"}, "clustering_domain_features='SPEND'"),
    ],
)
def test_config_errors(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        PrepConfig(**kwargs)  # type: ignore[arg-type]


def test_unknown_derived_feature_is_refused_when_fitting(
    cc: pd.DataFrame, cc_schema: TableSchema
) -> None:
    config = PrepConfig(clustering_domain_features=("SPEND",))
    with pytest.raises(ConfigError, match="unknown derived feature 'SPEND'"):
        PreparationPlan.fit(cc, cc_schema, config)


def test_from_dict_refuses_inconsistent_plans(cc: pd.DataFrame, cc_schema: TableSchema) -> None:
    d = PreparationPlan.fit(cc, cc_schema).to_dict()
    with pytest.raises(ModelError, match="version 2"):
        PreparationPlan.from_dict({**d, "version": 2})
    with pytest.raises(ModelError, match="feature_names"):
        PreparationPlan.from_dict({**d, "feature_names": d["feature_names"][::-1]})
    broken = json.loads(json.dumps(d))
    del broken["numeric"][0]["center"]
    with pytest.raises(ModelError, match="malformed"):
        PreparationPlan.from_dict(broken)
    assert PrepConfig.from_dict(PrepConfig(pca=0.9).to_dict()) == PrepConfig(pca=0.9)
    with pytest.raises(ConfigError, match="unknown preparation settings"):
        PrepConfig.from_dict({"pcaa": 3})


# ---------------------------------------------------------------------- properties

_VALUES = st.one_of(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.just(float("nan"))
)
_CONFIGS = st.builds(
    PrepConfig,
    impute=st.sampled_from(["median", "mean"]),
    indicator_threshold=st.sampled_from([0.0, 0.05, 0.5]),
    skew=st.sampled_from(["log1p", "yeo-johnson", "none"]),
    skew_threshold=st.sampled_from([0.0, 1.0]),
    winsorize=st.sampled_from([None, 0.1]),
    scaling=st.sampled_from(["standard", "robust"]),
    pca=st.sampled_from([None, 1, 0.9]),
    rare_level_share=st.sampled_from([0.0, 0.2]),
)


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=2, max_value=30))
    data: dict[str, object] = {}
    for name in ("a", "b", "c"):
        col = draw(arrays(np.float64, n, elements=_VALUES))
        if np.isnan(col).all():
            col[draw(st.integers(0, n - 1))] = draw(st.floats(-1e6, 1e6))
        data[name] = col
    data["kind"] = draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n, max_size=n))
    return pd.DataFrame(data)


_SCHEMA = _schema(["a", "b", "c"], ["kind"])
_PROPS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPS
@given(frame=_frames(), config=_CONFIGS, new=_frames())
def test_property_outputs_are_finite_and_consistent(
    frame: pd.DataFrame, config: PrepConfig, new: pd.DataFrame
) -> None:
    plan, X = PreparationPlan.fit_transform(frame, _SCHEMA, config)
    assert np.isfinite(X).all() and X.shape == (len(frame), len(plan.feature_names))
    # Coordinates are bounded (PCA rotates and centres bounded coordinates).
    reach = OUTPUT_BOUND if plan.pca is None else 2 * OUTPUT_BOUND * len(plan.prepared_names)
    assert np.abs(X).max(initial=0) <= reach
    # What fit computed is what transform computes, bit for bit.
    assert plan.transform(frame).tobytes() == X.tobytes()
    # The plain-data form reproduces the same bits after JSON.
    again = _roundtrip(plan)
    assert again.transform(frame).tobytes() == X.tobytes()
    assert again.to_dict() == plan.to_dict()
    # Column order does not matter.
    assert plan.transform(frame[["kind", "c", "a", "b"]]).tobytes() == X.tobytes()
    # Other rows (other ranges, unseen gaps) are finite too.
    assert np.isfinite(plan.transform(new)).all()


@_PROPS
@given(frame=_frames(), unseen=st.text(min_size=1, max_size=5))
def test_property_unseen_categories_score_as_other_or_zero(
    frame: pd.DataFrame, unseen: str
) -> None:
    plan = PreparationPlan.fit(frame, _SCHEMA)
    cat = plan.categorical_steps[0]
    if unseen.strip() in cat.levels or unseen.strip().lower() in {
        "",
        "na",
        "nan",
        "none",
        "null",
        "n/a",
        "nat",
        "#n/a",
    }:
        return
    new = frame.iloc[:1].assign(kind=unseen)
    X = plan.transform(new)
    onehot = X[0, -len(cat.levels) :]
    expected = np.array([1.0 if lvl == cat.other else 0.0 for lvl in cat.levels])
    np.testing.assert_array_equal(onehot, expected)


def test_rows_checked_once_give_the_same_plan_matrix_and_derived_frame(sample_frame):
    schema = infer_schema(sample_frame)
    checked = check_rows(sample_frame, schema)
    plan_a, X_a = PreparationPlan.fit_transform(sample_frame, schema)
    plan_b, X_b = PreparationPlan.fit_transform(checked, schema)
    np.testing.assert_array_equal(X_a, X_b)
    assert plan_a.to_dict() == plan_b.to_dict()
    np.testing.assert_array_equal(plan_b.transform(checked), X_a)
    derived = plan_b.derive(checked)
    expected = plan_a.derive(sample_frame)
    for name in (*plan_a.input_numeric, *(f.name for f in plan_a.domain_features)):
        pd.testing.assert_series_equal(derived[name], expected[name], check_index=False)


def test_a_checked_frame_with_rejected_rows_or_missing_columns_is_refused(sample_frame):
    schema = infer_schema(sample_frame)
    plan = PreparationPlan.fit(sample_frame, schema)
    bad = sample_frame.head(20).copy()
    bad["PURCHASES"] = bad["PURCHASES"].astype(object)
    bad.loc[bad.index[3], "PURCHASES"] = "abc"
    checked = check_rows(bad, schema)
    with pytest.raises(DataError, match="'abc' is not a number"):
        PreparationPlan.fit_transform(checked, schema)
    with pytest.raises(DataError, match="'abc' is not a number"):
        plan.derive(checked)
    partial = check_rows(sample_frame.head(20), schema)
    partial.frame = partial.frame.drop(columns=["BALANCE"])
    with pytest.raises(SchemaError, match="BALANCE"):
        plan.transform(partial)
