"""The synthetic COCO128 stand-in: deterministic bytes and COCO128's quirks present."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from src.config import SyntheticCocoParams
from src.cv.dataset import SYNTHETIC_MARKER
from src.cv.dataset.labels import check_label_line
from src.cv.dataset.synthetic import make_synthetic_coco128
from src.errors import ConfigError, OutputError

PARAMS = SyntheticCocoParams(images=16, imgsz=64, seed=0)


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "coco128"
    make_synthetic_coco128(root, PARAMS)
    return root


def _labels(coco: Path) -> dict[str, list[list[str]] | None]:
    """Return each image's label lines (split in fields), None when it has no label file."""
    result: dict[str, list[list[str]] | None] = {}
    for image in sorted((coco / "images" / "train2017").glob("*.jpg")):
        label = coco / "labels" / "train2017" / f"{image.stem}.txt"
        result[image.stem] = (
            [line.split() for line in label.read_text().splitlines()] if label.exists() else None
        )
    return result


def test_same_seed_gives_byte_identical_files(coco: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    make_synthetic_coco128(again, PARAMS)
    assert _digests(again) == _digests(coco)


def test_other_seed_gives_other_images(coco: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    make_synthetic_coco128(other, PARAMS.model_copy(update={"seed": 1}))
    first, second = _digests(coco), _digests(other)
    jpgs = [name for name in first if name.endswith(".jpg")]
    assert all(first[name] != second[name] for name in jpgs)


def test_layout_and_image_sizes(coco: Path) -> None:
    images = sorted((coco / "images" / "train2017").glob("*.jpg"))
    assert [p.name for p in images[:2]] == ["000000000000.jpg", "000000000001.jpg"]
    assert len(images) == PARAMS.images
    sizes = {Image.open(p).size for p in images}
    assert all(max(size) == PARAMS.imgsz for size in sizes)
    assert len({w / h for w, h in sizes}) >= 2, "COCO mixes aspect ratios"


def test_has_coco128_features(coco: Path) -> None:
    labels = _labels(coco)
    present = {stem: lines for stem, lines in labels.items() if lines is not None}
    persons = {stem: [f for f in lines if f[0] == "0"] for stem, lines in present.items()}
    boxes = [list(map(float, f[1:])) for lines in present.values() for f in lines]

    assert any(lines is None for lines in labels.values()), "an image without a label file"
    assert any(lines == [] for lines in present.values()), "an empty label file"
    assert any(len(p) >= 2 for p in persons.values()), "an image with several persons"
    assert any(lines and not persons[s] for s, lines in present.items()), "objects, no person"
    assert any(f[0] != "0" for lines in present.values() for f in lines), "other classes"
    assert any(w < 0.1 and h < 0.1 for _, _, w, h in boxes), "a tiny box"
    eps = 1e-6
    assert any(
        x - w / 2 < eps or y - h / 2 < eps or x + w / 2 > 1 - eps or y + h / 2 > 1 - eps
        for x, y, w, h in boxes
    ), "a box touching the border"
    with_person = sum(bool(p) for p in persons.values())
    assert with_person >= 0.7 * PARAMS.images, "persons in most images (learnable)"


def test_every_label_line_is_valid_yolo(coco: Path) -> None:
    for lines in _labels(coco).values():
        for fields in lines or []:
            box = check_label_line(" ".join(fields))
            assert box.coords[2] > 0 and box.coords[3] > 0


def test_summary_counts_match_files(coco: Path) -> None:
    summary = json.loads((coco / SYNTHETIC_MARKER).read_text())
    counts, labels = summary["counts"], _labels(coco)
    assert summary["params"] == PARAMS.model_dump()
    assert counts["images_without_label_file"] == sum(v is None for v in labels.values())
    assert counts["empty_label_files"] == sum(v == [] for v in labels.values())
    assert counts["person_boxes"] == sum(
        f[0] == "0" for lines in labels.values() for f in lines or []
    )


def test_regenerates_in_place_but_refuses_foreign_folder(coco: Path, tmp_path: Path) -> None:
    target = tmp_path / "coco128"
    make_synthetic_coco128(target, PARAMS)
    make_synthetic_coco128(target, PARAMS)  # its own marker: replaced
    assert _digests(target) == _digests(coco)

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not written by this tool"):
        make_synthetic_coco128(foreign, PARAMS)
    assert (foreign / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coco128", "mine"]


def test_params_are_validated_by_the_schema() -> None:
    from src.config import with_overrides

    with pytest.raises(ConfigError, match=r"cv\.synthetic\.images = 2"):
        with_overrides(PARAMS, source="test", prefix="cv.synthetic", images=2)
