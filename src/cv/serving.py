"""The YOLO detector as an MLflow pyfunc model: base64 images in, detections out.

``mlflow models serve -m models:/yolo-tiny-person@champion --env-manager local`` loads
:class:`YoloDetector` from the logged model, which carries ``best.pt`` as an artifact and
this module (with :mod:`src.workarounds`) as its code, so it loads from any working
directory. Input: one string column ``image`` holding base64-encoded image bytes (any
format PIL reads). Output, one entry per image: the list (possibly empty) of

    {"box": [x1, y1, x2, y2], "confidence": float, "class_id": int, "class_name": str}

with the box in pixels of the original image. The confidence threshold is the request
parameter ``conf`` (default 0.25); the image size is the training's ``imgsz``.

An image that cannot be decoded raises an ``MlflowException`` with
``INVALID_PARAMETER_VALUE``, which the scoring server answers with HTTP 400 and the
message; nothing else in this module talks to a server.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow.pyfunc
from mlflow.pyfunc.model import PythonModel

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.models.model import ModelInfo
    from mlflow.models.signature import ModelSignature
    from PIL import Image

#: Name of the logged model inside the training's MLflow run (``runs:/<run id>/model``).
MODEL_NAME = "model"
#: Key of ``best.pt`` in the model's artifacts.
WEIGHTS_ARTIFACT = "weights"
#: The one input column.
IMAGE_COLUMN = "image"
DEFAULT_CONF = 0.25
#: Declared instead of inferred (MLflow's inference loads the model in a subprocess).
MODEL_REQUIREMENTS = (
    "mlflow",
    "ultralytics",
    "torch",
    "torchvision",
    "opencv-python",
    "pillow",
    "numpy",
    "pandas",
    "cloudpickle",
)
#: Project files the model imports, packaged with it under the same module names.
PACKAGED_MODULES = (
    "src/__init__.py",
    "src/workarounds.py",
    "src/cv/__init__.py",
    "src/cv/serving.py",
)

#: The model's code file (MLflow "models from code"): what loading the model runs.
MODEL_SCRIPT = "yolo_detector_model.py"
MODEL_SCRIPT_TEXT = (
    '"""Builds the YOLO detector pyfunc when MLflow loads the model (models from code)."""\n\n'
    "from mlflow.models import set_model\n\n"
    "from src.cv.serving import YoloDetector\n\n"
    "set_model(YoloDetector())\n"
)

Detection = dict[str, Any]


# --------------------------------------------------------------------------- pure helpers
def invalid_input(message: str) -> mlflow.exceptions.MlflowException:
    """Return the exception the scoring server turns into HTTP 400 with ``message``."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def decode_image_bytes(data: bytes, what: str) -> Image.Image:
    """Return the RGB image encoded in ``data``; raise ``invalid_input`` naming ``what``."""
    from PIL import Image, UnidentifiedImageError

    from src.workarounds import image_open_errors

    errors: tuple[type[BaseException], ...] = (*image_open_errors(), ValueError)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGB")
    except errors as exc:
        # ImportError: ultralytics' patched Image.open looked for a HEIF plugin (see workarounds).
        unknown = isinstance(exc, UnidentifiedImageError | ImportError)
        reason = "unknown image format" if unknown else " ".join(str(exc).split())[:200]
        raise invalid_input(
            f"{what}: not a decodable image ({len(data)} bytes; {reason})"
        ) from None


def decode_image(value: Any, index: int) -> Image.Image:
    """Return the RGB image of one ``image`` cell (base64 text; whitespace ignored)."""
    what = f"{IMAGE_COLUMN}[{index}]"
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("ascii", errors="replace")
    if not isinstance(value, str) or not value.strip():
        raise invalid_input(f"{what}: expected base64-encoded image bytes, got {value!r:.40}")
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid_input(f"{what}: not valid base64 ({exc})") from None
    return decode_image_bytes(data, what)


def format_detections(
    boxes: Sequence[Sequence[float]],
    confidences: Sequence[float],
    class_ids: Sequence[float],
    names: Mapping[int, str],
) -> list[Detection]:
    """Return one image's detections as plain JSON-ready dicts, highest confidence first."""
    detections = [
        {
            "box": [float(v) for v in box],
            "confidence": float(conf),
            "class_id": int(cls),
            "class_name": str(names.get(int(cls), str(int(cls)))),
        }
        for box, conf, cls in zip(boxes, confidences, class_ids, strict=True)
    ]
    return sorted(detections, key=lambda d: -d["confidence"])


def image_column(model_input: Any) -> list[Any]:
    """Return the ``image`` cells of a DataFrame (or a mapping / list of mappings)."""
    import pandas as pd

    frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
    if IMAGE_COLUMN not in frame.columns:
        raise invalid_input(
            f"input has columns {list(frame.columns)}; expected one column {IMAGE_COLUMN!r} "
            "of base64-encoded images"
        )
    return list(frame[IMAGE_COLUMN])


