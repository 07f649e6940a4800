"""The tiny person dataset: the classes of ``cv.dataset.classes`` (person by default) cut
from a YOLO-format source.

:func:`build_tiny_person_dataset` reads a COCO128-layout folder (``<source>/images/train2017``
and ``<source>/labels/train2017``, 80 COCO classes, person = 0: the real COCO128 download or
the synthetic stand-in of :mod:`src.cv.dataset.synthetic`) or any YOLO dataset with a
``data.yaml`` (its train/val/test image folders pooled, labels where ultralytics looks, class
names from ``names``), and writes::

    <output>/images/{train,val,test}/*.jpg   images with at least one box of a kept class
    <output>/labels/{train,val,test}/*.txt   those boxes only, renumbered 0..k-1
    <output>/data.yaml                       train/val/test folders, names (e.g. {0: person})
    <output>/manifest.json                   files with sha256, counts, boxes, source, params

* Every label line of the source is validated: 5 fields, an integer class id in [0, 79]
  (or within the data.yaml's classes), finite numbers, x/y/w/h in [0, 1]. A bad line is a
  :class:`DataError` naming ``file:line`` and the rule; with ``skip_invalid=True`` it is
  skipped and counted. A kept class the source does not have is a DataError too.
* The split is a pure function of the seed and the file names (images sorted by
  ``sha256("<seed>:<stem>")``), so it is the same on every machine and library version: the
  first ``max_images`` of that order are cut into train, val and test by the fractions of
  :func:`src.config.split_sizes` (val and test floor, train the rest).
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
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from src.config import TinyPersonDatasetParams, min_images_for, split_sizes
from src.cv.dataset import (
    COCO128_IMAGES,
    COCO128_LABELS,
    COCO_NAMES,
    IMAGE_SUFFIXES,
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
    """An image of the source with its boxes of the kept classes (possibly none)."""

    path: Path
    persons: tuple[LabelBox, ...]


@dataclass(frozen=True)
class _Source:
    """Where a source keeps its images and labels, and what its class ids mean."""

    root: Path
    layout: str  # "coco128" or "data.yaml"
    image_dirs: tuple[Path, ...]
    names: dict[int, str] | None  # None: a data.yaml without names
    num_classes: int | None  # label ids must be below this (None: any id >= 0)
    coco_ids: bool

    def label_for(self, image: Path) -> Path:
        """Return the label file of ``image`` (ultralytics' rule: last images/ → labels/)."""
        parts = list(image.parts)
        for i in range(len(parts) - 2, -1, -1):
            if parts[i] == "images":
                parts[i] = "labels"
                break
        return Path(*parts).with_suffix(".txt")


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
            f"{source}: not a COCO128-layout folder, {COCO128_IMAGES}/ is missing and there is "
            f"no {DATA_YAML_NAME}{hint}"
        )
    if not (source / COCO128_LABELS).is_dir():
        raise DataError(f"{source}: {COCO128_LABELS}/ is missing, so no image has a box")


def _read_names(raw: Any, where: str) -> dict[int, str] | None:
    """Return a data.yaml's ``names`` (a list or an id → name mapping) as a dict."""
    if raw is None:
        return None
    if isinstance(raw, list):
        raw = dict(enumerate(raw))
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{where}: 'names' must be a list of names or a mapping id: name")
    names = {}
    for key, value in raw.items():
        if not isinstance(key, int) or isinstance(key, bool) or key < 0:
            raise DataError(f"{where}: names key {key!r} is not a class id (an integer >= 0)")
        names[key] = str(value)
    return dict(sorted(names.items()))


