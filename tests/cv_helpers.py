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
    plots: bool = True,
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
        mlflow.log_params({"epochs": 3, "imgsz": 64, "batch": 4, "lr0": lr0, "plots": plots})
        mlflow.log_metrics(metrics)
        mlflow.log_metrics({"test_map50": 0.1, "test_map50_95": map50_95 / 2})
        mlflow.log_artifact(str(folder / "weights" / "best.pt"), artifact_path="weights")
        log_detector_model(folder / "weights" / "best.pt", imgsz=64)  # never loaded here
        if plots:
            mlflow.log_artifact(str(folder / "results.png"))
            mlflow.log_artifact(str(folder / "confusion_matrix.png"))
    return {
        "config_name": name,
        "metrics": metrics,
        "test_metrics": {"test_map50_95": map50_95 / 2},
        "train_seconds": seconds,
        "mlflow_run_id": run.info.run_id,
    }


# --------------------------------------------------------------------------- checkpoints
_CHECKPOINT_PROBE = """
import json, sys
from pathlib import Path
from src.workarounds import configure_ultralytics, offline_train_args

configure_ultralytics()
from ultralytics import YOLO

data, out, epochs, imgsz = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
YOLO("yolov8n.yaml").train(
    data=str(data), epochs=epochs, imgsz=imgsz, batch=8, workers=0, device="cpu", seed=0,
    deterministic=True, project=str(out.parent), name=out.name, exist_ok=True, plots=False,
    val=False, verbose=False, **offline_train_args(),
)
for task in sys.argv[5:]:  # built from the YAML and saved, never trained: enough to be refused
    YOLO(f"yolov8n-{task}.yaml").save(str(out / f"untrained-{task}.pt"))
print(json.dumps({"best": str(out / "weights" / "best.pt")}))
"""


def coco_names() -> dict[int, str]:
    """Return COCO's 80 class names, from the dataset YAML that ships inside ultralytics."""
    import importlib.util

    import yaml

    spec = importlib.util.find_spec("ultralytics")
    assert spec is not None and spec.origin is not None
    shipped = Path(spec.origin).parent / "cfg" / "datasets" / "coco128.yaml"
    names: dict[int, str] = yaml.safe_load(shipped.read_text())["names"]
    assert len(names) == 80
    return names


def make_coco80_dataset(root: Path, *, images: int = 16, imgsz: int = 64, seed: int = 1) -> Path:
    """Return the data.yaml (nc 80, COCO names) of an unfiltered synthetic COCO128 under root."""
    import yaml

    source = root / "coco128"
    make_synthetic_coco128(source, SyntheticCocoParams(images=images, imgsz=imgsz, seed=seed))
    data_yaml = root / "coco80.yaml"
    spec = {"path": str(source), "train": "images/train2017", "val": "images/train2017",
            "nc": 80, "names": coco_names()}  # fmt: skip
    data_yaml.write_text(yaml.safe_dump(spec))
    return data_yaml


def make_coco80_checkpoint(
    root: Path, *, epochs: int = 1, imgsz: int = 32, other_tasks: tuple[str, ...] = ()
) -> Path:
    """Return the best.pt of a YOLOv8n trained from yolov8n.yaml on 80 synthetic COCO classes.

    Trained in a fresh interpreter (ultralytics patches process-wide state on import);
    ``other_tasks`` (``seg``, ``cls``) also saves untrained checkpoints of those tasks
    beside it, as ``untrained-<task>.pt``.
    """
    from tests.probes import run_probe

    data_yaml = make_coco80_dataset(root)
    out = root / "coco80_run"
    env = {"YOLO_CONFIG_DIR": str(root / "yolo-config"), "YOLO_OFFLINE": "1"}
    result = run_probe(
        _CHECKPOINT_PROBE, str(data_yaml), str(out), str(epochs), str(imgsz), *other_tasks, env=env
    )
    best = Path(result["best"])
    assert best.is_file()
    return best
