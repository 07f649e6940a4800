"""The one schema for every run: paths, and Pydantic models for ``params.yaml``.

DVC stages, the training scripts and the ZenML pipelines all read their
parameters through :func:`get_config`, and every override (Python keyword
arguments, CLI flags, ``dvc exp run -S``, grid entries) is validated by the same
models. Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from src.errors import ConfigError
from src.io_utils import display_path
from src.runtime_env import PROJECT_ROOT

# --------------------------------------------------------------------------- paths
PARAMS_FILE = PROJECT_ROOT / "params.yaml"
DATA_DIR = PROJECT_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"
PROCESSED_DATA_DIR = DATA_DIR / "processed"
RAW_IRIS_CSV = RAW_DATA_DIR / "iris.csv"
TRAIN_CSV = PROCESSED_DATA_DIR / "train.csv"
TEST_CSV = PROCESSED_DATA_DIR / "test.csv"

MODELS_DIR = PROJECT_ROOT / "models"
MODEL_FILE = MODELS_DIR / "iris_model.pkl"
METADATA_FILE = MODELS_DIR / "metadata.json"
TRAIN_METRICS_FILE = MODELS_DIR / "metrics.json"
EXPORTED_MODEL_DIR = MODELS_DIR / "iris_mlflow_model"

REPORTS_DIR = PROJECT_ROOT / "reports"
EVAL_DIR = REPORTS_DIR / "evaluation"

#: Embedded MLflow store: SQLite for runs and registry, a plain folder for artifacts.
MLFLOW_DB = PROJECT_ROOT / "mlflow.db"
MLFLOW_ARTIFACTS_DIR = PROJECT_ROOT / "mlartifacts"

IRIS_FEATURES: tuple[str, ...] = (
    "sepal_length",
    "sepal_width",
    "petal_length",
    "petal_width",
)
IRIS_TARGET = "species"
IRIS_CLASSES: tuple[str, ...] = ("setosa", "versicolor", "virginica")


# --------------------------------------------------------------------------- schema
class StrictModel(BaseModel):
    """Base for every params section: unknown keys and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)


class DataParams(StrictModel):
    """How the Iris table is split into train and test sets."""

    test_size: float = Field(0.2, gt=0, lt=1, description="Fraction of rows held out for test")
    random_state: int = Field(42, ge=0, description="Seed of the split")
    stratify: bool = Field(True, description="Keep class proportions equal in both splits")
    min_rows_per_class: int = Field(
        5,
        ge=1,
        le=10_000,
        description="Rows every class needs in the raw table and the train split",
    )


Algorithm = Literal["random_forest", "logistic_regression"]


class TrainParams(StrictModel):
    """Classifier hyper-parameters. Tree fields are ignored by logistic regression."""

    algorithm: Algorithm = "random_forest"
    n_estimators: int = Field(100, ge=1, le=10_000, description="Trees in the forest")
    max_depth: int | None = Field(
        10, ge=1, le=1_000, description="Tree depth; null means unlimited"
    )
    C: float = Field(1.0, gt=0, description="Inverse regularisation of logistic regression")
    max_iter: int = Field(
        1000, ge=1, le=1_000_000, description="Solver iterations of logistic regression"
    )
    random_state: int = Field(42, ge=0, description="Seed of the estimator")


PromotionMetric = Literal[
    "accuracy",
    "f1_macro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
]


class MlflowParams(StrictModel):
    """Where Iris runs are tracked and which model the registry keeps."""

    experiment_name: str = Field("iris-classifier", min_length=1)
    registered_model_name: str = Field("iris-classifier", min_length=1)
    promotion_metric: PromotionMetric = "accuracy"
    min_champion_metric: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A version below this promotion_metric is registered as challenger only",
    )


