"""The grid's decision: best-run rule, registry aliases, and the generated report (temp store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from src.config import CvTrackingParams
from src.cv.report import write_decision_report
from src.cv.selection import format_table, register_best, select_best
from src.errors import DataError
from src.tracking import tracked_run

TRACKING = CvTrackingParams(experiment_name="yolo-test", registered_model_name="yolo-test-model")


def _fake_run(
    tmp_path: Path, name: str, map50_95: float, seconds: float, grid_id: str, lr0: float = 0.01
) -> dict:
    """Log a run shaped like a pipeline training (weights, plots, metrics); return its summary."""
    import mlflow

    folder = tmp_path / name
    (folder / "weights").mkdir(parents=True)
    (folder / "weights" / "best.pt").write_bytes(b"weights of " + name.encode())
    Image.new("RGB", (8, 8), (200, 30, 30)).save(folder / "results.png")
    Image.new("RGB", (8, 8), (30, 30, 200)).save(folder / "confusion_matrix.png")
    metrics = {"precision": 0.5, "recall": 0.4, "map50": map50_95 + 0.2, "map50_95": map50_95,
               "train_seconds": seconds}  # fmt: skip
    tags = {"grid_id": grid_id, "config_name": name, "dataset": "data/tiny_person",
            "dataset_fingerprint": "ab" * 32, "model_source": "yolov8n.yaml"}  # fmt: skip
    with tracked_run(TRACKING.experiment_name, run_name=f"{name}_{grid_id}", tags=tags) as run:
        mlflow.log_params({"epochs": 3, "imgsz": 64, "batch": 4, "lr0": lr0})
        mlflow.log_metrics(metrics)
        mlflow.log_metrics({"test_map50": 0.1, "test_map50_95": map50_95 / 2})
        mlflow.log_artifact(str(folder / "weights" / "best.pt"), artifact_path="weights")
        mlflow.log_artifact(str(folder / "results.png"))
        mlflow.log_artifact(str(folder / "confusion_matrix.png"))
    return {
        "config_name": name,
        "metrics": metrics,
        "test_metrics": {"test_map50_95": map50_95 / 2},
        "train_seconds": seconds,
        "mlflow_run_id": run.info.run_id,
    }


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
    assert version.source.endswith("/weights")
    assert version.tags["metric.map50_95"] == "0.35"
    run = client.get_run(version.run_id)
    assert run.data.tags["registry.promoted"] == "true"
    assert run.data.tags["registry.version"] == "4"
    downloaded = mlflow.artifacts.download_artifacts(
        f"models:/{TRACKING.registered_model_name}@champion", dst_path=str(tmp_path / "dl")
    )
    assert (Path(downloaded) / "best.pt").read_bytes() == b"weights of better"


def test_report_is_generated_from_the_latest_grid(tmp_path: Path, mlflow_store: str) -> None:
    _fake_run(tmp_path, "old_run", 0.9, 10, "grid-20250101-000000")
    runs = [
        _fake_run(tmp_path, "yolo_e3_img64_lr0.01", 0.10, 30, "grid-20250102-000000"),
        _fake_run(tmp_path, "yolo_e3_img64_lr0.02", 0.25, 40, "grid-20250102-000000", lr0=0.02),
    ]
    decision = register_best(select_best(runs, "map50_95"), TRACKING)

    reports = tmp_path / "reports"
    path = write_decision_report(None, tracking=TRACKING, out_dir=reports)
    assert path == reports / "decision_grid-20250102-000000.md"
    text = path.read_text()
    for section in ("## 1. Context", "## 2. Runs tested", "## 3. Quick analysis",
                    "## 4. Decision", "## 5. Role of the ZenML pipeline"):  # fmt: skip
        assert section in text
    assert "old_run" not in text  # another grid
    best_row = next(line for line in text.splitlines() if line.startswith("| **best**"))
    assert "`yolo_e3_img64_lr0.02`" in best_row
    assert "`yolo_e3_img64_lr0.01`" in text
    assert decision.summary in text
    assert "`champion` = v1" in text and "`challenger` = v1" in text
    assert "**lr0**: mean `map50_95` lr0=0.01: 0.100, lr0=0.02: 0.250 (best lr0=0.02)" in text
    assert "$" not in text  # every placeholder was filled
    images = [
        line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")
    ]
    assert len(images) == 5  # comparison chart + 2 plots x 2 runs
    for rel in images:
        assert (reports / rel).is_file(), rel


def test_report_without_grid_runs_is_one_clear_error(mlflow_store: str) -> None:
    with pytest.raises(DataError, match="make zenml-grid"):
        write_decision_report(None, tracking=TRACKING)
