"""Steps: evaluate best.pt on the held-out split, and summarise the experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from zenml import log_metadata, step

from src.config import CvTrackingParams, CvTrainParams, validate_section


@step(enable_cache=False, experiment_tracker=True)
def evaluate_yolo(
    weights: Path,
    data_yaml: str,
    training: dict[str, Any],
    train: dict[str, Any],
    tracking: dict[str, Any],
) -> Annotated[dict[str, float], "test_metrics"]:
    """Return test_precision/recall/map50/map50_95 of best.pt, logged to the same MLflow run."""
    from src.cv.evaluation import evaluate_yolo_weights

    return evaluate_yolo_weights(
        weights,
        Path(data_yaml),
        params=validate_section(CvTrainParams, train, "cv.train"),
        out_dir=Path(training["run_dir"]),
        tracking=validate_section(CvTrackingParams, tracking, "cv.tracking"),
        mlflow_run_id=training["mlflow_run_id"],
    )


@step(enable_cache=False)
def summarize_yolo_experiment(
    training: dict[str, Any],
    test_metrics: dict[str, float],
    selection_metric: str,
) -> Annotated[dict[str, Any], "summary"]:
    """Return the run's summary: params, metrics, MLflow run id and artifact URIs."""
    from src.cv.evaluation import summarize_training

    summary = summarize_training(training, test_metrics, selection_metric=selection_metric)
    # Shown on the run's page in the ZenML dashboard.
    log_metadata(
        metadata={
            "metrics": summary["metrics"],
            "test_metrics": summary["test_metrics"],
            "mlflow_run_id": summary["mlflow_run_id"],
        }
    )
    return summary
