"""Step: train YOLO under the active stack's MLflow experiment tracker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from zenml import step

from src.config import CvTrackingParams, CvTrainParams, validate_section


# enable_cache=False: a training is an experiment (an MLflow run, a registry candidate),
# so re-running the pipeline re-trains even with identical inputs.
@step(enable_cache=False, experiment_tracker=True)
def train_yolo_tiny(
    data_yaml: str,
    dataset_fingerprint: str,
    train: dict[str, Any],
    tracking: dict[str, Any],
    run_name: str,
    runs_dir: str,
    tags: dict[str, str],
) -> tuple[
    Annotated[Path, "weights"],
    Annotated[dict[str, float], "metrics"],
    Annotated[dict[str, Any], "training"],
]:
    """Return best.pt, the final metrics and the training record (run id, artifact URIs).

    Calls the same :func:`src.cv.training.train_yolo` as ``python -m src.train_cv``;
    the MLflow run is the one the tracker opened for this pipeline run.
    """
    from zenml import get_step_context

    from src.cv.training import train_yolo

    params = validate_section(CvTrainParams, train, "cv.train")
    config_name = tags.get("config_name", run_name)
    result = train_yolo(
        params,
        Path(data_yaml),
        run_dir=Path(runs_dir) / config_name,
        tracking=validate_section(CvTrackingParams, tracking, "cv.tracking"),
        run_name=run_name,
        tags={
            **tags,
            "zenml_pipeline_run": get_step_context().pipeline_run.name,
            "dataset_fingerprint_step": dataset_fingerprint,
        },
    )
    return result.weights, result.metrics, result.to_dict()
