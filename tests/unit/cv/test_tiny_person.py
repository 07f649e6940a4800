"""The tiny person dataset: person filter, split, letterbox, label validation, safe rebuilds."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from src.config import TinyPersonDatasetParams
from src.cv.dataset.manifest import MANIFEST_NAME, load_manifest, verify_dataset
from src.cv.dataset.tiny_person import (
    build_tiny_person_dataset,
    letterbox_box,
    letterbox_geometry,
    split_order,
)
from src.errors import DataError, OutputError

#: 6 / 3 / 2 images: 11 used, val floor(3.3) = 3, test floor(2.2) = 2, train the rest.
SMALL = TinyPersonDatasetParams(train=0.5, val=0.3, test=0.2, max_images=11, seed=0)
SMALL_SIZES = {"train": 6, "val": 3, "test": 2}
SPLITS = ("train", "val", "test")


def _label_dir(source: Path) -> Path:
    return source / "labels" / "train2017"


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _person_lines(label: Path) -> list[str]:
    return [line for line in label.read_text().splitlines() if line.split()[0] == "0"]


# --------------------------------------------------------------------------- content
def test_keeps_person_images_and_only_person_lines(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    manifest = build_tiny_person_dataset(source, out, SMALL)

    for split in SPLITS:
        labels = sorted((out / "labels" / split).glob("*.txt"))
        images = sorted((out / "images" / split).glob("*.jpg"))
        assert [p.stem for p in labels] == [p.stem for p in images]
        assert len(images) == manifest["splits"][split]["images"] == SMALL_SIZES[split]
        boxes = 0
        for label in labels:
            lines = label.read_text().splitlines()
            assert lines, "every kept image has at least one person"
            assert all(line.split()[0] == "0" for line in lines), "only class 0 remains"
            original = _person_lines(_label_dir(source) / label.name)
            assert [line.split()[1:] for line in lines] == [o.split()[1:] for o in original]
            # Copied as-is without letterbox.
            assert (out / "images" / split / f"{label.stem}.jpg").read_bytes() == (
                source / "images" / "train2017" / f"{label.stem}.jpg"
            ).read_bytes()
            boxes += len(lines)
        assert boxes == manifest["splits"][split]["boxes"]


def test_data_yaml_is_relative_and_single_class(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    build_tiny_person_dataset(source, out, SMALL)
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == {0: "person"} and data["nc"] == 1
    assert "path" not in data, "ultralytics then resolves folders against the YAML's folder"
    for split in SPLITS:
        assert (out / data[split]).is_dir()

    no_test = tmp_path / "no_test"
    build_tiny_person_dataset(source, no_test, SMALL.model_copy(update={"test": 0}))
    data = yaml.safe_load((no_test / "data.yaml").read_text())
    assert "test" not in data and not (no_test / "images" / "test").exists()


def test_manifest_lists_files_counts_source_and_params(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    manifest = build_tiny_person_dataset(source, out, SMALL)
    assert load_manifest(out) == manifest
    written = {rel: digest for rel, digest in _tree(out).items() if rel != MANIFEST_NAME}
    assert manifest["files"] == written
    assert manifest["params"] == SMALL.model_dump(exclude={"source", "output"})
    src = manifest["source"]
    assert src["images"] == 16 and src["images_without_label_file"] >= 1
    assert src["empty_label_files"] >= 1
    selection = manifest["selection"]
    assert selection["found"] == src["images_with_kept_class"] > 11
    assert (selection["used"], selection["max_images"]) == (11, 11)
    assert selection["unused"] == selection["found"] - 11
    assert selection["fractions"] == {"train": 0.5, "val": 0.3, "test": 0.2}
    assert "synthetic COCO128" in src["description"]
    assert manifest["skipped_invalid"] == {"lines": 0, "files": 0, "images": 0, "examples": []}
    assert manifest == json.loads((out / MANIFEST_NAME).read_text())
    assert verify_dataset(out) == manifest


# --------------------------------------------------------------------------- split
def test_split_is_deterministic_and_disjoint(source: Path, tmp_path: Path) -> None:
    first = build_tiny_person_dataset(source, tmp_path / "a", SMALL)
    second = build_tiny_person_dataset(source, tmp_path / "b", SMALL)
    assert first == second
    assert (tmp_path / "a" / MANIFEST_NAME).read_bytes() == (
        tmp_path / "b" / MANIFEST_NAME
    ).read_bytes()
    stems = {
        split: {p.stem for p in (tmp_path / "a" / "images" / split).iterdir()} for split in SPLITS
    }
    assert not (stems["train"] & stems["val"] or stems["train"] & stems["test"])
    assert not stems["val"] & stems["test"]

    reseeded = build_tiny_person_dataset(
        source, tmp_path / "c", SMALL.model_copy(update={"seed": 7})
    )
    assert reseeded["files"].keys() != first["files"].keys()


def test_split_order_depends_only_on_seed_and_names() -> None:
    stems = [f"{i:012d}" for i in range(20)]
    assert split_order(stems, 0) == split_order(list(reversed(stems)), 0)
    assert split_order(stems, 0) != split_order(stems, 1)
    assert sorted(split_order(stems, 3)) == stems


def test_too_few_person_images_is_a_clear_error(source: Path, tmp_path: Path) -> None:
    # Leave 3 images with a person: 0.6 / 0.2 / 0.2 of 3 has no val image.
    with_person = [p for p in sorted(_label_dir(source).glob("*.txt")) if _person_lines(p)]
    for label in with_person[3:]:
        label.unlink()
    with pytest.raises(DataError) as info:
        build_tiny_person_dataset(source, tmp_path / "tiny", TinyPersonDatasetParams())
    assert str(info.value) == (
        f"{source}: only 3 images have a person box; cv.dataset (train 0.6, val 0.2, test 0.2) "
        "needs at least 5 for a non-empty train and val split; use a larger source"
    )
    assert not (tmp_path / "tiny").exists()


# --------------------------------------------------------------------------- letterbox
def test_letterbox_geometry_keeps_aspect_ratio() -> None:
    assert letterbox_geometry((160, 120), 64) == ((64, 48), (0, 8))
    assert letterbox_geometry((90, 160), 64) == ((36, 64), (14, 0))
    # A box centred in a 4:3 image stays centred; its height shrinks by the padding ratio.
    x, y, w, h = letterbox_box((0.5, 0.5, 0.5, 0.5), (64, 48), (0, 8), 64)
    assert (x, y, w) == (0.5, 0.5, 0.5) and h == pytest.approx(0.375)


def test_letterboxed_dataset_is_square_and_boxes_follow(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    build_tiny_person_dataset(source, out, SMALL.model_copy(update={"letterbox": 96}))
    for label in sorted((out / "labels" / "train").glob("*.txt")):
        image = Image.open(out / "images" / "train" / f"{label.stem}.jpg")
        assert image.size == (96, 96)
        src_w, src_h = Image.open(source / "images" / "train2017" / f"{label.stem}.jpg").size
        (new_w, new_h), (pad_x, pad_y) = letterbox_geometry((src_w, src_h), 96)
        assert abs(new_w / new_h - src_w / src_h) < 0.05, "never squashed"
        original = _person_lines(_label_dir(source) / label.name)
        for line, orig in zip(label.read_text().splitlines(), original, strict=True):
            x, y, w, h = map(float, line.split()[1:])
            ox, oy, ow, oh = map(float, orig.split()[1:])
            # Same box in pixels: the scale is new/src on both axes, plus the padding.
            assert x * 96 == pytest.approx(ox * new_w + pad_x, abs=1e-3)
            assert y * 96 == pytest.approx(oy * new_h + pad_y, abs=1e-3)
            assert (w * 96) / (h * 96) == pytest.approx((ow * src_w) / (oh * src_h), rel=0.05)
        if pad_y:  # the padding is ultralytics' grey
            r, g, b = image.convert("RGB").getpixel((48, 0))
            assert abs(r - 114) < 8 and abs(g - 114) < 8 and abs(b - 114) < 8


# --------------------------------------------------------------------------- label errors
BAD_LINES = [
    ("0 0.5 0.5 0.2", r"expected 5 fields \(class x y w h\), got 4"),
    ("0 0.5 0.5 0.2 0.2 0.1", r"expected 5 fields \(class x y w h\), got 6"),
    ("person 0.5 0.5 0.2 0.2", "class id 'person' is not an integer"),
    ("1.0 0.5 0.5 0.2 0.2", "class id '1.0' is not an integer"),
    ("80 0.5 0.5 0.2 0.2", r"class id 80 outside \[0, 79\]"),
    ("-1 0.5 0.5 0.2 0.2", r"class id -1 outside \[0, 79\]"),
    ("0 abc 0.5 0.2 0.2", "x 'abc' is not a number"),
    ("0 0.5 nan 0.2 0.2", "y 'nan' is not finite"),
    ("0 0.5 0.5 inf 0.2", "w 'inf' is not finite"),
    ("0 0.5 0.5 0.2 1.5", r"h 1.5 outside \[0, 1\]"),
    ("0 -0.1 0.5 0.2 0.2", r"x -0.1 outside \[0, 1\]"),
]


def _append_bad_line(source: Path, line: str) -> tuple[Path, int]:
    """Append ``line`` to the first non-empty label file; return the file and line number."""
    label = next(p for p in sorted(_label_dir(source).glob("*.txt")) if p.read_text())
    text = label.read_text()
    label.write_text(text + line + "\n")
    return label, len(text.splitlines()) + 1


@pytest.mark.parametrize(("line", "rule"), BAD_LINES)
def test_bad_label_line_names_file_line_and_rule(
    source: Path, tmp_path: Path, line: str, rule: str
) -> None:
    label, number = _append_bad_line(source, line)
    with pytest.raises(DataError, match=rule) as info:
        build_tiny_person_dataset(source, tmp_path / "tiny", SMALL)
    message = str(info.value)
    assert message.startswith(f"{label}:{number}: ")
    assert "\n" not in message
    assert not (tmp_path / "tiny").exists()


def test_skip_invalid_skips_and_counts(source: Path, tmp_path: Path) -> None:
    clean = build_tiny_person_dataset(source, tmp_path / "clean", SMALL)
    label, number = _append_bad_line(source, "0 0.5 0.5 0.2")
    other = sorted(_label_dir(source).glob("*.txt"))[-1]
    other.write_text(other.read_text() + "99 0.5 0.5 0.1 0.1\n")
    (_label_dir(source) / "binary.txt").write_bytes(b"\xff\xfe\x00garbage")
    (source / "images" / "train2017" / "binary.jpg").write_bytes(b"not an image")

    manifest = build_tiny_person_dataset(source, tmp_path / "tiny", SMALL, skip_invalid=True)
    skipped = manifest["skipped_invalid"]
    assert (skipped["lines"], skipped["files"]) == (2, 1)
    assert skipped["examples"][0]["line"] in (number, None)
    relative = {p.relative_to(source).as_posix() for p in (label, other)}
    assert {e["file"] for e in skipped["examples"]} >= relative
    assert manifest["skip_invalid"] is True
    # The valid lines around them are all still there.
    assert manifest["splits"] == clean["splits"]


def test_corrupt_image_is_an_error_unless_skipped(source: Path, tmp_path: Path) -> None:
    label = next(p for p in sorted(_label_dir(source).glob("*.txt")) if _person_lines(p))
    image = source / "images" / "train2017" / f"{label.stem}.jpg"
    image.write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(DataError, match=f"{image}: cannot read image"):
        build_tiny_person_dataset(source, tmp_path / "tiny", SMALL)
    manifest = build_tiny_person_dataset(source, tmp_path / "tiny", SMALL, skip_invalid=True)
    assert manifest["skipped_invalid"]["images"] == 1
    assert f"images/train/{image.name}" not in manifest["files"]


def test_non_utf8_label_file_is_an_error(source: Path, tmp_path: Path) -> None:
    label = sorted(_label_dir(source).glob("*.txt"))[0]
    label.write_bytes(b"0 0.5 0.5 0.1 0.1\n\xff\xfe\n")
    with pytest.raises(DataError, match=f"{label}: not UTF-8 text"):
        build_tiny_person_dataset(source, tmp_path / "tiny", SMALL)


# --------------------------------------------------------------------------- safe rebuilds
def test_failed_build_leaves_existing_dataset_untouched(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "data" / "tiny_person"
    build_tiny_person_dataset(source, out, SMALL)
    before = _tree(out)
    _append_bad_line(source, "0 0.5 0.5 0.2 7")
    with pytest.raises(DataError):
        build_tiny_person_dataset(source, out, SMALL.model_copy(update={"seed": 3}))
    assert _tree(out) == before
    assert [p.name for p in out.parent.iterdir()] == ["tiny_person"], "no staging left behind"


def test_failure_while_writing_leaves_dataset_and_no_staging(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "data" / "tiny_person"
    build_tiny_person_dataset(source, out, SMALL)
    before = _tree(out)

    def explode(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("src.cv.dataset.tiny_person.sha256_file", explode)
    with pytest.raises(OSError, match="No space left"):
        build_tiny_person_dataset(source, out, SMALL.model_copy(update={"seed": 3}))
    assert _tree(out) == before
    assert [p.name for p in out.parent.iterdir()] == ["tiny_person"]


def test_refuses_to_replace_a_folder_it_did_not_write(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "iris.csv").write_text("keep me")
    with pytest.raises(OutputError, match=r"has no manifest\.json"):
        build_tiny_person_dataset(source, out, SMALL)
    assert (out / "iris.csv").read_text() == "keep me"


def test_output_inside_source_is_refused(source: Path) -> None:
    with pytest.raises(DataError, match="must not contain or be inside the source"):
        build_tiny_person_dataset(source, source / "tiny", SMALL)
    with pytest.raises(DataError, match="must not contain or be inside the source"):
        build_tiny_person_dataset(source, source.parent, SMALL)


def test_missing_or_wrong_source_is_a_clear_error(tmp_path: Path, source: Path) -> None:
    with pytest.raises(DataError, match="source folder not found"):
        build_tiny_person_dataset(tmp_path / "nope", tmp_path / "tiny", SMALL)
    with pytest.raises(DataError, match=f"did you mean {source}"):
        build_tiny_person_dataset(tmp_path, tmp_path / "tiny", SMALL)
    shutil.rmtree(source / "labels")
    with pytest.raises(DataError, match="labels/train2017/ is missing"):
        build_tiny_person_dataset(source, tmp_path / "tiny", SMALL)


# --------------------------------------------------------------------------- split sizes
@pytest.fixture(scope="module")
def coco_69(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A COCO128-layout source with exactly 69 person images, like the real COCO128."""
    from src.config import SyntheticCocoParams
    from src.cv.dataset.synthetic import make_synthetic_coco128

    root = tmp_path_factory.mktemp("coco69") / "coco128"
    make_synthetic_coco128(root, SyntheticCocoParams(images=100, imgsz=64, seed=0))
    with_person = [p for p in sorted(_label_dir(root).glob("*.txt")) if _person_lines(p)]
    assert len(with_person) >= 69
    for label in with_person[69:]:
        label.write_text("".join(f"{line}\n" for line in label.read_text().splitlines()
                                 if line.split()[0] != "0"))  # fmt: skip
    return root


