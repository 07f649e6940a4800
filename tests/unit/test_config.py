"""Every rule of the params schema, and the one-line errors a user sees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from src.config import Params, get_config, with_overrides
from src.errors import ConfigError


def write_params(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        get_config(write_params(tmp_path, text))
    return str(caught.value)


def test_repo_params_file_is_valid_and_matches_documented_defaults() -> None:
    config = get_config()
    assert config.data.test_size == 0.2
    assert config.train.algorithm == "random_forest"
    assert config.mlflow.promotion_metric == "accuracy"


def test_defaults_apply_without_a_params_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("src.config.PARAMS_FILE", tmp_path / "absent.yaml")
    assert get_config() == Params()


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.yaml: params file not found"):
        get_config(tmp_path / "absent.yaml")


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert get_config(write_params(tmp_path, "")) == Params()


def test_partial_sections_keep_other_defaults(tmp_path: Path) -> None:
    config = get_config(write_params(tmp_path, "train:\n  n_estimators: 7\n"))
    assert config.train.n_estimators == 7
    assert config.train.max_depth == 10
    assert config.data == Params().data


def test_config_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = write_params(tmp_path, "train:\n  n_estimators: 7\n")
    first = get_config(path)
    assert get_config(path) is first
    path.write_text("train:\n  n_estimators: 8\n")
    later = path.stat().st_mtime_ns + 10_000  # same-second writes must still invalidate
    os.utime(path, ns=(later, later))
    assert get_config(path).train.n_estimators == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data:\n  test_size: 0\n", "data.test_size = 0: Input should be greater than 0"),
        ("data:\n  test_size: 1.5\n", "data.test_size = 1.5: Input should be less than 1"),
        ("data:\n  test_size: half\n", "data.test_size = 'half'"),
        ("data:\n  random_state: -1\n", "data.random_state = -1"),
        ("data:\n  stratify: maybe\n", "data.stratify = 'maybe'"),
        (
            "train:\n  n_estimators: 0\n",
            "train.n_estimators = 0: Input should be greater than or equal to 1",
        ),
        ("train:\n  n_estimators: 2.5\n", "train.n_estimators = 2.5"),
        ("train:\n  max_depth: 0\n", "train.max_depth = 0"),
        (
            "train:\n  algorithm: xgboost\n",
            "train.algorithm = 'xgboost': Input should be 'random_forest' or 'logistic_regression'",
        ),
        ("train:\n  C: 0\n", "train.C = 0"),
        ("train:\n  max_iter: 0\n", "train.max_iter = 0"),
        ("mlflow:\n  experiment_name: ''\n", "mlflow.experiment_name = ''"),
        ("mlflow:\n  promotion_metric: loss\n", "mlflow.promotion_metric = 'loss'"),
        ("cv:\n  train:\n    imgsz: 100\n", "cv.train.imgsz = 100: must be a multiple of 32"),
        ("cv:\n  train:\n    device: gpu\n", "cv.train.device = 'gpu'"),
    ],
)
def test_each_rule_names_file_key_value_and_rule(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert message.startswith(str(tmp_path / "params.yaml"))
    assert expected in message
    assert "\n" not in message


def test_max_depth_null_means_unlimited(tmp_path: Path) -> None:
    assert get_config(write_params(tmp_path, "train:\n  max_depth: null\n")).train.max_depth is None


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("train:\n  n_estimator: 5\n", "train.n_estimator", "n_estimators"),
        ("data:\n  testsize: 0.3\n", "data.testsize", "test_size"),
        ("trian:\n  n_estimators: 5\n", "trian", "train"),
        ("mlflow:\n  experiment: x\n", "mlflow.experiment", "experiment_name"),
    ],
)
def test_typoed_keys_are_errors_with_a_suggestion(
    tmp_path: Path, text: str, key: str, hint: str
) -> None:
    message = error_of(tmp_path, text)
    assert f"{key}: unknown key (did you mean '{hint}'?)" in message


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "train:\n  n_estimators: [1, 2\n")
    assert "invalid YAML" in message and "line" in message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert "expected a mapping" in error_of(tmp_path, "- 1\n- 2\n")


def test_overrides_go_through_the_same_model() -> None:
    train = Params().train
    assert with_overrides(train, n_estimators=150, max_depth=15).n_estimators == 150
    with pytest.raises(ConfigError, match=r"train\.n_estimators = 0"):
        with_overrides(train, "train_model()", "train", n_estimators=0)
    with pytest.raises(ConfigError, match=r"train\.n_trees: unknown key"):
        with_overrides(train, "train_model()", "train", n_trees=3)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00b\x00i\x00n", b"train:\x00 {}\n"])
def test_a_binary_params_file_is_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "params.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        get_config(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "YAML text" in message and "\n" not in message
