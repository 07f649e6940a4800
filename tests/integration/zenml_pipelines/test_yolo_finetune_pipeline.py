"""The baseline pipeline fine-tunes a local 80-class checkpoint named by cv.train.model.

A world of its own (the folder's fixtures are module-scoped): its params file names the
checkpoint, made here by one epoch of YOLOv8n on an unfiltered synthetic COCO128.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from cv_helpers import make_coco80_checkpoint

from src.cv.inputs import resolve_device

BASELINE = "src.zenml_pipelines.run_yolo_pipeline_baseline"


@pytest.fixture(scope="module")
def finetuned(
    zenml_world: dict[str, Any], run_module: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """Return the checkpoint and the outcome of the baseline pipeline fine-tuning it."""
    checkpoint = make_coco80_checkpoint(zenml_world["root"] / "pretrain")
    params = yaml.safe_load(zenml_world["params"].read_text())
    params["cv"]["train"]["model"] = str(checkpoint)
    zenml_world["params"].write_text(yaml.safe_dump(params))
    return {"checkpoint": checkpoint, "outcome": run_module(BASELINE, name="finetune")}


def test_baseline_pipeline_fine_tunes_the_checkpoint_in_params(
    zenml_world: dict[str, Any], finetuned: dict[str, Any]
) -> None:
    import mlflow

    outcome, checkpoint = finetuned["outcome"], finetuned["checkpoint"]
    assert outcome["status"] == "completed"
    run = mlflow.MlflowClient(zenml_world["uri"]).get_run(outcome["summary"]["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["pipeline"] == "baseline"
    assert run.data.tags["model_source"] == "checkpoint"
    assert run.data.tags["model_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert run.data.tags["model_classes"] == "80"
    assert run.data.params["model_resolved"] == str(checkpoint)
    assert run.data.params["device_resolved"] == resolve_device("auto")
    assert "test_map50_95" in run.data.metrics
    assert f"device {resolve_device('auto')}, model " in outcome["stdout"]