def test_a_69_person_source_works_with_the_defaults(coco_69: Path, tmp_path: Path) -> None:
    manifest = build_tiny_person_dataset(coco_69, tmp_path / "tiny", TinyPersonDatasetParams())
    # 69 < max_images 80: all are used; val and test floor(69 * 0.2) = 13, train the rest.
    assert {s: manifest["splits"][s]["images"] for s in SPLITS} == {
        "train": 43,
        "val": 13,
        "test": 13,
    }
    assert manifest["selection"] == {
        "found": 69,
        "max_images": 80,
        "used": 69,
        "unused": 0,
        "fractions": {"train": 0.6, "val": 0.2, "test": 0.2},
    }
    assert manifest["params"]["max_images"] == 80 and manifest["params"]["classes"] == [0]


def test_the_cap_takes_a_prefix_of_the_seed_order(coco_69: Path, tmp_path: Path) -> None:
    capped = build_tiny_person_dataset(
        coco_69, tmp_path / "a", TinyPersonDatasetParams(max_images=20)
    )
    assert [capped["splits"][s]["images"] for s in SPLITS] == [12, 4, 4]
    assert capped["selection"]["unused"] == 49
    everything = build_tiny_person_dataset(
        coco_69, tmp_path / "b", TinyPersonDatasetParams(max_images=None)
    )
    assert everything["selection"]["used"] == 69
    # The 20 capped images are the first 20 of the same order: train starts the same way.
    stems = [p.stem for p in sorted(_label_dir(coco_69).glob("*.txt")) if _person_lines(p)]
    first = split_order(stems, 0)[:20]
    chosen = {Path(rel).stem for rel in capped["files"] if rel.startswith("images/")}
    assert chosen == set(first)


