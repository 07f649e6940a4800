"""``python -m src.predict_cv``: inputs checked before any model loads, names, drawing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from src import predict_cv
from src.errors import ConfigError, DataError


def test_collect_images_expands_folders_and_names_what_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("b.png", "a.JPG", "notes.txt"):
        (folder / name).write_bytes(b"x")
    single = tmp_path / "c.jpg"
    single.write_bytes(b"x")
    assert [p.name for p in predict_cv.collect_images([str(folder), str(single)])] == [
        "a.JPG", "b.png", "c.jpg"
    ]  # fmt: skip
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="empty: folder holds no images"):
        predict_cv.collect_images([str(empty)])
    with pytest.raises(DataError, match=r"nope\.jpg: no such image or folder"):
        predict_cv.collect_images([str(tmp_path / "nope.jpg")])


def test_read_images_names_the_file_that_is_not_an_image(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    Image.new("RGB", (5, 4)).save(good)
    bad.write_bytes(b"\x89PNG but no more")
    assert predict_cv.read_images([good])[0].size == (5, 4)
    with pytest.raises(DataError, match=r"bad\.png: not a decodable image \(16 bytes"):
        predict_cv.read_images([good, bad])


def test_output_names_stay_distinct() -> None:
    paths = [Path("a/bus.jpg"), Path("b/bus.jpg"), Path("zidane.jpg"), Path("c/bus.jpg")]
    assert predict_cv.output_names(paths) == ["bus.jpg", "bus_2.jpg", "zidane.jpg", "bus_3.jpg"]


def test_draw_detections_marks_the_box(tmp_path: Path) -> None:
    image = Image.new("RGB", (60, 40), (0, 0, 0))
    det = {"box": [10.0, 5.0, 50.0, 35.0], "confidence": 0.9, "class_id": 0, "class_name": "person"}
    predict_cv.draw_detections(image, [det], tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as drawn:
        assert drawn.size == (60, 40)
        assert drawn.getpixel((30, 35)) == (255, 56, 56)  # bottom edge
        assert drawn.getpixel((30, 20)) == (0, 0, 0)  # inside stays
    assert image.getpixel((30, 35)) == (0, 0, 0)  # the input is not drawn on


def test_bad_model_or_conf_is_refused_before_loading(tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    Image.new("RGB", (4, 4)).save(photo)
    with pytest.raises(ConfigError, match=r"--conf 1.5: expected a number between 0 and 1"):
        predict_cv.predict_images([str(photo)], conf=1.5, out_dir=tmp_path / "out")
    with pytest.raises(ConfigError, match=r"--model weights.onnx: expected a models:/ URI"):
        predict_cv.predict_images([str(photo)], model="weights.onnx", out_dir=tmp_path / "out")
    with pytest.raises(DataError, match=r"--model .*missing.pt: no such file"):
        predict_cv.predict_images(
            [str(photo)], model=str(tmp_path / "missing.pt"), out_dir=tmp_path / "out"
        )
    assert not (tmp_path / "out").exists()


def test_a_missing_image_is_one_line_and_exit_code_3(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "src.predict_cv", str(tmp_path / "gone.jpg")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'gone.jpg'}: no such image or folder"
    ]