# ---- computer vision (YOLO-tiny person detector)
#: Each training publishes its ultralytics folder here, one fixed folder per run name.
CV_RUNS_DIR = PROJECT_ROOT / "runs" / "yolo"
#: ``python -m src.train_cv`` copies the newest best.pt here (atomically).
CV_MODELS_DIR = MODELS_DIR / "yolo"
#: Used instead of the default from-scratch YAML when present (as in the course seed).
LOCAL_YOLO_WEIGHTS = PROJECT_ROOT / "yolov8n.pt"
DEFAULT_YOLO_MODEL = "yolov8n.yaml"
CV_REPORT_TEMPLATE = REPORTS_DIR / "templates" / "decision_template_zenml.md"

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?|\d+(,\d+)*)$")


#: The offline stand-in's folder (DVC stage make_synthetic_coco128) and where a download goes.
SYNTHETIC_COCO128_DIR = "data/coco128_synthetic"
COCO128_DIR = "data/coco128"
#: The official COCO128 archive (first 128 COCO train2017 images, YOLO labels, ~7 MB).
COCO128_URL = "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco128.zip"


def split_sizes(images: int, train: float, val: float, test: float) -> tuple[int, int, int]:
    """Return the (train, val, test) image counts for ``images`` images and the fractions.

    val and test are ``floor(images * fraction)``; train gets the rest of
    ``floor(images * (train + val + test))`` (all the images when the fractions sum to 1).
    A tiny tolerance keeps ``80 * 0.2`` at 16 despite binary floating point.
    """

    def part(fraction: float) -> int:
        return math.floor(images * fraction + 1e-9)

    val_n, test_n = part(val), part(test)
    return max(0, part(train + val + test) - val_n - test_n), val_n, test_n


def min_images_for(train: float, val: float, test: float, limit: int = 1_000_000) -> int | None:
    """Return the fewest images that give a non-empty train and val split; None if none do."""
    smallest = max(2, math.ceil(1 / val - 1e-9))
    for images in range(smallest, limit):
        n_train, n_val, _ = split_sizes(images, train, val, test)
        if n_train >= 1 and n_val >= 1:
            return images
    return None


class TinyPersonDatasetParams(StrictModel):
    """How the tiny person dataset is cut from a YOLO-format source folder.

    The split sizes are fractions of the images that hold a kept class (at most
    ``max_images`` of them, taken in the seed's order): see :func:`split_sizes`.
    """

    source: str = Field(
        SYNTHETIC_COCO128_DIR,
        description="YOLO dataset folder: COCO128 layout or one with a data.yaml (repo-relative)",
    )
    output: str = Field("data/tiny_person", description="Where the cut dataset is written")
    classes: list[int] = Field(
        default_factory=lambda: [0],
        min_length=1,
        description="Source class ids to keep, renumbered 0..k-1 in this order (0 = COCO person)",
    )
    train: float = Field(0.6, gt=0, le=1, description="Fraction of the images in train")
    val: float = Field(0.2, gt=0, le=1, description="Fraction of the images in val")
    test: float = Field(0.2, ge=0, le=1, description="Fraction in the held-out test split")
    max_images: int | None = Field(
        80, ge=2, description="Use at most this many images; null uses all that qualify"
    )
    seed: int = Field(0, ge=0, description="Seed of the split")
    letterbox: int | None = Field(
        None, ge=32, description="Letterbox images to this square size; null copies them as-is"
    )

    @field_validator("classes")
    @classmethod
    def _distinct_ids(cls, values: list[int]) -> list[int]:
        if any(v < 0 for v in values):
            raise ValueError("class ids must be >= 0")
        if len(set(values)) != len(values):
            raise ValueError("lists the same class twice")
        return values

    @model_validator(mode="after")
    def _fractions_fit(self) -> TinyPersonDatasetParams:
        total = self.train + self.val + self.test
        if total > 1 + 1e-9:
            raise ValueError(
                f"train + val + test = {total:g} must be <= 1 "
                f"(train {self.train:g}, val {self.val:g}, test {self.test:g})"
            )
        needed = min_images_for(self.train, self.val, self.test)
        if needed is None:
            raise ValueError(
                f"train {self.train:g} and val {self.val:g} are too small: no split of up to "
                "a million images has a train and a val image"
            )
        if self.max_images is not None and needed > self.max_images:
            raise ValueError(
                f"max_images {self.max_images} is too few for a non-empty train and val split "
                f"with train {self.train:g}, val {self.val:g}, test {self.test:g} "
                f"(needs {needed})"
            )
        return self


