"""The registry look-ups serving and prediction rely on (temporary SQLite store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.errors import DataError, TrackingError
from src.tracking import check_model_uri, logged_model_uri, tracked_run


def _log_run_with_model(tmp_path: Path) -> str:
    from src.cv.serving import log_detector_model

    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights")
    with tracked_run("tracking-test") as run:
        log_detector_model(weights, imgsz=64)
    return run.info.run_id


def test_logged_model_uri_finds_the_runs_model_or_says_there_is_none(
    tmp_path: Path, mlflow_store: str
) -> None:
    import mlflow

    run_id = _log_run_with_model(tmp_path)
    uri = logged_model_uri(run_id, "model")
    assert uri.startswith("models:/m-")
    assert mlflow.MlflowClient().get_logged_model(uri.removeprefix("models:/")).name == "model"
    with tracked_run("tracking-test") as empty:
        pass
    with pytest.raises(TrackingError, match=rf"run {empty.info.run_id} has no logged model"):
        logged_model_uri(empty.info.run_id, "model")


def test_check_model_uri_names_the_missing_model_alias_or_version(
    tmp_path: Path, mlflow_store: str
) -> None:
    import mlflow

    uri = logged_model_uri(_log_run_with_model(tmp_path), "model")
    mlflow.register_model(uri, "detector")
    mlflow.MlflowClient().set_registered_model_alias("detector", "champion", "1")

    for ok in ("models:/detector@champion", "models:/detector/1", uri, str(tmp_path)):
        assert check_model_uri(ok) == ok
    for bad, message in (
        ("models:/detector@gone", r"model 'detector' has no alias 'gone' \(aliases: champion\)"),
        ("models:/detector/7", r"model 'detector' has no version '7'"),
        ("models:/nobody@champion", r"no registered model 'nobody' in sqlite:///"),
        (str(tmp_path / "nowhere"), r"nowhere: no such model folder"),
    ):
        with pytest.raises(DataError, match=message) as caught:
            check_model_uri(bad)
        assert str(caught.value).startswith(bad) and "\n" not in str(caught.value)
