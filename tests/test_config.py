"""Fit settings: explicit, validated, loadable from TOML."""

from __future__ import annotations

import numpy as np
import pytest

from custseg.config import FitConfig, PrepConfig, load_config, parse_k_range
from custseg.exceptions import ConfigError


def test_toml_maps_onto_the_dataclasses(tmp_path):
    path = tmp_path / "fit.toml"
    path.write_text(
        '[fit]\nk_range = [3, 7]\nrandom_state = 7\nexclude = ["TENURE"]\n'
        '[preparation]\nskew = "yeo-johnson"\nscaling = "robust"\n'
    )
    config = load_config(path)
    assert config.k_range == (3, 7)
    assert config.random_state == 7
    assert config.exclude == ("TENURE",)
    assert config.preparation.skew == "yeo-johnson"
    assert config.preparation.scaling == "robust"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[fit]\nk_rnage = [2, 5]\n", "unknown key"),
        ("[prep]\nskew = 'none'\n", "unknown section"),
        ("[fit]\nk_range = [5, 2]\n", "k_range"),
        ("[fit\n", "not valid TOML"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path, text, message):
    path = tmp_path / "fit.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")


@pytest.mark.parametrize("text, expected", [("2-10", (2, 10)), ("3 - 3", (3, 3))])
def test_parse_k_range(text, expected):
    assert parse_k_range(text) == expected


@pytest.mark.parametrize("text", ["1-5", "5-2", "a-b", "4"])
def test_parse_k_range_rejects(text):
    with pytest.raises(ConfigError, match="--k-range"):
        parse_k_range(text)


def test_invalid_k():
    with pytest.raises(ConfigError, match="k=0"):
        FitConfig(k=0)


def test_with_overrides_ignores_none_and_merges_the_preparation():
    base = FitConfig(k=4, exclude=("TENURE",), preparation=PrepConfig(scaling="robust"))
    merged = base.with_overrides(
        k=None, random_state=7, features=["BALANCE", "PURCHASES"], skew="none", pca=None
    )
    assert merged.k == 4 and merged.random_state == 7 and merged.exclude == ("TENURE",)
    assert merged.features == ("BALANCE", "PURCHASES")
    assert merged.preparation == PrepConfig(scaling="robust", skew="none")
    assert base.preparation.skew == "log1p"  # the original is unchanged


def test_with_overrides_without_values_is_the_same_config():
    config = FitConfig(k=3)
    assert config.with_overrides() is config
    assert config.with_overrides(k=None, skew=None) is config


def test_with_overrides_on_a_loaded_file(tmp_path):
    path = tmp_path / "fit.toml"
    path.write_text('[fit]\nk = 3\n[preparation]\nscaling = "robust"\nskew = "none"\n')
    merged = load_config(path).with_overrides(k=5, skew="yeo-johnson", playbook=tmp_path / "p.toml")
    assert merged.k == 5 and merged.playbook == str(tmp_path / "p.toml")
    assert (merged.preparation.scaling, merged.preparation.skew) == ("robust", "yeo-johnson")


def test_with_overrides_applies_a_whole_preparation_then_its_settings():
    merged = FitConfig().with_overrides(preparation=PrepConfig(impute="mean"), winsorize=0.01)
    assert merged.preparation == PrepConfig(impute="mean", winsorize=0.01)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"kk": 3}, r"^unknown setting kk=3; settings are \[.*'k'.*\] and, for the prep"),
        ({"k": 0}, r"^k=0 \(--k\) should be an integer >= 1; e.g. 5, or None to choose it"),
        ({"k": np.float64(3.5)}, r"^k=3\.5 \(--k\) should be an integer >= 1"),
        ({"n_init": np.float64(2.5)}, r"^n_init=2\.5 should be an integer >= 1$"),
        ({"k_range": (np.int64(1), np.int64(4))}, r"^k_range=\(1, 4\) is not valid"),
        ({"skew": "cube"}, r"^skew='cube' should be one of log1p, yeo-johnson, none"),
        ({"k_range": (5, 2)}, r"^k_range=\(5, 2\) is not valid"),
    ],
)
def test_with_overrides_rejects_unknown_names_and_bad_values(values, message):
    with pytest.raises(ConfigError, match=message):
        FitConfig().with_overrides(**values)


def test_numpy_integers_are_settings_like_any_integer():
    config = FitConfig(k=np.int64(3), k_range=(np.int64(2), np.int64(5)), n_init=np.int32(2))
    assert (config.k, config.k_range, config.n_init) == (3, (2, 5), 2)
    assert all(type(v) is int for v in (config.k, *config.k_range, config.n_init))


def test_parse_k_range_names_the_parameter_and_the_option():
    with pytest.raises(ConfigError, match=r"^k_range='9-3' \(--k-range\) should satisfy"):
        parse_k_range("9-3")