class CocoDownloadParams(StrictModel):
    """The real COCO128: where it is fetched from, and the folders a DVC stage fills with it.

    ``into`` is empty by default, so the pipeline has no download stage and stays offline;
    ``make cv-data-coco128`` sets it to ``[data/coco128]`` (see :func:`set_param`).
    """

    url: str = Field(COCO128_URL, pattern=r"^(https?|file)://\S+$", description="Zip to fetch")
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$", description="Expected sha256 of the zip; null: any"
    )
    into: list[str] = Field(
        default_factory=list, description="Folders a download_coco128 DVC stage fills"
    )

    @field_validator("into")
    @classmethod
    def _distinct_folders(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("lists the same folder twice")
        return values


class SyntheticCocoParams(StrictModel):
    """The offline stand-in for COCO128, generated deterministically from a seed."""

    images: int = Field(128, ge=8, description="Images to generate")
    imgsz: int = Field(160, ge=64, description="Longest side of the generated images")
    seed: int = Field(0, ge=0)


class CvTrainParams(StrictModel):
    """One YOLO training configuration (the fields a grid entry may override)."""

    model: str = Field(
        DEFAULT_YOLO_MODEL,
        description="A model YAML shipped with ultralytics (from scratch) or a local .pt file",
    )
    epochs: int = Field(40, ge=1, le=10_000)
    imgsz: int = Field(160, ge=32, le=4096)
    batch: int = Field(16, ge=1, le=1024)
    lr0: float = Field(0.002, gt=0, le=1)
    optimizer: Literal["SGD", "AdamW", "Adam", "auto"] = Field(
        "AdamW", description="ultralytics' 'auto' ignores lr0, so the default names one"
    )
    nbs: int | None = Field(
        None,
        ge=1,
        description="Nominal batch for gradient accumulation; null = batch (no accumulation: "
        "ultralytics' 64 would mean less than one update per epoch on 48 images)",
    )
    seed: int = Field(0, ge=0)
    patience: int = Field(100, ge=0, description="Epochs without improvement before stopping")
    device: str = Field(
        "auto",
        description="auto (cuda if torch sees a GPU, else mps, else cpu), cpu, mps, cuda, cuda:N, "
        "N or N,M",
    )
    workers: int = Field(0, ge=0, description="Data-loader workers; 0 keeps runs deterministic")
    plots: bool = Field(
        True,
        description="ultralytics' plots (results.png, confusion matrix, label and batch images); "
        "false skips them (about 5 s of a one-epoch run); results.csv and the weights stay",
    )

    @field_validator("imgsz")
    @classmethod
    def _imgsz_multiple_of_32(cls, value: int) -> int:
        if value % 32:
            raise ValueError("must be a multiple of 32 (YOLO's stride)")
        return value

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not _DEVICE_PATTERN.match(value):
            raise ValueError("must be auto, cpu, mps, cuda, cuda:N, N or N,M")
        return value

    @field_validator("model")
    @classmethod
    def _model_kind(cls, value: str) -> str:
        if Path(value).suffix.lower() not in (".yaml", ".yml", ".pt"):
            raise ValueError("must be a model YAML (yolov8n.yaml) or a .pt weights file")
        return value


class CvGridParams(StrictModel):
    """A grid of overrides of :class:`CvTrainParams`; the runs are their product."""

    epochs: list[int] = Field(default_factory=lambda: [20, 40], min_length=1)
    imgsz: list[int] = Field(default_factory=lambda: [160], min_length=1)
    lr0: list[float] = Field(default_factory=lambda: [0.001, 0.004], min_length=1)
    batch: list[int] | None = None

    @field_validator("epochs", "imgsz", "lr0", "batch")
    @classmethod
    def _no_repeats(cls, values: list[Any] | None) -> list[Any] | None:
        if values is not None and len(set(values)) != len(values):
            raise ValueError("lists the same value twice")
        return values

    def overrides(self) -> list[dict[str, Any]]:
        """Return one override mapping per grid point (the product, in params.yaml order)."""
        axes = {key: value for key, value in self.model_dump().items() if value is not None}
        return [dict(zip(axes, point, strict=True)) for point in itertools.product(*axes.values())]

    def configurations(self, base: CvTrainParams, source: str = "cv.grid") -> list[CvTrainParams]:
        """Return ``base`` with each grid point applied, every one validated by the schema."""
        return [
            with_overrides(base, f"{source} ({_describe(point)})", **point)
            for point in self.overrides()
        ]


def _describe(point: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in point.items())


#: Optuna studies of ``make zenml-tune``: one SQLite file per study (``<study>.db``).
OPTUNA_DIR = PROJECT_ROOT / "runs" / "optuna"


class CvTuneParams(StrictModel):
    """An Optuna study over the ``cv.grid`` ranges (``make zenml-tune``).

    The search space comes from ``cv.grid`` (lr0 continuous on a log scale between its
    smallest and largest value, epochs an integer between its bounds, the other axes as
    categories); these fields only say how long to search and how to prune.
    """

    study_name: str = Field(
        "yolo-tune",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="The study (and its runs/optuna/<name>.db); rerunning it resumes it",
    )
    n_trials: int = Field(6, ge=1, le=1000, description="Trials the study holds in all")
    seed: int = Field(0, ge=0, description="Seed of the TPE sampler")
    startup_trials: int = Field(
        2,
        ge=1,
        le=1000,
        description="First trials drawn at random and never pruned (TPE and the pruner's base)",
    )
    warmup_epochs: int = Field(
        20, ge=0, le=10_000, description="A trial is pruned at the earliest after this epoch"
    )
    timeout_s: float | None = Field(
        None, gt=0, le=7 * 24 * 3600, description="Start no new trial after this; null: none"
    )


SelectionMetric = Literal["map50_95", "map50", "precision", "recall"]


class CvTrackingParams(StrictModel):
    """Where YOLO runs are tracked and how the best one is chosen."""

    experiment_name: str = Field("yolo-tiny-person", min_length=1)
    registered_model_name: str = Field("yolo-tiny-person", min_length=1)
    selection_metric: SelectionMetric = "map50_95"
    min_champion_metric: float = Field(
        0.01,
        ge=0,
        le=1,
        description="A grid's best below this selection_metric is registered as challenger only",
    )


class CvParams(StrictModel):
    """Everything the YOLO half reads."""

    dataset: TinyPersonDatasetParams = TinyPersonDatasetParams()
    synthetic: SyntheticCocoParams = SyntheticCocoParams()
    download: CocoDownloadParams = CocoDownloadParams()
    train: CvTrainParams = CvTrainParams()
    grid: CvGridParams = CvGridParams()
    tune: CvTuneParams = CvTuneParams()
    tracking: CvTrackingParams = CvTrackingParams()


class Params(StrictModel):
    """The whole of ``params.yaml``. Every section is optional and has documented defaults."""

    data: DataParams = DataParams()
    train: TrainParams = TrainParams()
    mlflow: MlflowParams = MlflowParams()
    cv: CvParams = CvParams()

    @model_validator(mode="after")
    def _names_differ(self) -> Params:
        if self.mlflow.registered_model_name == self.cv.tracking.registered_model_name:
            raise ValueError(
                "mlflow.registered_model_name and cv.tracking.registered_model_name must differ"
            )
        return self


# --------------------------------------------------------------------------- loading
M = TypeVar("M", bound=BaseModel)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Return the field names valid at ``loc`` (the parent of an unknown key)."""
    current: Any = model
    for part in loc:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = field.annotation
    return list(getattr(current, "model_fields", {}))


def format_validation_error(
    source: str, exc: ValidationError, model: type[BaseModel], prefix: str = ""
) -> str:
    """Return one line naming the source, each bad key path, its value and the rule."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join([p for p in prefix.split(".") if p] + [str(p) for p in loc]) or "<root>"
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            rule = f"unknown key (did you mean '{hint[0]}'?)" if hint else "unknown key"
            if allowed:
                rule += f"; allowed: {', '.join(allowed)}"
            problems.append(f"{key}: {rule}")
            continue
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(f"{key} = {err.get('input')!r}: {msg}")
    return f"{source}: " + "; ".join(problems)


def validate_section(model: type[M], data: Any, source: str, prefix: str = "") -> M:
    """Validate ``data`` against ``model``; raise ConfigError with a one-line message.

    ``prefix`` is the section's key path (``train``) so messages name ``train.max_depth``.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc, model, prefix)) from None


def flags_given(args: Any, names: Iterable[str]) -> dict[str, Any]:
    """Return ``{name: value}`` for each of ``names`` the command line set (not None)."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def with_overrides(section: M, source: str = "overrides", prefix: str = "", **overrides: Any) -> M:
    """Return a copy of ``section`` with ``overrides`` applied and re-validated."""
    if not overrides:
        return section
    merged = {**section.model_dump(), **overrides}
    return validate_section(type(section), merged, source, prefix)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); a params file is YAML text"
        ) from None
    if "\0" in text:
        raise ConfigError(f"{path}: holds NUL bytes; a params file is YAML text")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}:{where}: invalid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    return data


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Params:
    return validate_section(Params, _read_yaml(path), display_path(path))


