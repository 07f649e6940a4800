"""The YOLO training pipeline: data → train → evaluate → summary. Wiring only."""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from src.zenml_steps.data_steps import prepare_tiny_person_dataset
from src.zenml_steps.eval_steps import evaluate_yolo, summarize_yolo_experiment
from src.zenml_steps.train_steps import train_yolo_tiny


@pipeline(enable_cache=True)
def yolo_training_pipeline(
    dataset: dict[str, Any],
    synthetic: dict[str, Any],
    on_disk_fingerprint: str,
    train: dict[str, Any],
    tracking: dict[str, Any],
    run_name: str,
    runs_dir: str,
    tags: dict[str, str],
) -> None:
    """Train and evaluate one YOLO configuration on the tiny person dataset."""
    data_yaml, fingerprint = prepare_tiny_person_dataset(
        dataset=dataset, synthetic=synthetic, on_disk_fingerprint=on_disk_fingerprint
    )
    weights, _metrics, training = train_yolo_tiny(
        data_yaml=data_yaml,
        dataset_fingerprint=fingerprint,
        train=train,
        tracking=tracking,
        run_name=run_name,
        runs_dir=runs_dir,
        tags=tags,
    )
    test_metrics = evaluate_yolo(
        weights=weights, data_yaml=data_yaml, training=training, train=train, tracking=tracking
    )
    summarize_yolo_experiment(
        training=training,
        test_metrics=test_metrics,
        selection_metric=tracking["selection_metric"],
    )