def _open_source(source: Path) -> _Source:
    """Return the source's layout: a data.yaml when it has one, else COCO128's folders."""
    data_yaml = source / DATA_YAML_NAME
    if not data_yaml.is_file():
        _check_source_layout(source)
        coco = dict(enumerate(COCO_NAMES))
        return _Source(source, "coco128", (source / COCO128_IMAGES,), coco, None, True)
    where = display_path(data_yaml)
    try:
        spec = yaml.safe_load(data_yaml.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{where}: unreadable ({str(exc).splitlines()[0]})") from None
    if not isinstance(spec, dict):
        raise DataError(f"{where}: expected a mapping with train, val and names")
    root = Path(str(spec.get("path") or "."))
    root = root if root.is_absolute() else source / root
    folders: list[Path] = []
    for split in SPLITS:
        entries = spec.get(split)
        if entries is None:
            if split != "test":
                raise DataError(f"{where}: '{split}' is missing (a folder of images)")
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            folder = Path(str(entry))
            folder = folder if folder.is_absolute() else root / folder
            if not folder.is_dir():
                raise DataError(
                    f"{where}: {split}: {display_path(folder)} is not a folder of images"
                )
            if folder not in folders:
                folders.append(folder)
    names = _read_names(spec.get("names"), where)
    nc = spec.get("nc")
    if nc is not None and (not isinstance(nc, int) or nc < 1):
        raise DataError(f"{where}: nc = {nc!r} must be an integer >= 1")
    limit = max(names) + 1 if names else nc
    return _Source(source, "data.yaml", tuple(folders), names, limit, False)


def _check_classes(src: _Source, classes: list[int], max_seen: int | None) -> None:
    """Raise DataError when a kept class id is not one the source has."""
    if src.names is not None:
        unknown = [c for c in classes if c not in src.names]
        known = f"its classes are {_describe_names(src.names)}"
    else:
        unknown = [c for c in classes if max_seen is None or c > max_seen]
        seen = "no label" if max_seen is None else f"ids 0..{max_seen}"
        known = f"it has no names and its labels use {seen}"
    if unknown:
        ids = ", ".join(str(c) for c in unknown)
        raise DataError(f"{src.root}: cv.dataset.classes {ids} not in the source ({known})")


def _describe_names(names: dict[int, str]) -> str:
    shown = ", ".join(f"{k}: {v}" for k, v in list(names.items())[:6])
    return shown + (f", ... ({len(names)} in all)" if len(names) > 6 else "")


def _scan_source(
    src: _Source, classes: list[int], invalid: SkippedInvalid | None
) -> tuple[list[_SourceImage], dict[str, int], int | None]:
    """Return every image with its kept-class boxes, counts of what was seen, the max id."""
    images = [
        p
        for folder in src.image_dirs
        for p in sorted(folder.rglob("*") if src.layout == "data.yaml" else folder.iterdir())
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    ]
    stems: dict[str, Path] = {}
    for image in images:
        if image.stem in stems:
            # Both would share one label file (or one output name): ambiguous.
            raise DataError(f"{image}: shares its label file with {stems[image.stem].name}")
        stems[image.stem] = image
    counts = {
        "images": len(images),
        "label_files": 0,
        "images_without_label_file": 0,
        "empty_label_files": 0,
        "images_with_kept_class": 0,
        "kept_boxes": 0,
        "other_boxes": 0,
        "label_files_without_image": 0,
    }
    label_dirs = {src.label_for(folder / "x.jpg").parent for folder in src.image_dirs}
    expected = {src.label_for(image) for image in images}
    counts["label_files_without_image"] = sum(
        1 for d in sorted(label_dirs) if d.is_dir() for p in d.glob("*.txt") if p not in expected
    )
    keep = set(classes)
    max_seen: int | None = None
    scanned = []
    for image in images:
        label_file = src.label_for(image)
        if not label_file.is_file():
            counts["images_without_label_file"] += 1
            scanned.append(_SourceImage(image, ()))
            continue
        counts["label_files"] += 1
        boxes = read_label_file(
            label_file, invalid, num_classes=src.num_classes, coco_ids=src.coco_ids
        )
        if boxes is None:
            scanned.append(_SourceImage(image, ()))
            continue
        counts["empty_label_files"] += not boxes
        if boxes:
            max_seen = max(max_seen or 0, *(b.class_id for b in boxes))
        kept = tuple(b for b in boxes if b.class_id in keep)
        counts["kept_boxes"] += len(kept)
        counts["other_boxes"] += len(boxes) - len(kept)
        counts["images_with_kept_class"] += bool(kept)
        scanned.append(_SourceImage(image, kept))
    return scanned, counts, max_seen


def _describe_source(src: _Source) -> str:
    """Return a one-line description of where the images come from."""
    if src.layout == "data.yaml":
        classes = "no class names" if src.names is None else f"{len(src.names)} classes"
        return f"YOLO dataset described by {DATA_YAML_NAME} ({classes})"
    marker = src.root / SYNTHETIC_MARKER
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
    candidates: list[_SourceImage], params: TinyPersonDatasetParams, source: Path, what: str
) -> tuple[dict[str, list[_SourceImage]], int]:
    """Return the images of each split and how many were used; DataError if too few.

    The first ``max_images`` stems in the seed's order are used, and cut consecutively into
    train, val and test of :func:`split_sizes` images.
    """
    found = len(candidates)
    used = found if params.max_images is None else min(found, params.max_images)
    n_train, n_val, n_test = split_sizes(used, params.train, params.val, params.test)
    if n_train < 1 or n_val < 1:
        needed = min_images_for(params.train, params.val, params.test)
        raise DataError(
            f"{display_path(source)}: only {found} images have a {what} box; cv.dataset "
            f"(train {params.train:g}, val {params.val:g}, test {params.test:g}) needs at "
            f"least {needed} for a non-empty train and val split; use a larger source"
        )
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    by_stem = {c.path.stem: c for c in candidates}
    order = split_order(list(by_stem), params.seed)
    splits, start = {}, 0
    for name in SPLITS:
        # Within a split, files are listed by name so the output does not depend on the order.
        chosen = order[start : start + sizes[name]]
        splits[name] = [by_stem[stem] for stem in sorted(chosen)]
        start += sizes[name]
    return splits, used


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


