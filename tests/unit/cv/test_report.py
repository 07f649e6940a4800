"""The decision report, generated from a grid's MLflow runs (temp MLflow store)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from cv_helpers import log_grid_run

from src.config import CvTrackingParams
from src.cv.report import write_decision_report
from src.cv.selection import register_best, select_best
from src.errors import DataError

TRACKING = CvTrackingParams(experiment_name="yolo-test", registered_model_name="yolo-test-model")
_fake_run = partial(log_grid_run, TRACKING.experiment_name)


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


def test_a_run_trained_without_plots_says_so_in_the_report(
    tmp_path: Path, mlflow_store: str
) -> None:
    grid = "grid-20250103-000000"
    _fake_run(tmp_path, "yolo_e3_img64_lr0.01", 0.10, 30, grid, plots=False)
    _fake_run(tmp_path, "yolo_e3_img64_lr0.02", 0.25, 40, grid, lr0=0.02)
    text = write_decision_report(None, tracking=TRACKING, out_dir=tmp_path / "reports").read_text()
    assert text.count("_no plots: `cv.train.plots` was false_") == 1
    assert "results.png of yolo_e3_img64_lr0.02" in text
    assert "results.png of yolo_e3_img64_lr0.01" not in text


def test_report_without_grid_runs_is_one_clear_error(mlflow_store: str) -> None:
    with pytest.raises(DataError, match="make zenml-grid"):
        write_decision_report(None, tracking=TRACKING)


def test_study_report_lists_trials_and_never_picks_a_pruned_one(
    tmp_path: Path, mlflow_store: str
) -> None:
    import mlflow

    from src.cv.report import write_study_report
    from src.cv.tuning import STATE_TAG, STUDY_TAG, TRIAL_TAG

    runs = [
        _fake_run(tmp_path, "t0_yolo_e3_img64_lr0.002", 0.20, 30, "none"),
        _fake_run(tmp_path, "t1_yolo_e2_img64_lr0.003", 0.30, 20, "none"),
    ]
    client = mlflow.MlflowClient(mlflow_store)
    for number, (run, state) in enumerate(zip(runs, ("COMPLETE", "PRUNED"), strict=True)):
        for key, value in ((STUDY_TAG, "s1"), (TRIAL_TAG, str(number)), (STATE_TAG, state)):
            client.set_tag(run["mlflow_run_id"], key, value)

    path = write_study_report(
        "s1", tracking=TRACKING, out_dir=tmp_path / "reports", search="### Study\n\ntrials here"
    )
    text = path.read_text()
    assert path.name == "decision_s1.md"
    assert "tagged\n> `optuna_study=s1`" in text and "make zenml-tune" in text
    assert "### Study\n\ntrials here" in text
    best_row = next(line for line in text.splitlines() if line.startswith("| **best**"))
    assert "`t0_yolo_e3_img64_lr0.002`" in best_row  # the higher one was pruned
    pruned_row = next(line for line in text.splitlines() if "t1_yolo_e2" in line and "|" in line)
    assert "| PRUNED |" in pruned_row
    assert "$" not in text