# --------------------------------------------------------------------------- your own data
ANIMALS = ["cat", "dog", "bird"]


def _user_dataset(root: Path, names: object = ANIMALS, per_split: int = 12) -> Path:
    """Return a 3-class YOLO dataset with a data.yaml: image i holds class i % 3 (and 0 if i%4)."""
    root.mkdir(parents=True)
    spec: dict[str, object] = {"path": ".", "train": "images/train", "val": "images/val"}
    if names is not None:
        spec["names"] = names
    (root / "data.yaml").write_text(yaml.safe_dump(spec))
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(per_split):
            stem = f"{split}_{i:03d}"
            Image.new("RGB", (48, 32), (10 * i, 80, 160)).save(
                root / "images" / split / f"{stem}.jpg"
            )
            lines = [f"{i % 3} 0.5 0.5 0.25 0.5"] + (["0 0.2 0.2 0.1 0.1"] if i % 4 == 0 else [])
            (root / "labels" / split / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    return root


def test_your_own_dataset_keeps_the_chosen_classes_renumbered(tmp_path: Path) -> None:
    from src.cv.inputs import check_yolo_dataset

    source = _user_dataset(tmp_path / "mine")
    out = tmp_path / "tiny"
    params = TinyPersonDatasetParams(classes=[2, 0], max_images=None)  # bird -> 0, cat -> 1
    manifest = build_tiny_person_dataset(source, out, params)
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == {0: "bird", 1: "cat"} and data["nc"] == 2
    assert manifest["classes"] == {"0": "bird", "1": "cat"}
    assert manifest["source_classes"] == {"0": 2, "1": 0}
    assert manifest["source"]["layout"] == "data.yaml"
    # Images of class 1 (dog) alone are skipped: 24 images, i % 3 == 1 and i % 4 != 0.
    skipped = sum(1 for i in range(12) if i % 3 == 1 and i % 4) * 2
    assert manifest["selection"]["found"] == 24 - skipped
    for label in sorted(out.glob("labels/*/*.txt")):
        original = source / "labels" / label.stem.split("_")[0] / label.name
        kept = [line.split() for line in original.read_text().splitlines() if line[0] in "20"]
        renumbered = [["0" if c == "2" else "1", *rest] for c, *rest in kept]
        assert [line.split() for line in label.read_text().splitlines()] == renumbered
    checked = check_yolo_dataset(out / "data.yaml")  # what a training reads first
    assert checked.names == {0: "bird", 1: "cat"}


def test_names_as_a_mapping_and_the_default_person_class(tmp_path: Path) -> None:
    source = _user_dataset(tmp_path / "mine", names={0: "person", 1: "car", 2: "bike"})
    manifest = build_tiny_person_dataset(
        source, tmp_path / "tiny", TinyPersonDatasetParams(max_images=None)
    )
    assert manifest["classes"] == {"0": "person"}
    assert "Tiny person dataset" in (tmp_path / "tiny" / "data.yaml").read_text()


def test_unknown_classes_are_one_line(tmp_path: Path) -> None:
    source = _user_dataset(tmp_path / "mine")
    with pytest.raises(DataError) as info:
        build_tiny_person_dataset(source, tmp_path / "t", TinyPersonDatasetParams(classes=[0, 5]))
    known = "its classes are 0: cat, 1: dog, 2: bird"
    assert str(info.value) == f"{source}: cv.dataset.classes 5 not in the source ({known})"
    unnamed = _user_dataset(tmp_path / "unnamed", names=None)
    with pytest.raises(DataError) as info:
        build_tiny_person_dataset(unnamed, tmp_path / "t", TinyPersonDatasetParams(classes=[3]))
    assert str(info.value) == (
        f"{unnamed}: cv.dataset.classes 3 not in the source "
        "(it has no names and its labels use ids 0..2)"
    )
    manifest = build_tiny_person_dataset(
        unnamed, tmp_path / "t", TinyPersonDatasetParams(classes=[1], max_images=None)
    )
    assert manifest["classes"] == {"0": "class_1"}


def test_your_dataset_labels_are_validated_against_its_names(tmp_path: Path) -> None:
    source = _user_dataset(tmp_path / "mine")
    label = source / "labels" / "val" / "val_002.txt"
    label.write_text(label.read_text() + "3 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError) as info:
        build_tiny_person_dataset(source, tmp_path / "t", TinyPersonDatasetParams())
    assert str(info.value) == f"{label}:2: class id 3 outside the dataset's 3 class(es)"
    (source / "data.yaml").write_text("train: images/train\nval: nowhere\nnames: [a]\n")
    with pytest.raises(DataError, match=r"data\.yaml: val: .*nowhere is not a folder of images"):
        build_tiny_person_dataset(source, tmp_path / "t", TinyPersonDatasetParams())
    (source / "data.yaml").write_text("train: images/train\nnames: [a]\n")
    with pytest.raises(DataError, match=r"data\.yaml: 'val' is missing"):
        build_tiny_person_dataset(source, tmp_path / "t", TinyPersonDatasetParams())
