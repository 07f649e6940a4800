"""The tiny person dataset: a single-class YOLO dataset cut from a COCO128-layout folder.

:func:`build_tiny_person_dataset` reads ``<source>/images/train2017`` and
``<source>/labels/train2017`` (YOLO format, 80 COCO classes, person = 0), the real COCO128
download or the synthetic stand-in of :mod:`src.cv.dataset.synthetic`, and writes::

    <output>/images/{train,val,test}/*.jpg   images with at least one person
    <output>/labels/{train,val,test}/*.txt   their person lines only (class 0)
    <output>/data.yaml                       train/val/test folders, names: {0: person}
    <output>/manifest.json                   files with sha256, counts, boxes, source, params

* Every label line of the source is validated: 5 fields, an integer class id in [0, 79],
  finite numbers, x/y/w/h in [0, 1]. A bad line is a :class:`DataError` naming
  ``file:line`` and the rule; with ``skip_invalid=True`` it is skipped and counted.
* The split is a pure function of the seed and the file names (images sorted by
  ``sha256("<seed>:<stem>")``), so it is the same on every machine and library version.
* With ``letterbox`` set, images are scaled to fit a square of that size and padded with
  grey (never squashed), and boxes are moved with them; otherwise files are copied as-is.
* ``data.yaml`` has no ``path:`` key: ultralytics then resolves the folders against the
  YAML's own directory, so the dataset works wherever DVC or a clone puts it.
* The build happens in a hidden sibling folder renamed into place at the end: a failure
  leaves an existing dataset untouched.

Label lines are read by :mod:`src.cv.dataset.labels`; the manifest is written, read back
and fingerprinted by :mod:`src.cv.dataset.manifest`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from src.config import TinyPersonDatasetParams
from src.cv.dataset import (
    COCO128_IMAGES,
    COCO128_LABELS,
    IMAGE_SUFFIXES,
    PERSON_CLASS_ID,
    SYNTHETIC_MARKER,
)
from src.cv.dataset.labels import LabelBox, SkippedInvalid, read_label_file
from src.cv.dataset.manifest import MANIFEST_FORMAT, MANIFEST_NAME, write_manifest
from src.errors import DataError
from src.io_utils import display_path, sha256_bytes, sha256_file, staged_directory
from src.workarounds import image_open_errors

DATA_YAML_NAME = "data.yaml"
SPLITS: tuple[str, ...] = ("train", "val", "test")
#: ultralytics pads letterboxed images with this grey too.
LETTERBOX_FILL = (114, 114, 114)
LETTERBOX_JPEG_QUALITY = 95


# --------------------------------------------------------------------------- source scan
@dataclass(frozen=True)
class _SourceImage:
    """An image of the source with its person boxes (possibly none)."""

    path: Path
    persons: tuple[LabelBox, ...]


def _check_source_layout(source: Path) -> None:
    """Raise DataError unless ``source`` has COCO128's images/train2017 folder."""
    if not source.is_dir():
        raise DataError(
            f"{source}: source folder not found; generate one with "
            "tools/make_synthetic_coco128.py or fetch COCO128 with --download"
        )
    if not (source / COCO128_IMAGES).is_dir():
        nested = [p.parent.parent for p in sorted(source.glob(f"*/{COCO128_IMAGES}"))]
        hint = f" (did you mean {nested[0]}?)" if nested else ""
        raise DataError(
            f"{source}: not a COCO128-layout folder, {COCO128_IMAGES}/ is missing{hint}"
        )
    if not (source / COCO128_LABELS).is_dir():
        raise DataError(f"{source}: {COCO128_LABELS}/ is missing, so no image has a person box")


