"""What a YOLO training is given, checked before anything starts: dataset, model, device.

:func:`check_yolo_dataset` validates a YOLO ``data.yaml``, its folders and every label
line (and a tiny person dataset file by file against its manifest); :func:`resolve_model`
finds a model YAML shipped inside ultralytics or a local YAML or ``.pt``, never
downloading, and checks a ``.pt`` is a readable detection checkpoint
(:func:`inspect_checkpoint`); :func:`check_device` resolves ``auto`` and checks that the
device exists on this machine. Each failure is one ConfigError or DataError line, raised
before training starts (a checkpoint's class count needs ultralytics' restricted loader).
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import pickletools
import re
import zipfile
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
#: ultralytics' model classes (``ultralytics.nn.tasks``) and the task each trains.
_TASK_OF_MODEL_CLASS: dict[str, str] = {
    "DetectionModel": "detect",
    "YOLOv10DetectionModel": "detect",
    "SegmentationModel": "segment",
    "ClassificationModel": "classify",
    "PoseModel": "pose",
    "OBBModel": "obb",
}


@dataclass(frozen=True)
class CheckpointInfo:
    """What a local ``.pt`` holds: its sha256, its task and its class names."""

    sha256: str
    task: str
    names: dict[int, str]

    @property
    def classes(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class ResolvedModel:
    """What ``YOLO(...)`` is given, and where it came from (for logs and tags)."""

    source: str
    kind: str  # "yaml" (built from scratch) or "checkpoint" (a local .pt, fine-tuned)
    description: str
    checkpoint: CheckpointInfo | None = None

    def tags(self) -> dict[str, str]:
        """Return the MLflow tags naming the model (and a checkpoint's sha256 and classes)."""
        tags = {"model_source": self.kind, "model_description": self.description}
        if self.checkpoint is not None:
            tags |= {
                "model_sha256": self.checkpoint.sha256,
                "model_classes": str(self.checkpoint.classes),
            }
        return tags


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _pickled_globals(path: Path) -> set[str]:
    """Return the ``module.name`` globals the pickle of a ``torch.save`` archive refers to.

    Read from the opcodes, never unpickled. torch's own ``get_unsafe_globals_in_checkpoint``
    is not used: it leaves out whatever this process already allow-listed (ultralytics'
    restricted loader allow-lists its model classes), so its answer depends on history.
    """
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
        if not pickles:
            raise ValueError("no data.pkl: not written by torch.save")
        data = archive.read(pickles[0])
    found: set[str] = set()
    pushes: list[str | None] = []  # what each opcode pushed: a string, or None for anything else
    memo: dict[int, str] = {}
    for opcode, arg, _ in pickletools.genops(data):
        top = pushes[-1] if pushes else None
        if opcode.name in ("GLOBAL", "INST"):
            found.add(str(arg).replace(" ", "."))
        elif opcode.name == "STACK_GLOBAL" and len(pushes) >= 2 and None not in pushes[-2:]:
            found.add(f"{pushes[-2]}.{pushes[-1]}")
        if opcode.name == "MEMOIZE":  # protocol 4 numbers memo entries in order
            if top is not None:
                memo[len(memo)] = top
            continue
        if opcode.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            if top is not None and isinstance(arg, int):
                memo[arg] = top
            continue
        if opcode.name in ("BINGET", "LONG_BINGET", "GET") and isinstance(arg, int):
            pushes.append(memo.get(arg))
            continue
        pushes.append(arg if isinstance(arg, str) and "UNICODE" in opcode.name else None)
    return found


def inspect_checkpoint(path: Path, model: str) -> CheckpointInfo:
    """Return what the checkpoint at ``path`` holds; ConfigError unless it can be fine-tuned.

    The pickle's globals are listed without running it, so a corrupt file, a file that is
    not an ultralytics checkpoint, and a checkpoint of another task (segmentation,
    classification, ...) are refused before anything is unpickled. The class names then
    come from ultralytics' restricted loader (``weights_only``), which runs no code from
    the file and installs no module the file names.
    """
    prefix = f"cv.train.model = {model!r}: {display_path(path)}"
    try:
        found = _pickled_globals(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        raise ConfigError(
            f"{prefix} is not a PyTorch checkpoint ({_first_line(exc)}): the file is corrupt, "
            f"truncated or of another format; replace it, or train from a YAML such as "
            f"{DEFAULT_YOLO_MODEL}"
        ) from None
    model_classes = sorted(
        {name.rpartition(".")[2] for name in found if name.startswith("ultralytics.nn.tasks.")}
    )
    if not model_classes:
        raise ConfigError(
            f"{prefix} holds no ultralytics model (a state_dict, or a YOLOv5 checkpoint?); give an "
            "ultralytics detection checkpoint such as a best.pt of this project or yolov8n.pt"
        )
    tasks = sorted({_TASK_OF_MODEL_CLASS.get(name, name) for name in model_classes})
    if tasks != ["detect"]:
        raise ConfigError(
            f"{prefix} is a {'/'.join(tasks)} checkpoint ({', '.join(model_classes)}), not a "
            "detection one; this project trains detectors: give a detection checkpoint "
            f"(e.g. yolov8n.pt) or a detection YAML such as {DEFAULT_YOLO_MODEL}"
        )

    from ultralytics.nn.tasks import torch_safe_load

    try:
        ckpt, _ = torch_safe_load(str(path), safe_only=True)
        network = ckpt.get("ema") or ckpt.get("model")
        names = getattr(network, "names", None) or {
            i: str(i) for i in range(int(network.yaml["nc"]))
        }
    except Exception as exc:  # ultralytics raises TypeError, UnpicklingError, KeyError, ...
        raise ConfigError(f"{prefix} cannot be loaded ({_first_line(exc)})") from None
    if isinstance(names, list | tuple):
        names = dict(enumerate(names))
    return CheckpointInfo(_sha256(path), "detect", {int(k): str(v) for k, v in names.items()})


def resolve_model(model: str) -> ResolvedModel:
    """Return how to build ``model``: a shipped YAML, a local YAML or a local checkpoint.

    Raises ConfigError (one line) when neither exists or a checkpoint cannot be
    fine-tuned here (see :func:`inspect_checkpoint`); nothing is ever downloaded.
    """
    if model == DEFAULT_YOLO_MODEL and LOCAL_YOLO_WEIGHTS.is_file():
        return ResolvedModel(
            str(LOCAL_YOLO_WEIGHTS),
            "checkpoint",
            f"{display_path(LOCAL_YOLO_WEIGHTS)} (found at the repo root, used instead of {model})",
            inspect_checkpoint(LOCAL_YOLO_WEIGHTS, model),
        )
    path = resolve_path(model)
    if path.suffix.lower() == ".pt":
        if not path.is_file():
            raise ConfigError(
                f"cv.train.model = {model!r}: weights file {display_path(path)} not found (nothing "
                f"is downloaded offline); copy it there or train from a YAML such as "
                f"{DEFAULT_YOLO_MODEL}"
            )
        info = inspect_checkpoint(path, model)
        return ResolvedModel(
            str(path),
            "checkpoint",
            f"{display_path(path)} (local checkpoint, {info.classes} classes, fine-tuned)",
            info,
        )
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
def resolve_device(device: str) -> str:
    """Return the device ``auto`` stands for here: cuda if torch sees a GPU, else mps, else cpu."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def check_device(device: str) -> str:
    """Return the device to train on (``auto`` resolved); ConfigError unless it exists here.

    The schema checked the form; explicit values are passed to ultralytics unchanged.
    """
    device = resolve_device(device)
    if device == "cpu":
        return device
    import torch

    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError("cv.train.device = 'mps': Apple MPS is not available here; use cpu")
        return device
    if not torch.cuda.is_available():
        raise ConfigError(
            f"cv.train.device = {device!r}: no CUDA device is visible on this machine; use cpu "
            "or auto"
        )
    indices = device.removeprefix("cuda").lstrip(":").split(",") if device != "cuda" else []
    count = torch.cuda.device_count()
    for index in filter(None, indices):
        if int(index) >= count:
            raise ConfigError(
                f"cv.train.device = {device!r}: CUDA device {index} does not exist "
                f"({count} visible)"
            )
    return device
