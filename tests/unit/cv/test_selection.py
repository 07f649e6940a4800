"""The grid's decision: the best-run rule and the registry aliases (temp MLflow store)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from cv_helpers import log_grid_run

from src.config import CvTrackingParams
from src.cv.selection import format_table, register_best, select_best
from src.errors import DataError

TRACKING = CvTrackingParams(experiment_name="yolo-test", registered_model_name="yolo-test-model")
_fake_run = partial(log_grid_run, TRACKING.experiment_name)


def _summary(name: str, value: float, seconds: float) -> dict[str, Any]:
    return {"config_name": name, "metrics": {"map50_95": value, "map50": value},
            "test_metrics": {}, "train_seconds": seconds}  # fmt: skip


def test_best_is_highest_metric_then_shorter_training() -> None:
    runs = [_summary("a", 0.3, 50), _summary("b", 0.4, 90), _summary("c", 0.4, 60)]
    assert select_best(runs, "map50_95")["config_name"] == "c"
    table = format_table(runs, "map50_95")
    assert table.splitlines()[2].startswith("* c ")
    with pytest.raises(DataError):
        select_best([], "map50_95")


def test_registry_challenger_always_champion_only_if_strictly_better(
    tmp_path: Path, mlflow_store: str
) -> None:
    import mlflow

    client = mlflow.MlflowClient(mlflow_store)

    def aliases() -> dict[str, str]:
        model = client.get_registered_model(TRACKING.registered_model_name)
        return {alias: str(version) for alias, version in model.aliases.items()}

    first = register_best(_fake_run(tmp_path, "first", 0.30, 10, "grid-1"), TRACKING)
    assert first.promoted and first.previous_champion is None
    assert aliases() == {"champion": "1", "challenger": "1"}

    worse = register_best(_fake_run(tmp_path, "worse", 0.20, 10, "grid-2"), TRACKING)
    assert not worse.promoted
    assert aliases() == {"champion": "1", "challenger": "2"}

    tie = register_best(_fake_run(tmp_path, "tie", 0.30, 5, "grid-3"), TRACKING)
    assert not tie.promoted  # a tie does not move the champion (strict rule)
    assert aliases() == {"champion": "1", "challenger": "3"}

    better = register_best(_fake_run(tmp_path, "better", 0.35, 10, "grid-4"), TRACKING)
    assert better.promoted and better.previous_champion == "1"
    assert aliases() == {"champion": "4", "challenger": "4"}

    version = client.get_model_version(TRACKING.registered_model_name, "4")
    assert version.source.startswith("models:/m-")  # the pyfunc model the run logged
    assert version.tags["metric.map50_95"] == "0.35"
    run = client.get_run(version.run_id)
    assert run.data.tags["registry.promoted"] == "true"
    assert run.data.tags["registry.version"] == "4"
    downloaded = mlflow.artifacts.download_artifacts(
        f"models:/{TRACKING.registered_model_name}@champion", dst_path=str(tmp_path / "dl")
    )
    assert (Path(downloaded) / "artifacts" / "best.pt").read_bytes() == b"weights of better"
    assert (Path(downloaded) / "code" / "src" / "cv" / "serving.py").is_file()


def test_a_grid_best_below_the_floor_is_challenger_never_champion(
    tmp_path: Path, mlflow_store: str
) -> None:
    import mlflow

    client = mlflow.MlflowClient(mlflow_store)
    empty = register_best(_fake_run(tmp_path, "found-nothing", 0.0, 10, "grid-1"), TRACKING)
    assert not empty.promoted and empty.below_floor
    assert "below the floor 0.01 for champion: challenger only; no champion yet" in empty.summary
    model = client.get_registered_model(TRACKING.registered_model_name)
    assert {alias: str(v) for alias, v in model.aliases.items()} == {"challenger": "1"}
    useful = register_best(_fake_run(tmp_path, "useful", 0.2, 10, "grid-2"), TRACKING)
    assert useful.promoted  # the first version above the floor becomes the first champion
