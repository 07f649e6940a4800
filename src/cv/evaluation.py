"""Evaluate trained YOLO weights on the held-out split, and summarise one training.

Both ``python -m src.train_cv`` and the ZenML steps ``evaluate_yolo`` /
``summarize_yolo_experiment`` call these functions. Test metrics go into the training's
MLflow run (``test_precision``, ``test_recall``, ``test_map50``, ``test_map50_95``), so a
training and its evaluation stay one run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from src.config import CvTrackingParams, CvTrainParams
from src.cv.inputs import check_device, check_yolo_dataset
from src.cv.training import FINAL_METRICS
from src.errors import DataError
from src.tracking import tracked_run
from src.workarounds import configure_ultralytics


def evaluate_yolo_weights(
    weights: Path,
    data_yaml: Path,
    *,
    params: CvTrainParams,
    out_dir: Path,
    split: str = "test",
    tracking: CvTrackingParams | None = None,
    mlflow_run_id: str | None = None,
) -> dict[str, float]:
    """Return ``{split}_precision``, ``_recall``, ``_map50``, ``_map50_95`` of ``weights``.

    An empty dict when the dataset has no such split. With ``tracking`` the metrics are
    logged to the active MLflow run, or to ``mlflow_run_id`` reopened.
    """
    weights = Path(weights)
    if not weights.is_file():
        raise DataError(f"{weights}: weights not found; train first (make cv-train)")
    dataset = check_yolo_dataset(data_yaml)
    if dataset.counts.get(split, {}).get("images", 0) == 0:
        return {}
    device = check_device(params.device)
    configure_ultralytics()
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory(prefix="yolo-eval-") as tmp:
        # ultralytics picks the loader from the suffix; ZenML hands artifacts over as file_data.
        if weights.suffix != ".pt":
            copy = Path(tmp) / "best.pt"
            shutil.copyfile(weights, copy)
            weights = copy
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        results = YOLO(str(weights)).val(
            data=str(dataset.data_yaml),
            split=split,
            imgsz=params.imgsz,
            batch=params.batch,
            device=device,
            workers=params.workers,
            plots=False,
            project=str(out_dir),
            name=f"{split}_eval",
            exist_ok=True,
            verbose=False,
        )
    raw = dict(getattr(results, "results_dict", {}) or {})
    metrics = {f"{split}_{name}": float(raw.get(key, 0.0)) for key, name in FINAL_METRICS.items()}
    if tracking is not None:
        import mlflow

        with tracked_run(tracking.experiment_name, run_id=mlflow_run_id):
            mlflow.log_metrics(metrics)
    return metrics


def summarize_training(
    training: dict[str, Any],
    test_metrics: dict[str, float],
    *,
    selection_metric: str,
) -> dict[str, Any]:
    """Return the summary of one training: params, metrics, MLflow run id, artifact URIs."""
    metrics = dict(training["metrics"])
    return {
        "run_name": training["run_name"],
        "config_name": training.get("tags", {}).get("config_name", training["run_name"]),
        "params": dict(training["params"]),
        "metrics": metrics,
        "test_metrics": dict(test_metrics),
        "selection_metric": selection_metric,
        "selection_value": float(metrics.get(selection_metric, 0.0)),
        "train_seconds": float(training["train_seconds"]),
        "mlflow_run_id": training["mlflow_run_id"],
        "mlflow_experiment_id": training["mlflow_experiment_id"],
        "artifact_uris": dict(training["artifact_uris"]),
        "weights": training["weights"],
        "run_dir": training["run_dir"],
        "dataset_fingerprint": training["dataset_fingerprint"],
        "model_source": training["model_source"],
    }
