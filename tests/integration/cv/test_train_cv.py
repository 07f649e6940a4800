"""``python -m src.train_cv`` end to end on a tiny dataset: one MLflow run, curves, artifacts.

Two epochs at 32 px: what that can show is runs, names, steps and files, not accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cv_helpers import make_tiny_person

from src import train_cv

EPOCH_METRICS = {
    "train_box_loss", "train_cls_loss", "train_dfl_loss", "val_box_loss", "val_cls_loss",
    "val_dfl_loss", "val_precision", "val_recall", "val_map50", "val_map50_95",
}  # fmt: skip
FINAL_METRICS = {"precision", "recall", "map50", "map50_95", "best_epoch", "train_seconds"}
TEST_METRICS = {"test_precision", "test_recall", "test_map50", "test_map50_95"}
ARTIFACTS = {"results.png", "confusion_matrix.png", "results.csv", "args.yaml"}


def test_train_cv_is_one_tracked_deterministic_run(tmp_path: Path, mlflow_store: str) -> None:
    import mlflow

    data_yaml = make_tiny_person(tmp_path)
    runs, weights = tmp_path / "runs", tmp_path / "models" / "best.pt"
    argv = [
        "--data", str(data_yaml), "--epochs", "2", "--imgsz", "32", "--batch", "4",
        "--runs-dir", str(runs), "--weights-out", str(weights),
    ]  # fmt: skip
    assert train_cv.main(argv) == 0

    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.get_experiment_by_name("yolo-tiny-person")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "yolo_e2_img32_lr0.002"
    assert set(run.data.metrics) >= EPOCH_METRICS | FINAL_METRICS | TEST_METRICS
    for key in EPOCH_METRICS:
        assert [m.step for m in client.get_metric_history(run.info.run_id, key)] == [1, 2]
    assert run.data.params["epochs"] == "2" and run.data.params["optimizer"] == "AdamW"
    tags = run.data.tags
    assert len(tags["dataset_fingerprint"]) == 64 and tags["git_commit"]
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert logged >= ARTIFACTS | {"weights", "dataset"}
    assert [a.path for a in client.list_artifacts(run.info.run_id, "weights")] == [
        "weights/best.pt"
    ]

    # Outputs: the weights copy, its summary, one fixed run folder and nothing half-written.
    summary = json.loads((weights.parent / "summary.json").read_text())
    assert summary["mlflow_run_id"] == run.info.run_id
    assert weights.stat().st_size > 100_000
    assert sorted(p.name for p in runs.iterdir()) == ["yolo_e2_img32_lr0.002"]
    first_history = (runs / "yolo_e2_img32_lr0.002" / "results.csv").read_text()

    # Same params again: same folder (no train2), a second run, identical losses (seeded).
    assert train_cv.main(argv) == 0
    assert sorted(p.name for p in runs.iterdir()) == ["yolo_e2_img32_lr0.002"]
    assert len(client.search_runs([experiment.experiment_id])) == 2
    second_history = (runs / "yolo_e2_img32_lr0.002" / "results.csv").read_text()

    def losses(text: str) -> list[list[str]]:
        rows = [line.split(",") for line in text.strip().splitlines()]
        return [row[:1] + row[2:] for row in rows]  # column 1 is wall time

    assert losses(first_history) == losses(second_history)


def test_the_run_logs_the_dataset_it_trained_on_and_no_plots_when_told(
    tmp_path: Path, mlflow_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlflow

    from src.cv.dataset.manifest import dataset_fingerprint

    data_yaml = make_tiny_person(tmp_path)
    argv = ["--data", str(data_yaml), "--epochs", "1", "--imgsz", "32", "--batch", "4",
            "--plots", "false", "--runs-dir", str(tmp_path / "runs"), "--no-test-eval"]  # fmt: skip
    assert train_cv.main(argv) == 0
    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.get_experiment_by_name("yolo-tiny-person")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["plots"] == "False"
    logged_files = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert logged_files >= {"results.csv", "args.yaml", "weights", "dataset"}
    assert not logged_files & {"results.png", "confusion_matrix.png"}
    folder = tmp_path / "runs" / run.info.run_name
    assert (folder / "weights" / "best.pt").is_file() and not list(folder.glob("*.png"))
    assert "was not written" not in capsys.readouterr().err  # not asked for: no warning
    (logged,) = run.inputs.dataset_inputs
    assert {t.key: t.value for t in logged.tags}["mlflow.data.context"] == "training"
    dataset = logged.dataset
    assert dataset.name == "tiny_person"
    assert dataset.digest == dataset_fingerprint(data_yaml.parent)[:32]
    assert str(data_yaml.resolve()) in dataset.source
    assert json.loads(dataset.profile)["num_rows"] == 3  # train, val, test


def test_the_start_up_runs_uncollected_and_the_epochs_without_its_heap(
    tmp_path: Path, mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from src.cv import training
    from src.cv.tuning import trainer_callback

    importing: list[bool] = []
    configure = training.configure_ultralytics

    def configure_and_record() -> None:  # the first of the start-up's imports
        importing.append(gc.isenabled())
        configure()

    monkeypatch.setattr(training, "configure_ultralytics", configure_and_record)
    trainer_starts: list[bool] = []
    epochs: list[int] = []
    argv = ["--data", str(make_tiny_person(tmp_path)), "--epochs", "1", "--imgsz", "32",
            "--batch", "4", "--plots", "false", "--runs-dir", str(tmp_path / "runs"),
            "--no-test-eval"]  # fmt: skip
    # Noted when the trainer starts too: ultralytics' dataset loading, before the first
    # epoch, turns the collector on whatever its state.
    with (
        trainer_callback(
            "on_pretrain_routine_start", lambda _: trainer_starts.append(gc.isenabled())
        ),
        trainer_callback("on_train_epoch_start", lambda _: epochs.append(gc.get_freeze_count())),
    ):
        assert train_cv.main(argv) == 0
    assert importing == [False]  # the collector is paused while the libraries load
    # It runs during the training, without MLflow's, torch's and ultralytics' objects (well
    # over 100,000), and has them all back once the training is done.
    assert trainer_starts == [True]
    (frozen,) = epochs
    assert frozen > 100_000
    assert gc.isenabled() and gc.get_freeze_count() == 0