def encode_image_file(path: Path) -> str:
    """Return the base64 text of a file's bytes (what a client sends in ``image``)."""
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


# --------------------------------------------------------------------------- the model
class YoloDetector(PythonModel):
    """An ultralytics detector behind MLflow's pyfunc interface."""

    # The signature is explicit (model_signature); without this, mlflow 3.17.2 inspects
    # predict's type hints on every import and logs that it cannot use them (ChatModel's opt-out).
    _skip_type_hint_validation = True

    def __init__(self) -> None:
        self._yolo: Any = None
        self._imgsz = 640

    def load_context(self, context: Any) -> None:
        """Load ``best.pt`` from the model's artifacts, with the training's image size."""
        config = dict(context.model_config or {})
        self.load_weights(Path(context.artifacts[WEIGHTS_ARTIFACT]), int(config.get("imgsz", 640)))

    def load_weights(self, weights: Path, imgsz: int | None = None) -> None:
        """Load ultralytics weights (``imgsz`` None: the checkpoint's training size), offline."""
        os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics import YOLO

        self._yolo = YOLO(str(weights))
        self._imgsz = imgsz or int(self._yolo.overrides.get("imgsz") or 640)

    @property
    def task(self) -> str:
        """Return the loaded model's ultralytics task (``detect`` for a detector)."""
        return str(getattr(self._yolo, "task", ""))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> list[list[Detection]]:
        """Return, per input image, its detections at confidence >= ``params['conf']``."""
        if self._yolo is None:
            raise RuntimeError("YoloDetector.predict before load_context/load_weights")
        conf = float((params or {}).get("conf", DEFAULT_CONF))
        if not 0.0 <= conf <= 1.0:
            raise invalid_input(f"params.conf={conf}: expected a number between 0 and 1")
        images = [decode_image(value, i) for i, value in enumerate(image_column(model_input))]
        if not images:
            return []
        results = self._yolo.predict(images, conf=conf, imgsz=self._imgsz, verbose=False)
        return [
            format_detections(
                r.boxes.xyxy.tolist(), r.boxes.conf.tolist(), r.boxes.cls.tolist(), r.names
            )
            for r in results
        ]


# --------------------------------------------------------------------------- logging
def model_signature() -> ModelSignature:
    """Return the signature: ``image`` (string) in, a list of detections per image out."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import (
        Array,
        ColSpec,
        DataType,
        Object,
        ParamSchema,
        ParamSpec,
        Property,
        Schema,
    )

    detection = Object(
        [
            Property("box", Array(DataType.double)),
            Property("confidence", DataType.double),
            Property("class_id", DataType.long),
            Property("class_name", DataType.string),
        ]
    )
    return ModelSignature(
        inputs=Schema([ColSpec(DataType.string, IMAGE_COLUMN)]),
        outputs=Schema([ColSpec(Array(detection), "detections")]),
        params=ParamSchema([ParamSpec("conf", DataType.double, DEFAULT_CONF)]),
    )


def model_requirements() -> list[str]:
    """Return the model's pip requirements pinned to the installed versions."""
    pinned = []
    for name in MODEL_REQUIREMENTS:
        try:
            pinned.append(f"{name}=={package_version(name)}")
        except PackageNotFoundError:
            continue
    return pinned


@contextmanager
def packaged_code() -> Iterator[Path]:
    """Yield a folder with ``src/`` (only the modules the model imports) and the model script.

    The script is MLflow's "model from code": loading the model runs it (``set_model``),
    so nothing is unpickled; ``src/`` goes in as code_paths and is put on ``sys.path``.
    """
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="yolo-model-code-") as tmp:
        for relative in PACKAGED_MODULES:
            target = Path(tmp) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / relative, target)
        (Path(tmp) / MODEL_SCRIPT).write_text(MODEL_SCRIPT_TEXT)
        yield Path(tmp)


def log_detector_model(weights: Path, *, imgsz: int, name: str = MODEL_NAME) -> ModelInfo:
    """Log ``weights`` as a pyfunc model in the active MLflow run; return its info."""
    from src.workarounds import pinned_requirements

    with packaged_code() as code, pinned_requirements(), warnings.catch_warnings():
        # No input example on purpose: MLflow would load the detector to validate it.
        warnings.filterwarnings("ignore", message=".*An input example was not provided")
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(code / MODEL_SCRIPT),
            artifacts={WEIGHTS_ARTIFACT: str(weights)},
            code_paths=[str(code / "src")],
            signature=model_signature(),
            pip_requirements=model_requirements(),
            model_config={"imgsz": int(imgsz)},
        )
