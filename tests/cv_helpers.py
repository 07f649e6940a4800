"""Builders shared by the YOLO tests: tiny person datasets and grid runs in MLflow.

The datasets go through the same code as ``make cv-data`` (synthetic COCO128 stand-in, then
the person-only conversion), only smaller: 64 px images, 8 train / 4 val / 4 test, in under
a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from src.config import SyntheticCocoParams, TinyPersonDatasetParams
from src.cv.dataset.synthetic import make_synthetic_coco128
from src.cv.dataset.tiny_person import build_tiny_person_dataset

TINY_SPLITS = (8, 4, 4)


def make_tiny_person(root: Path, *, imgsz: int = 64, seed: int = 0) -> Path:
    """Return the data.yaml of a tiny person dataset built under ``root / 'tiny_person'``."""
    source = root / "coco128"
    output = root / "tiny_person"
    make_synthetic_coco128(source, SyntheticCocoParams(images=24, imgsz=imgsz, seed=seed))
    # 16 images: val and test floor(16 * 0.25) = 4, train the rest (TINY_SPLITS).
    params = TinyPersonDatasetParams(train=0.5, val=0.25, test=0.25, max_images=16, seed=seed)
    build_tiny_person_dataset(source, output, params)
    return output / "data.yaml"


def log_grid_run(
    experiment_name: str,
    tmp_path: Path,
    name: str,
    map50_95: float,
    seconds: float,
    grid_id: str,
    lr0: float = 0.01,
) -> dict[str, Any]:
    """Log a run shaped like a grid's training (weights, model, plots, metrics); return it."""
    import mlflow
    from PIL import Image

    from src.cv.serving import log_detector_model
    from src.tracking import tracked_run

    folder = tmp_path / name
    (folder / "weights").mkdir(parents=True)
    (folder / "weights" / "best.pt").write_bytes(b"weights of " + name.encode())
    Image.new("RGB", (8, 8), (200, 30, 30)).save(folder / "results.png")
    Image.new("RGB", (8, 8), (30, 30, 200)).save(folder / "confusion_matrix.png")
    metrics = {"precision": 0.5, "recall": 0.4, "map50": map50_95 + 0.2, "map50_95": map50_95,
               "train_seconds": seconds}  # fmt: skip
    tags = {"grid_id": grid_id, "config_name": name, "dataset": "data/tiny_person",
            "dataset_fingerprint": "ab" * 32, "model_source": "yolov8n.yaml"}  # fmt: skip
    with tracked_run(experiment_name, run_name=f"{name}_{grid_id}", tags=tags) as run:
        mlflow.log_params({"epochs": 3, "imgsz": 64, "batch": 4, "lr0": lr0})
        mlflow.log_metrics(metrics)
        mlflow.log_metrics({"test_map50": 0.1, "test_map50_95": map50_95 / 2})
        mlflow.log_artifact(str(folder / "weights" / "best.pt"), artifact_path="weights")
        log_detector_model(folder / "weights" / "best.pt", imgsz=64)  # never loaded here
        mlflow.log_artifact(str(folder / "results.png"))
        mlflow.log_artifact(str(folder / "confusion_matrix.png"))
    return {
        "config_name": name,
        "metrics": metrics,
        "test_metrics": {"test_map50_95": map50_95 / 2},
        "train_seconds": seconds,
        "mlflow_run_id": run.info.run_id,
    }
