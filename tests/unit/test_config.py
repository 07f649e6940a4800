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


# --------------------------------------------------------------------------- cv.dataset
@pytest.mark.parametrize(
    ("images", "fractions", "sizes"),
    [
        (80, (0.6, 0.2, 0.2), (48, 16, 16)),  # the default dataset on the synthetic stand-in
        (69, (0.6, 0.2, 0.2), (43, 13, 13)),  # about what the real COCO128 holds
        (11, (0.5, 0.3, 0.2), (6, 3, 2)),  # val and test floor, train gets the rest
        (10, (0.7, 0.2, 0.1), (7, 2, 1)),  # 10 * 0.7 is 7.000000000000001: no surprise
        (100, (0.29, 0.29, 0.29), (29, 29, 29)),  # 100 * 0.29 is 28.999999999999996
        (10, (0.5, 0.25, 0.0), (5, 2, 0)),  # a sum below 1 leaves images unused
        (4, (0.6, 0.2, 0.2), (4, 0, 0)),
    ],
)
def test_split_sizes_round_down_val_and_test(
    images: int, fractions: tuple[float, float, float], sizes: tuple[int, int, int]
) -> None:
    from src.config import split_sizes

    assert split_sizes(images, *fractions) == sizes


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ({"train": 0.7}, "train + val + test = 1.1 must be <= 1 (train 0.7, val 0.2, test 0.2)"),
        ({"val": 0}, "cv.dataset.val = 0: Input should be greater than 0"),
        ({"train": 1.5}, "cv.dataset.train = 1.5: Input should be less than or equal to 1"),
        ({"max_images": 4}, "max_images 4 is too few for a non-empty train and val split"),
        ({"classes": [0, 0]}, "cv.dataset.classes = [0, 0]: lists the same class twice"),
        ({"classes": []}, "cv.dataset.classes = []: List should have at least 1 item"),
        ({"train": 48}, "cv.dataset.train = 48: Input should be less than or equal to 1"),
        ({"val": 1e-7}, "train 0.6 and val 1e-07 are too small: no split of up to a million"),
    ],
)
def test_dataset_fractions_are_validated_in_one_line(
    tmp_path: Path, dataset: dict[str, object], expected: str
) -> None:
    import yaml

    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"cv": {"dataset": dataset}}))
    with pytest.raises(ConfigError) as info:
        get_config(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_set_param_rewrites_one_line_and_keeps_comments(tmp_path: Path) -> None:
    from src.config import set_param

    path = tmp_path / "params.yaml"
    text = (
        "# the knobs\ncv:\n  dataset:\n    source: data/coco128_synthetic  # where from\n"
        "    seed: 0\n  download:\n    into: []   # none\n"
    )
    path.write_text(text)
    set_param(path, "cv.dataset.source", "data/coco128")
    set_param(path, "cv.download.into", ["data/coco128"])
    assert path.read_text() == (
        "# the knobs\ncv:\n  dataset:\n    source: data/coco128            # where from\n"
        "    seed: 0\n  download:\n    into: [data/coco128]  # none\n"
    )
    assert get_config(path).cv.dataset.source == "data/coco128"
    with pytest.raises(ConfigError, match=r"no line 'cv\.dataset\.max_images: \.\.\.'"):
        set_param(path, "cv.dataset.max_images", 10)
    with pytest.raises(ConfigError, match=r"cv\.dataset\.seed = -1"):
        set_param(path, "cv.dataset.seed", -1)
    assert "seed: 0\n" in path.read_text(), "an invalid value is never written"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n_trials: 0", "cv.tune.n_trials = 0: Input should be greater than or equal to 1"),
        ("n_trials: 5000", "cv.tune.n_trials = 5000: Input should be less than or equal to 1000"),
        ("seed: -1", "cv.tune.seed = -1"),
        ("startup_trials: 0", "cv.tune.startup_trials = 0"),
        ("warmup_epochs: -2", "cv.tune.warmup_epochs = -2"),
        ("timeout_s: 0", "cv.tune.timeout_s = 0: Input should be greater than 0"),
        ("study_name: ../escape", "cv.tune.study_name = '../escape': String should match"),
        ("n_trails: 3", "cv.tune.n_trails: unknown key (did you mean 'n_trials'?)"),
    ],
)
def test_tune_settings_are_bounded(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, f"cv:\n  tune:\n    {text}\n")
    assert expected in message and "\n" not in message


def test_tune_defaults_come_from_the_params_file() -> None:
    tune = get_config().cv.tune
    assert (tune.study_name, tune.n_trials, tune.seed, tune.timeout_s) == ("yolo-tune", 6, 0, None)
