"""The detector's pyfunc contract without ultralytics: decoding, formatting, signature, code."""

from __future__ import annotations

import ast
import base64
import io
from pathlib import Path

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from PIL import Image

from src.cv import serving


def _png_base64(
    size: tuple[int, int] = (12, 8), colour: tuple[int, int, int] = (10, 200, 30)
) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_decode_image_gives_rgb_and_ignores_line_breaks() -> None:
    text = _png_base64()
    wrapped = "\n".join(text[i : i + 16] for i in range(0, len(text), 16))  # `base64` wraps at 76
    for value in (text, wrapped, text.encode()):
        image = serving.decode_image(value, 0)
        assert image.mode == "RGB" and image.size == (12, 8)
        assert image.getpixel((3, 3)) == (10, 200, 30)
    grey = io.BytesIO()
    Image.new("L", (4, 4), 7).save(grey, format="JPEG")
    assert serving.decode_image_bytes(grey.getvalue(), "x").mode == "RGB"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not base64 at all!", r"image\[2\]: not valid base64"),
        (base64.b64encode(b"hello").decode(), r"image\[2\]: not a decodable image \(5 bytes; "),
        (_png_base64()[:40], r"image\[2\]: not a decodable image"),  # truncated PNG
        ("", r"image\[2\]: expected base64-encoded image bytes"),
        (None, r"image\[2\]: expected base64-encoded image bytes"),
        (3.5, r"image\[2\]: expected base64-encoded image bytes"),
    ],
)
def test_undecodable_input_is_an_invalid_parameter_naming_the_row(
    value: object, expected: str
) -> None:
    with pytest.raises(MlflowException, match=expected) as caught:
        serving.decode_image(value, 2)
    # INVALID_PARAMETER_VALUE is what the scoring server answers with HTTP 400.
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.get_http_status_code() == 400
    assert "\n" not in caught.value.message


def test_format_detections_is_plain_json_types_best_first() -> None:
    detections = serving.format_detections(
        [[1, 2, 30.5, 40], [0.0, 0.0, 5.0, 5.0]], [0.4, 0.9], [0.0, 3.0], {0: "person"}
    )
    assert detections == [
        {"box": [0.0, 0.0, 5.0, 5.0], "confidence": 0.9, "class_id": 3, "class_name": "3"},
        {"box": [1.0, 2.0, 30.5, 40.0], "confidence": 0.4, "class_id": 0, "class_name": "person"},
    ]
    first = detections[0]
    assert all(type(v) is float for v in first["box"]) and type(first["class_id"]) is int
    assert serving.format_detections([], [], [], {}) == []
    with pytest.raises(ValueError):
        serving.format_detections([[0, 0, 1, 1]], [], [], {})


def test_image_column_accepts_frames_and_records_and_names_a_wrong_column() -> None:
    assert serving.image_column(pd.DataFrame({"image": ["a", "b"]})) == ["a", "b"]
    assert serving.image_column([{"image": "a"}]) == ["a"]
    with pytest.raises(MlflowException, match=r"columns \['img'\]; expected one column 'image'"):
        serving.image_column(pd.DataFrame({"img": ["a"]}))


def test_predict_before_loading_is_a_bug_not_a_bad_request() -> None:
    with pytest.raises(RuntimeError, match="before load_context"):
        serving.YoloDetector().predict(None, pd.DataFrame({"image": []}))


def test_signature_is_one_image_string_column_a_conf_param_and_detections() -> None:
    signature = serving.model_signature().to_dict()
    assert signature["inputs"] == '[{"type": "string", "name": "image", "required": true}]'
    assert '"name": "conf", "default": 0.25' in signature["params"]
    for key in ("box", "confidence", "class_id", "class_name"):
        assert f'"{key}"' in signature["outputs"]


def test_requirements_are_pinned_to_the_installed_versions() -> None:
    from importlib.metadata import version

    pins = dict(line.split("==") for line in serving.model_requirements())
    assert {"mlflow", "ultralytics", "torch", "torchvision", "pillow", "numpy", "pandas"} <= set(
        pins
    )
    assert pins["ultralytics"] == version("ultralytics") and pins["torch"] == version("torch")


def test_packaged_code_holds_only_modules_that_import_nothing_else_from_the_project() -> None:
    with serving.packaged_code() as folder:
        code = folder / "src"
        files = sorted(str(p.relative_to(folder)) for p in code.rglob("*.py"))
        assert files == sorted(serving.PACKAGED_MODULES)
        packaged = {
            f.removesuffix(".py").replace("/", ".").removesuffix(".__init__") for f in files
        }
        for path in [*code.rglob("*.py"), folder / serving.MODEL_SCRIPT]:
            tree = ast.parse(path.read_text())
            imported = {
                node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names
            }
            project = {name for name in imported if name and name.split(".")[0] == "src"}
            # A served model has only these files: anything else from src/ would not import.
            assert project <= packaged, (path, project - packaged)


def test_logged_model_carries_weights_code_signature_and_config(
    tmp_path: Path, mlflow_store: str
) -> None:
    import mlflow

    from src.tracking import tracked_run

    weights = tmp_path / "best.pt"
    weights.write_bytes(b"not loaded when logging")
    with tracked_run("serving-test"):
        info = serving.log_detector_model(weights, imgsz=96)
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "m")))
    assert (local / "artifacts" / "best.pt").read_bytes() == b"not loaded when logging"
    assert (local / "code" / "src" / "cv" / "serving.py").is_file()
    meta = mlflow.models.Model.load(str(local / "MLmodel"))
    flavor = meta.flavors["python_function"]
    assert flavor["config"] == {"imgsz": 96}
    assert (local / flavor["model_code_path"]).name == serving.MODEL_SCRIPT  # nothing pickled
    assert not list(local.rglob("*.pkl"))
    assert meta.signature.inputs.input_names() == ["image"]
    requirements = (local / "requirements.txt").read_text().split()
    assert any(line.startswith("ultralytics==") for line in requirements)