def _write_item(
    item: _SourceImage, split: str, staging: Path, letterbox: int | None, remap: dict[int, int]
) -> str:
    """Write one image and its kept labels (renumbered) into ``staging``; return its name."""
    images_dir, labels_dir = staging / "images" / split, staging / "labels" / split
    if letterbox is None:
        name = item.path.name
        shutil.copyfile(item.path, images_dir / name)
        lines = [f"{remap[box.class_id]} {' '.join(box.text)}" for box in item.persons]
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
            lines.append(f"{remap[box.class_id]} " + " ".join(f"{v:.6f}" for v in moved))
    (labels_dir / f"{item.path.stem}.txt").write_text("".join(f"{line}\n" for line in lines))
    return name


def _yaml_name(name: str) -> str:
    """Return ``name`` as a YAML scalar: plain when it reads back as itself, else quoted."""
    plain = bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ .-]*", name)) and name == name.strip()
    return name if plain and yaml.safe_load(name) == name else json.dumps(name)


def _data_yaml(splits: dict[str, list[_SourceImage]], names: dict[int, str]) -> str:
    """Return the ultralytics dataset YAML (folders relative to the YAML itself)."""
    title = "Tiny person dataset" if names == {0: "person"} else f"{len(names)}-class dataset"
    lines = [
        f"# {title}, see manifest.json (tools/make_tiny_person_from_coco128.py).",
        "# No `path:` key on purpose: ultralytics resolves the folders below against this file's",
        "# directory, so the dataset works wherever it is checked out.",
    ]
    lines += [f"{name}: images/{name}" for name in SPLITS if splits[name]]
    lines += [f"nc: {len(names)}", "names:"]
    lines += [f"  {new_id}: {_yaml_name(name)}" for new_id, name in names.items()]
    return "\n".join(lines) + "\n"


def build_tiny_person_dataset(
    source: Path,
    output: Path,
    params: TinyPersonDatasetParams,
    *,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """Return the manifest of the dataset of ``params.classes`` built from ``source``.

    ``source`` is a COCO128-layout folder or a YOLO dataset with a data.yaml.
    ``params.source`` and ``params.output`` are not read: the caller resolves the paths.
    Raises DataError for a missing or malformed source (a bad label line names file:line
    unless ``skip_invalid``) or a class it does not have, OutputError when ``output`` cannot
    be replaced. An existing dataset at ``output`` is replaced only after the new one was
    fully written.
    """
    source, output = Path(source), Path(output)
    src = _open_source(source)
    src_abs, out_abs = source.resolve(), output.resolve()
    if out_abs == src_abs or src_abs in out_abs.parents or out_abs in src_abs.parents:
        raise DataError(f"{output}: output must not contain or be inside the source {source}")
    if src.names is not None:
        _check_classes(src, params.classes, None)

    invalid = SkippedInvalid(source) if skip_invalid else None
    scanned, source_counts, max_seen = _scan_source(src, params.classes, invalid)
    if src.names is None:
        _check_classes(src, params.classes, max_seen)
    remap = {source_id: new_id for new_id, source_id in enumerate(params.classes)}
    names = {
        new_id: src.names[source_id] if src.names is not None else f"class_{source_id}"
        for source_id, new_id in remap.items()
    }
    candidates = _readable([item for item in scanned if item.persons], invalid)
    what = "/".join(names.values()) if len(names) <= 3 else "kept-class"
    splits, used = _assign_splits(candidates, params, source, what)

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
                name = _write_item(item, split, staging, params.letterbox, remap)
                for rel in (f"images/{split}/{name}", f"labels/{split}/{item.path.stem}.txt"):
                    files[rel] = sha256_file(staging / rel)
            split_counts[split] = {
                "images": len(splits[split]),
                "boxes": sum(len(item.persons) for item in splits[split]),
            }
        data_yaml = _data_yaml(splits, names)
        (staging / DATA_YAML_NAME).write_text(data_yaml)
        files[DATA_YAML_NAME] = sha256_bytes(data_yaml.encode())
        counts = invalid if invalid is not None else SkippedInvalid(source)
        manifest: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "classes": {str(new_id): name for new_id, name in names.items()},
            "source_classes": {str(new_id): old for old, new_id in remap.items()},
            "source": {
                "path": display_path(source),
                "layout": src.layout,
                "description": _describe_source(src),
                **source_counts,
            },
            "selection": {
                "found": len(candidates),
                "max_images": params.max_images,
                "used": used,
                "unused": len(candidates) - used,
                "fractions": {"train": params.train, "val": params.val, "test": params.test},
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