def _scan_source(
    source: Path, invalid: SkippedInvalid | None
) -> tuple[list[_SourceImage], dict[str, int]]:
    """Return every image of ``source`` with its person boxes, and counts of what was seen."""
    images_dir, labels_dir = source / COCO128_IMAGES, source / COCO128_LABELS
    images = sorted(
        p for p in images_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    stems: dict[str, Path] = {}
    for image in images:
        if image.stem in stems:
            # Both would share one label file: ambiguous, as it is for ultralytics.
            raise DataError(f"{image}: shares its label file with {stems[image.stem].name}")
        stems[image.stem] = image
    counts = {
        "images": len(images),
        "label_files": 0,
        "images_without_label_file": 0,
        "empty_label_files": 0,
        "images_with_person": 0,
        "person_boxes": 0,
        "other_boxes": 0,
        "label_files_without_image": 0,
    }
    counts["label_files_without_image"] = sum(
        1 for p in labels_dir.glob("*.txt") if p.stem not in stems
    )
    scanned = []
    for image in images:
        label_file = labels_dir / f"{image.stem}.txt"
        if not label_file.is_file():
            counts["images_without_label_file"] += 1
            scanned.append(_SourceImage(image, ()))
            continue
        counts["label_files"] += 1
        boxes = read_label_file(label_file, invalid)
        if boxes is None:
            scanned.append(_SourceImage(image, ()))
            continue
        counts["empty_label_files"] += not boxes
        persons = tuple(b for b in boxes if b.class_id == PERSON_CLASS_ID)
        counts["person_boxes"] += len(persons)
        counts["other_boxes"] += len(boxes) - len(persons)
        counts["images_with_person"] += bool(persons)
        scanned.append(_SourceImage(image, persons))
    return scanned, counts


def _describe_source(source: Path) -> str:
    """Return a one-line description of where the images come from."""
    marker = source / SYNTHETIC_MARKER
    if marker.is_file():
        try:
            params = json.loads(marker.read_text()).get("params", {})
        except (OSError, ValueError, AttributeError):
            params = {}
        details = ", ".join(f"{k} {v}" for k, v in sorted(params.items()))
        return f"synthetic COCO128 stand-in from tools/make_synthetic_coco128.py ({details})"
    return "COCO128-layout folder (images/train2017, labels/train2017; 80 COCO classes)"


# --------------------------------------------------------------------------- split
def split_order(stems: list[str], seed: int) -> list[str]:
    """Return ``stems`` in the seed's deterministic order (sha256 of ``"<seed>:<stem>"``)."""
    return sorted(
        stems, key=lambda stem: (hashlib.sha256(f"{seed}:{stem}".encode()).digest(), stem)
    )


def _assign_splits(
    candidates: list[_SourceImage], params: TinyPersonDatasetParams, source: Path
) -> dict[str, list[_SourceImage]]:
    """Return the images of each split; raise DataError if there are too few candidates."""
    sizes = {"train": params.train, "val": params.val, "test": params.test}
    needed = sum(sizes.values())
    if len(candidates) < needed:
        raise DataError(
            f"{source}: only {len(candidates)} images have a person box, but "
            f"cv.dataset asks for {needed} (train {params.train} + val {params.val} + "
            f"test {params.test}); lower those sizes or use a larger source"
        )
    by_stem = {c.path.stem: c for c in candidates}
    order = split_order(list(by_stem), params.seed)
    splits, start = {}, 0
    for name in SPLITS:
        # Within a split, files are listed by name so the output does not depend on the order.
        chosen = order[start : start + sizes[name]]
        splits[name] = [by_stem[stem] for stem in sorted(chosen)]
        start += sizes[name]
    return splits


# --------------------------------------------------------------------------- writing
def letterbox_box(
    coords: tuple[float, float, float, float],
    resized: tuple[int, int],
    offset: tuple[int, int],
    size: int,
) -> tuple[float, float, float, float]:
    """Return a normalised YOLO box moved from the original image into the letterbox square."""
    x, y, w, h = coords
    (new_w, new_h), (pad_x, pad_y) = resized, offset
    return (
        (x * new_w + pad_x) / size,
        (y * new_h + pad_y) / size,
        w * new_w / size,
        h * new_h / size,
    )


def letterbox_geometry(
    image_size: tuple[int, int], size: int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the resized (width, height) and the (x, y) padding that fit an image in ``size``."""
    width, height = image_size
    scale = size / max(width, height)
    new_w = min(size, max(1, round(width * scale)))
    new_h = min(size, max(1, round(height * scale)))
    return (new_w, new_h), ((size - new_w) // 2, (size - new_h) // 2)


def _open_image(path: Path) -> Image.Image:
    """Return the opened image; raise DataError if it cannot be decoded."""
    try:
        image = Image.open(path)
        image.load()
    except image_open_errors() as exc:
        raise DataError(f"{path}: cannot read image ({exc})") from None
    return image


def _readable(candidates: list[_SourceImage], invalid: SkippedInvalid | None) -> list[_SourceImage]:
    """Return the candidates whose image decodes; a corrupt one raises unless counted."""
    readable = []
    for item in candidates:
        try:
            _open_image(item.path)
        except DataError as exc:
            if invalid is None:
                raise
            invalid.add(item.path, None, str(exc).split(": ", 1)[-1], "image")
            continue
        readable.append(item)
    return readable


def _write_item(item: _SourceImage, split: str, staging: Path, letterbox: int | None) -> str:
    """Write one image and its person labels into ``staging``; return the image's name."""
    images_dir, labels_dir = staging / "images" / split, staging / "labels" / split
    if letterbox is None:
        name = item.path.name
        shutil.copyfile(item.path, images_dir / name)
        lines = [f"{PERSON_CLASS_ID} {' '.join(box.text)}" for box in item.persons]
    else:
        image = _open_image(item.path)
        resized, offset = letterbox_geometry(image.size, letterbox)
        canvas = Image.new("RGB", (letterbox, letterbox), LETTERBOX_FILL)
        canvas.paste(image.convert("RGB").resize(resized, Image.Resampling.LANCZOS), offset)
        name = f"{item.path.stem}.jpg"
        canvas.save(images_dir / name, format="JPEG", quality=LETTERBOX_JPEG_QUALITY)
        lines = []
        for box in item.persons:
            moved = letterbox_box(box.coords, resized, offset, letterbox)
            lines.append(f"{PERSON_CLASS_ID} " + " ".join(f"{v:.6f}" for v in moved))
    (labels_dir / f"{item.path.stem}.txt").write_text("".join(f"{line}\n" for line in lines))
    return name


def _data_yaml(splits: dict[str, list[_SourceImage]]) -> str:
    """Return the ultralytics dataset YAML (folders relative to the YAML itself)."""
    lines = [
        "# Tiny person dataset, see manifest.json (tools/make_tiny_person_from_coco128.py).",
        "# No `path:` key on purpose: ultralytics resolves the folders below against this file's",
        "# directory, so the dataset works wherever it is checked out.",
    ]
    lines += [f"{name}: images/{name}" for name in SPLITS if splits[name]]
    lines += ["nc: 1", "names:", f"  {PERSON_CLASS_ID}: person"]
    return "\n".join(lines) + "\n"


def build_tiny_person_dataset(
    source: Path,
    output: Path,
    params: TinyPersonDatasetParams,
    *,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """Return the manifest of the person-only dataset built from ``source`` into ``output``.

    ``params.source`` and ``params.output`` are not read: the caller resolves the paths.
    Raises DataError for a missing or malformed source (a bad label line names file:line
    unless ``skip_invalid``), OutputError when ``output`` cannot be replaced. An existing
    dataset at ``output`` is replaced only after the new one was fully written.
    """
    source, output = Path(source), Path(output)
    _check_source_layout(source)
    src_abs, out_abs = source.resolve(), output.resolve()
    if out_abs == src_abs or src_abs in out_abs.parents or out_abs in src_abs.parents:
        raise DataError(f"{output}: output must not contain or be inside the source {source}")

    invalid = SkippedInvalid(source) if skip_invalid else None
    scanned, source_counts = _scan_source(source, invalid)
    candidates = _readable([item for item in scanned if item.persons], invalid)
    splits = _assign_splits(candidates, params, source)

    with staged_directory(output, marker=MANIFEST_NAME) as staging:
        files: dict[str, str] = {}
        split_counts: dict[str, dict[str, int]] = {}
        for split in SPLITS:
            if not splits[split]:
                split_counts[split] = {"images": 0, "boxes": 0}
                continue
            (staging / "images" / split).mkdir(parents=True)
            (staging / "labels" / split).mkdir(parents=True)
            for item in splits[split]:
                name = _write_item(item, split, staging, params.letterbox)
                for rel in (f"images/{split}/{name}", f"labels/{split}/{item.path.stem}.txt"):
                    files[rel] = sha256_file(staging / rel)
            split_counts[split] = {
                "images": len(splits[split]),
                "boxes": sum(len(item.persons) for item in splits[split]),
            }
        data_yaml = _data_yaml(splits)
        (staging / DATA_YAML_NAME).write_text(data_yaml)
        files[DATA_YAML_NAME] = sha256_bytes(data_yaml.encode())
        counts = invalid if invalid is not None else SkippedInvalid(source)
        manifest: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "classes": {str(PERSON_CLASS_ID): "person"},
            "source": {
                "path": display_path(source),
                "description": _describe_source(source),
                **source_counts,
                "unused_person_images": len(candidates) - sum(len(v) for v in splits.values()),
            },
            "params": params.model_dump(exclude={"source", "output"}),
            "skip_invalid": skip_invalid,
            "skipped_invalid": {
                "lines": counts.lines,
                "files": counts.files,
                "images": counts.images,
                "examples": counts.examples,
            },
            "splits": split_counts,
            "files": dict(sorted(files.items())),
        }
        write_manifest(staging, manifest)
    return manifest
