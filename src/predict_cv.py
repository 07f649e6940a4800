"""Detect people in images with the YOLO champion: ``python -m src.predict_cv IMAGE_OR_FOLDER...``.

The model is the registered pyfunc (default ``models:/yolo-tiny-person@champion``, the
same code ``make serve-yolo`` serves) or a local ultralytics ``.pt`` (``--model
models/yolo/best.pt``). Prints ``{"images": [...], "predictions": [...]}``: per image,
the same list of detections the server answers. Writes each image with its boxes drawn
into ``--out`` (default ``reports/predictions/``), staged and moved in only once every
image was read and predicted.

Every input is checked before the model runs: a missing or undecodable image, a corrupt
``.pt`` or one of another task, an alias the registry does not have: one line each.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from src.cli import run_main
from src.config import PROJECT_ROOT, resolve_path
from src.errors import ConfigError, DataError, OutputError
from src.io_utils import display_path

DEFAULT_MODEL = "models:/yolo-tiny-person@champion"
DEFAULT_OUT = PROJECT_ROOT / "reports" / "predictions"
#: Suffixes picked up from a folder (PIL reads them all).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def collect_images(paths: list[str]) -> list[Path]:
    """Return the image files named by ``paths`` (a folder gives its images, sorted)."""
    images: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise DataError(f"{raw}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
            images += found
        elif path.is_file():
            images.append(path)
        else:
            raise DataError(f"{raw}: no such image or folder")
    return images


def read_images(images: list[Path]) -> list[Any]:
    """Return each file decoded as RGB (DataError naming the first that is not an image)."""
    from mlflow.exceptions import MlflowException

    from src.cv.serving import decode_image_bytes

    decoded = []
    for path in images:
        try:
            decoded.append(decode_image_bytes(path.read_bytes(), display_path(path)))
        except MlflowException as exc:
            raise DataError(exc.message) from None
        except OSError as exc:
            raise DataError(f"{display_path(path)}: cannot read ({exc.strerror})") from None
    return decoded


def load_detector(model: str) -> Any:
    """Return an object with ``predict(frame, params=...)``: the pyfunc or a wrapped ``.pt``."""
    if model.startswith("models:/") or Path(model).is_dir():
        from src.tracking import check_model_uri

        check_model_uri(model)
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(model)
    path = Path(model)
    if path.suffix != ".pt":
        raise ConfigError(f"--model {model}: expected a models:/ URI, an MLflow model or a .pt")
    if not path.is_file():
        raise DataError(f"--model {model}: no such file")
    return _PtDetector(path)


class _PtDetector:
    """A local ``.pt`` behind the pyfunc's ``predict``, through the same YoloDetector code."""

    def __init__(self, weights: Path) -> None:
        from src.cv.serving import YoloDetector
        from src.workarounds import configure_ultralytics

        configure_ultralytics()
        self._detector = YoloDetector()
        try:
            self._detector.load_weights(weights)
        except Exception as exc:  # ultralytics raises anything from pickle, torch or zip
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise DataError(f"{weights}: not an ultralytics checkpoint ({reason})") from None
        if self._detector.task != "detect":
            raise DataError(
                f"{weights}: a YOLO '{self._detector.task}' model; expected a 'detect' model"
            )

    def predict(self, frame: Any, params: dict[str, Any] | None = None) -> list[Any]:
        return self._detector.predict(None, frame, params=params)


def draw_detections(image: Any, detections: list[dict[str, Any]], target: Path) -> None:
    """Write ``image`` with each detection's box and label drawn to ``target``."""
    from PIL import ImageDraw

    canvas = image.copy()
    draw = ImageDraw.Draw(canvas)
    width = max(2, round(max(canvas.size) / 300))
    for det in detections:
        box = det["box"]
        draw.rectangle(box, outline=(255, 56, 56), width=width)
        label = f"{det['class_name']} {det['confidence']:.2f}"
        draw.text((box[0] + width, box[1] + width), label, fill=(255, 56, 56))
    canvas.save(target)


def output_names(images: list[Path]) -> list[str]:
    """Return one distinct file name per input (``bus.jpg``, ``bus_2.jpg`` for a repeat)."""
    names: list[str] = []
    for path in images:
        name, count = path.name, 1
        while name in names:
            count += 1
            name = f"{path.stem}_{count}{path.suffix}"
        names.append(name)
    return names


def predict_images(
    paths: list[str], *, model: str = DEFAULT_MODEL, out_dir: Path = DEFAULT_OUT, conf: float = 0.25
) -> dict[str, Any]:
    """Return ``{"images", "predictions", "annotated"}`` and write the annotated images."""
    if not 0.0 <= conf <= 1.0:
        raise ConfigError(f"--conf {conf}: expected a number between 0 and 1")
    images = collect_images(paths)
    decoded = read_images(images)
    detector = load_detector(model)

    import pandas as pd

    from src.cv.serving import encode_image_file

    frame = pd.DataFrame({"image": [encode_image_file(path) for path in images]})
    predictions = detector.predict(frame, params={"conf": conf})
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".predictions-", dir=out_dir.parent) as tmp:
            names = output_names(images)
            for image, detections, name in zip(decoded, predictions, names, strict=True):
                draw_detections(image, detections, Path(tmp) / name)
            for name in names:
                shutil.move(str(Path(tmp) / name), out_dir / name)
    except OSError as exc:
        raise OutputError(f"{display_path(out_dir)}: cannot write predictions ({exc})") from None
    return {
        "images": [display_path(path) for path in images],
        "predictions": predictions,
        "annotated": [display_path(out_dir / name) for name in names],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m src.predict_cv", description=__doc__.splitlines()[0]
    )
    parser.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"URI or .pt ({DEFAULT_MODEL})")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder of annotated images")
    parser.add_argument("--conf", type=float, default=0.25, help="confidence threshold")
    args = parser.parse_args(argv)
    result = predict_images(
        args.inputs, model=args.model, out_dir=resolve_path(args.out), conf=args.conf
    )
    print(json.dumps({"images": result["images"], "predictions": result["predictions"]}))
    print(f"annotated images in {display_path(resolve_path(args.out))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
