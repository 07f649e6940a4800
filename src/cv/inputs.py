"""What a YOLO training is given, checked before anything starts: dataset, model, device.

:func:`check_yolo_dataset` validates a YOLO ``data.yaml``, its folders and every label
line (and a tiny person dataset file by file against its manifest); :func:`resolve_model`
finds a model YAML shipped inside ultralytics or a local YAML or ``.pt``, never
downloading; :func:`check_device` checks that the device exists on this machine. Each
failure is one ConfigError or DataError line, raised before ultralytics is imported.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from src.config import DEFAULT_YOLO_MODEL, LOCAL_YOLO_WEIGHTS, resolve_path
from src.cv.dataset import IMAGE_SUFFIXES
from src.cv.dataset.labels import read_label_file
from src.errors import ConfigError, DataError
from src.io_utils import display_path


# --------------------------------------------------------------------------- dataset
@dataclass(frozen=True)
class YoloDataset:
    """A validated YOLO dataset: its YAML, class names, and images/boxes per split."""

    data_yaml: Path
    root: Path
    names: dict[int, str]
    counts: dict[str, dict[str, int]]
    fingerprint: str

    @property
    def has_test_split(self) -> bool:
        return self.counts.get("test", {}).get("images", 0) > 0


def _label_dir(images_dir: Path) -> Path:
    # ultralytics' own convention (img2label_paths): the last /images/ becomes /labels/.
    parts = list(images_dir.parts)
    if "images" not in parts:
        return images_dir
    index = len(parts) - 1 - parts[::-1].index("images")
    parts[index] = "labels"
    return Path(*parts)


def check_yolo_dataset(data_yaml: Path) -> YoloDataset:
    """Return the dataset described by ``data_yaml`` after validating its files and labels.

    A tiny person dataset (one with ``manifest.json``) is also checked file by file
    against its manifest, so an edited or corrupted file is caught before training.
    """
    data_yaml = Path(data_yaml).resolve()
    if not data_yaml.is_file():
        raise DataError(
            f"{display_path(data_yaml)}: dataset not found; build it with `make cv-data` "
            "(or point --data at a YOLO data.yaml)"
        )
    try:
        spec = yaml.safe_load(data_yaml.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{display_path(data_yaml)}: unreadable dataset YAML ({exc})") from None
    if not isinstance(spec, dict) or "train" not in spec or "val" not in spec:
        raise DataError(f"{display_path(data_yaml)}: a YOLO data.yaml needs 'train' and 'val' keys")
    names = spec.get("names")
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise DataError(f"{display_path(data_yaml)}: 'names' must map class ids to names")
    root = data_yaml.parent
    if spec.get("path"):
        base = Path(str(spec["path"]))
        root = base if base.is_absolute() else (data_yaml.parent / base).resolve()

    fingerprint = "none"
    if (root / "manifest.json").is_file():
        from src.cv.dataset.manifest import dataset_fingerprint, verify_dataset

        verify_dataset(root)
        fingerprint = dataset_fingerprint(root)

    counts: dict[str, dict[str, int]] = {}
    for split in ("train", "val", "test"):
        entry = spec.get(split)
        if not entry:
            continue
        if not isinstance(entry, str):
            raise DataError(f"{display_path(data_yaml)}: '{split}' must be one folder (a string)")
        images_dir = root / entry
        images = (
            sorted(p for p in images_dir.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if images_dir.is_dir()
            else []
        )
        if not images:
            raise DataError(
                f"{display_path(images_dir)}: no images for the '{split}' split; "
                "rebuild the dataset with `make cv-data`"
            )
        labels_dir = _label_dir(images_dir)
        boxes = 0
        for image in images:
            label = labels_dir / f"{image.stem}.txt"
            if label.is_file():
                boxes += len(read_label_file(label, num_classes=len(names), positive_size=True))
        counts[split] = {"images": len(images), "boxes": boxes}
    if counts["train"]["boxes"] == 0:
        raise DataError(f"{display_path(data_yaml)}: the train split has no labelled boxes")
    return YoloDataset(
        data_yaml, root, {int(k): str(v) for k, v in names.items()}, counts, fingerprint
    )


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class ResolvedModel:
    """What ``YOLO(...)`` is given, and where it came from (for logs and tags)."""

    source: str
    kind: str  # "yaml" (built from scratch) or "weights" (a local .pt)
    description: str


def _ultralytics_models_dir() -> Path | None:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "cfg" / "models"


def _shipped_model_yaml(name: str) -> Path | None:
    """Return the YAML inside ultralytics that ``name`` loads (yolov8n.yaml → v8/yolov8.yaml)."""
    models_dir = _ultralytics_models_dir()
    if models_dir is None or Path(name).name != name:
        return None
    # ultralytics drops the scale letter (n/s/m/l/x) to find the family YAML.
    stem, suffix = Path(name).stem, Path(name).suffix
    unified = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", stem) + suffix
    for candidate in (name, unified):
        found = sorted(models_dir.rglob(candidate))
        if found:
            return found[0]
    return None


def resolve_model(model: str) -> ResolvedModel:
    """Return how to build ``model``: a shipped YAML, a local YAML or local weights.

    Raises ConfigError (one line) when neither exists; nothing is ever downloaded.
    """
    if model == DEFAULT_YOLO_MODEL and LOCAL_YOLO_WEIGHTS.is_file():
        return ResolvedModel(
            str(LOCAL_YOLO_WEIGHTS),
            "weights",
            f"{display_path(LOCAL_YOLO_WEIGHTS)} (found at the repo root, used instead of {model})",
        )
    path = resolve_path(model)
    if path.suffix.lower() == ".pt":
        if not path.is_file():
            raise ConfigError(
                f"cv.train.model = {model!r}: weights file {display_path(path)} not found (nothing "
                f"is downloaded offline); copy it there or train from a YAML such as "
                f"{DEFAULT_YOLO_MODEL}"
            )
        return ResolvedModel(str(path), "weights", f"{display_path(path)} (local weights)")
    if path.is_file():
        return ResolvedModel(str(path), "yaml", f"{display_path(path)} (local YAML, from scratch)")
    shipped = _shipped_model_yaml(model)
    if shipped is None:
        raise ConfigError(
            f"cv.train.model = {model!r}: no such model YAML in ultralytics' cfg/models nor at "
            f"{display_path(path)}; use one it ships, e.g. yolov8n.yaml or yolo11n.yaml"
        )
    return ResolvedModel(model, "yaml", f"{model} (ultralytics {shipped.name}, from scratch)")


# --------------------------------------------------------------------------- device
def check_device(device: str) -> None:
    """Raise ConfigError unless ``device`` exists on this machine (the schema checked its form)."""
    if device == "cpu":
        return
    import torch

    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError("cv.train.device = 'mps': Apple MPS is not available here; use cpu")
        return
    if not torch.cuda.is_available():
        raise ConfigError(
            f"cv.train.device = {device!r}: no CUDA device is visible on this machine; use cpu"
        )
    indices = device.removeprefix("cuda").lstrip(":").split(",") if device != "cuda" else []
    count = torch.cuda.device_count()
    for index in filter(None, indices):
        if int(index) >= count:
            raise ConfigError(
                f"cv.train.device = {device!r}: CUDA device {index} does not exist "
                f"({count} visible)"
            )
