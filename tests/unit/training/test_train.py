"""train/evaluate on real Iris, without MLflow: behaviour, reproducibility, bad input."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from src.cli import run_main
from src.config import IRIS_CLASSES, TrainParams
from src.errors import ConfigError, DataError, OutputError
from src.io_utils import sha256_file
from src.iris.model_io import load_verified_model
from src.training.train import build_estimator, main, train_model
from tests.iris_helpers import make_splits


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    return make_splits(tmp_path / "data")


def train_offline(processed: Path, models: Path, **overrides: object) -> tuple[object, dict]:
    return train_model(
        use_mlflow=False,
        models_dir=models,
        train_csv=processed / "train.csv",
        test_csv=processed / "test.csv",
        **overrides,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def trained(processed: Path, tmp_path: Path) -> Path:
    models = tmp_path / "models"
    train_offline(processed, models)
    return models


@pytest.mark.parametrize("algorithm", ["random_forest", "logistic_regression"])
def test_both_algorithms_beat_the_accuracy_floor(
    processed: Path, tmp_path: Path, algorithm: str
) -> None:
    _, metadata = train_offline(processed, tmp_path / "models", algorithm=algorithm)
    assert metadata["metrics"]["accuracy"] >= 0.85
    assert set(metadata["per_class_metrics"]) == set(IRIS_CLASSES)
    assert metadata["mlflow"] is None


def test_the_training_runs_with_the_collector_paused(
    processed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    build = build_estimator

    def build_and_record(params: TrainParams) -> object:
        seen.append(gc.isenabled())
        return build(params)

    monkeypatch.setattr("src.training.train.build_estimator", build_and_record)
    train_offline(processed, tmp_path / "models")
    assert seen == [False]
    assert gc.isenabled()


def test_outputs_and_metadata_describe_the_training(processed: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    _, metadata = train_offline(processed, models, n_estimators=150, max_depth=15)
    on_disk = json.loads((models / "metadata.json").read_text())
    assert on_disk == metadata
    assert metadata["params"]["train"]["n_estimators"] == 150
    assert metadata["params"]["train"]["max_depth"] == 15
    assert metadata["model"]["sha256"] == sha256_file(models / "iris_model.pkl")
    assert metadata["data"]["train_sha256"] == sha256_file(processed / "train.csv")
    assert {"scikit-learn", "numpy", "pandas", "python"} <= set(metadata["versions"])
    assert json.loads((models / "metrics.json").read_text()) == metadata["metrics"]


def test_same_params_same_data_same_model_bytes(processed: Path, tmp_path: Path) -> None:
    _, first = train_offline(processed, tmp_path / "a")
    _, second = train_offline(processed, tmp_path / "b")
    assert first["model"]["sha256"] == second["model"]["sha256"]
    assert first["metrics"] == second["metrics"]
    _, third = train_offline(processed, tmp_path / "c", random_state=1, n_estimators=5)
    assert third["model"]["sha256"] != first["model"]["sha256"]


def test_saved_model_loads_only_when_its_hash_matches(processed: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    model, _ = train_offline(processed, models)
    loaded = load_verified_model(models / "metadata.json")
    assert type(loaded) is type(model)
    with open(models / "iris_model.pkl", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(DataError, match="refusing to unpickle"):
        load_verified_model(models / "metadata.json")


def test_invalid_override_leaves_outputs_untouched(processed: Path, trained: Path) -> None:
    before = snapshot(trained)
    with pytest.raises(ConfigError, match=r"train\.max_depth = 0"):
        train_offline(processed, trained, max_depth=0)
    assert snapshot(trained) == before


def test_missing_processed_data_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"run `make prepare` or `make dvc-repro`"):
        train_offline(tmp_path / "nowhere", tmp_path / "models")


def test_corrupt_csv_leaves_outputs_untouched(processed: Path, trained: Path) -> None:
    before = snapshot(trained)
    (processed / "test.csv").write_bytes(b"\x00\xff garbage\n1,2\n")
    with pytest.raises(DataError, match=r"test\.csv"):
        train_offline(processed, trained)
    assert snapshot(trained) == before


def test_unwritable_models_location_is_caught_before_training(
    processed: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "models"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OutputError, match="cannot create directory"):
        train_offline(processed, blocker / "sub")
    assert blocker.read_text() == "a file where a folder should be"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_models_dir(processed: Path, trained: Path) -> None:
    before = snapshot(trained)
    trained.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="not writable"):
            train_offline(processed, trained)
    finally:
        trained.chmod(0o755)
    assert snapshot(trained) == before


def test_unreachable_tracking_uri_is_caught_before_training(
    processed: Path,
    trained: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    before = snapshot(trained)
    with pytest.raises(SystemExit) as exited:
        run_main(main, ["--data-dir", str(processed), "--models-dir", str(trained)])
    assert exited.value.code == 5
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: MLFLOW_TRACKING_URI=http://127.0.0.1:9: server unreachable")
    assert "\n" not in err
    assert snapshot(trained) == before


def test_cli_bad_flag_value_exits_2_with_one_line(
    processed: Path, trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_main(
            main,
            [
                "--no-mlflow",
                "--n-estimators",
                "0",
                "--data-dir",
                str(processed),
                "--models-dir",
                str(trained),
            ],
        )
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: command line: train.n_estimators = 0: Input should be greater than or equal to 1"
    )


def test_cli_trains_without_mlflow(
    processed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_main(
            main,
            [
                "--no-mlflow",
                "--algorithm",
                "logistic_regression",
                "--data-dir",
                str(processed),
                "--models-dir",
                str(tmp_path / "m"),
            ],
        )
    assert exited.value.code == 0
    assert "train: logistic_regression accuracy=" in capsys.readouterr().out
    assert (tmp_path / "m" / "iris_model.pkl").is_file()


@pytest.mark.parametrize("keep", ["one row", "one class"])
def test_a_degenerate_train_split_is_refused_and_keeps_the_model(
    processed: Path, trained: Path, keep: str
) -> None:
    before = snapshot(trained)
    train_csv = processed / "train.csv"
    lines = train_csv.read_text().splitlines()
    rows = lines[1:2] if keep == "one row" else [r for r in lines[1:] if r.endswith(",setosa")]
    train_csv.write_text("\n".join([lines[0], *rows]) + "\n")
    with pytest.raises(DataError, match=r"train\.csv: too few rows per class"):
        train_offline(processed, trained)
    assert snapshot(trained) == before


def test_cli_absurd_tree_count_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_main(main, ["--n-estimators", "99999999999999999999", "--no-mlflow"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: command line: train.n_estimators = 99999999999999999999")
    assert "\n" not in err


@pytest.mark.parametrize("blocked", ["metrics.json", "metadata.json", "iris_model.pkl"])
def test_an_output_that_cannot_be_replaced_fails_before_anything_changes(
    processed: Path, trained: Path, blocked: str
) -> None:
    (trained / blocked).unlink()
    (trained / blocked).mkdir()
    files = {p.name: p.read_bytes() for p in trained.iterdir() if p.is_file()}
    with pytest.raises(OutputError, match=f"{blocked}: is a directory"):
        train_offline(processed, trained, n_estimators=20)
    assert {p.name: p.read_bytes() for p in trained.iterdir() if p.is_file()} == files
    assert (trained / blocked).is_dir()
    assert not list(trained.glob(".*.building-*"))


def test_a_dead_trainings_staging_folder_is_removed_by_the_next(
    processed: Path, trained: Path
) -> None:
    stale = trained / ".iris_model.pkl.building-999999999-0123abcd"
    stale.write_bytes(b"half written")
    train_offline(processed, trained)
    assert not stale.exists()