def get_config(path: Path | str | None = None) -> Params:
    """Return the validated params (cached until the file changes).

    With ``path=None`` the project's ``params.yaml`` is read; if it does not exist
    the documented defaults apply. An explicit path that does not exist is an error.
    """
    target = PARAMS_FILE if path is None else Path(path)
    if not target.exists():
        if path is not None:
            raise ConfigError(f"{target}: params file not found")
        return Params()
    return _load(target.resolve(), target.stat().st_mtime_ns)


def clear_config_cache() -> None:
    """Forget cached params (tests edit params files in place)."""
    _load.cache_clear()


def resolve_path(relative: str | Path) -> Path:
    """Return ``relative`` anchored at the project root (absolute paths pass through)."""
    candidate = Path(relative)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


_KEY_LINE = re.compile(
    r"^(?P<indent> *)(?P<key>[A-Za-z_][\w-]*):(?P<value>[^#]*?)(?P<rest> +#.*)?$"
)


def set_param(path: Path, key: str, value: Any) -> None:
    """Set the dotted ``key`` of a params file to ``value`` in place, keeping its comments.

    Only an existing scalar or flow-style line (``key: value  # comment``) is rewritten; the
    result must parse to ``value`` and validate against the schema, or ConfigError says
    what to edit by hand. The file is replaced atomically.
    """
    from src.io_utils import atomic_write_text

    path = Path(path)
    lines = _read_text(path).splitlines(keepends=True)
    wanted = key.split(".")
    stack: list[tuple[int, str]] = []
    rendered = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    rendered = rendered.removesuffix("\n...").strip()
    for number, line in enumerate(lines):
        match = _KEY_LINE.match(line.rstrip("\n"))
        if not match:
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if [k for _, k in stack] == wanted and match["value"].strip():
            new = f"{match['indent']}{match['key']}: {rendered}"
            if match["rest"]:  # the comment keeps its column when the new value fits
                comment = match["rest"].lstrip()
                column = match.end("rest") - len(comment)
                new += " " * max(2, column - len(new)) + comment
            lines[number] = new + "\n"
            break
    else:
        raise ConfigError(f"{path}: no line '{key}: ...' to rewrite; set {key}: {rendered} by hand")
    text = "".join(lines)
    data = yaml.safe_load(text)
    current: Any = data
    for part in wanted:
        current = current.get(part) if isinstance(current, dict) else None
    if current != value:
        raise ConfigError(f"{path}: could not set {key}; set {key}: {rendered} by hand")
    validate_section(Params, data, display_path(path))
    atomic_write_text(path, text)
    clear_config_cache()


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
