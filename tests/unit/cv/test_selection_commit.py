"""The grid's registration is one unit: a failure midway or an unfinished run registers nothing."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from cv_helpers import log_grid_run

from src.config import CvTrackingParams
from src.cv.selection import register_best
from src.errors import TrackingError

TRACKING = CvTrackingParams(experiment_name="yolo-commit", registered_model_name="yolo-commit-m")
_fake_run = partial(log_grid_run, TRACKING.experiment_name)


def _registry(uri: str) -> tuple[dict[str, str], list[str]]:
    import mlflow

    client = mlflow.MlflowClient(uri)
    model = client.get_registered_model(TRACKING.registered_model_name)
    versions = client.search_model_versions(f"name = '{TRACKING.registered_model_name}'")
    aliases = {alias: str(version) for alias, version in model.aliases.items()}
    return aliases, sorted(str(v.version) for v in versions)


def test_a_failure_after_registering_leaves_no_version_and_the_aliases_as_they_were(
    tmp_path: Path, mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    register_best(_fake_run(tmp_path, "first", 0.30, 10, "grid-1"), TRACKING)
    before = _registry(mlflow_store)
    assert before == ({"champion": "1", "challenger": "1"}, ["1"])

    better = _fake_run(tmp_path, "better", 0.40, 10, "grid-2")
    real_set_tag = mlflow.MlflowClient.set_tag

    def failing_set_tag(self, run_id, key, value, *args, **kwargs):  # type: ignore[no-untyped-def]
        if key.startswith("registry."):
            raise RuntimeError("the store went away")
        return real_set_tag(self, run_id, key, value, *args, **kwargs)

    monkeypatch.setattr(mlflow.MlflowClient, "set_tag", failing_set_tag)
    with pytest.raises(RuntimeError, match="the store went away"):
        register_best(better, TRACKING)
    assert _registry(mlflow_store) == before


def test_a_run_that_did_not_finish_is_never_registered(tmp_path: Path, mlflow_store: str) -> None:
    import mlflow

    register_best(_fake_run(tmp_path, "first", 0.30, 10, "grid-1"), TRACKING)
    before = _registry(mlflow_store)
    killed = _fake_run(tmp_path, "killed", 0.90, 10, "grid-2")
    mlflow.MlflowClient(mlflow_store).set_terminated(killed["mlflow_run_id"], status="KILLED")
    with pytest.raises(TrackingError, match="is KILLED, not FINISHED"):
        register_best(killed, TRACKING)
    assert _registry(mlflow_store) == before
