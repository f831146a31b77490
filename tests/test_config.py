"""Fit settings: explicit, validated, loadable from TOML."""

from __future__ import annotations

import pytest

from custseg.config import FitConfig, load_config, parse_k_range
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
