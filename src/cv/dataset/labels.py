"""YOLO label files: the one validator of a label line, and the reader of a label file.

A line is ``class x y w h``: an integer class id in [0, 79] (COCO's 80 classes; a dataset
with its own data.yaml bounds ids by its classes instead) and four finite numbers in [0, 1].
A bad line is a :class:`DataError` naming ``file:line`` and the rule; a caller that skips
invalid input instead counts it in a :class:`SkippedInvalid`.
The dataset build and the check before a training (:mod:`src.cv.inputs`) both read labels
here, the latter with its dataset's class count and boxes that must have an area.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from src.cv.dataset import COCO_NUM_CLASSES
from src.errors import DataError
from src.io_utils import display_path

#: At most this many skipped lines are listed in the manifest (all are counted).
MAX_LISTED_INVALID = 50

_INTEGER = re.compile(r"[+-]?\d+")
_BOX_FIELDS = ("x", "y", "w", "h")


@dataclass(frozen=True)
class LabelBox:
    """One validated YOLO label line; the coordinates keep their original text."""

    class_id: int
    coords: tuple[float, float, float, float]
    text: tuple[str, str, str, str]


@dataclass
class SkippedInvalid:
    """Problems skipped under ``skip_invalid``, with paths relative to the source folder."""

    source: Path
    lines: int = 0
    files: int = 0
    images: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, path: Path, line: int | None, rule: str, kind: str) -> None:
        if kind == "line":
            self.lines += 1
        elif kind == "file":
            self.files += 1
        else:
            self.images += 1
        if len(self.examples) < MAX_LISTED_INVALID:
            # Relative, so the manifest (and its fingerprint) is the same on every machine.
            where = path.relative_to(self.source).as_posix()
            self.examples.append({"file": where, "line": line, "rule": rule})


def check_label_line(
    line: str,
    *,
    num_classes: int | None = None,
    positive_size: bool = False,
    coco_ids: bool = True,
) -> LabelBox:
    """Return the validated box of one YOLO label line; raise ValueError naming the rule.

    Every line needs 5 fields, an integer class id in [0, 79] and finite x/y/w/h in
    [0, 1]. The check before a training adds the dataset's own classes (``num_classes``)
    and refuses a box without width or height (``positive_size``). A dataset with its own
    classes (a data.yaml) passes ``coco_ids=False``: ids are then bounded by ``num_classes``
    alone (any id >= 0 when that is None).
    """
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (class x y w h), got {len(fields)}")
    class_text, *coord_text = fields
    if not _INTEGER.fullmatch(class_text):
        raise ValueError(f"class id {class_text!r} is not an integer")
    class_id = int(class_text)
    if coco_ids and not 0 <= class_id < COCO_NUM_CLASSES:
        raise ValueError(f"class id {class_id} outside [0, {COCO_NUM_CLASSES - 1}]")
    if class_id < 0:
        raise ValueError(f"class id {class_id} is negative")
    coords = []
    for name, text in zip(_BOX_FIELDS, coord_text, strict=True):
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{name} {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{name} {text!r} is not finite")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} {text} outside [0, 1]")
        coords.append(value)
    x, y, w, h = coords
    if num_classes is not None and class_id >= num_classes:
        raise ValueError(f"class id {class_id} outside the dataset's {num_classes} class(es)")
    if positive_size and (w <= 0 or h <= 0):
        raise ValueError("box width and height must be > 0")
    a, b, c, d = coord_text
    return LabelBox(class_id, (x, y, w, h), (a, b, c, d))


@overload
def read_label_file(
    path: Path,
    skipped: None = None,
    *,
    num_classes: int | None = None,
    positive_size: bool = False,
    coco_ids: bool = True,
) -> list[LabelBox]: ...


@overload
def read_label_file(
    path: Path,
    skipped: SkippedInvalid,
    *,
    num_classes: int | None = None,
    positive_size: bool = False,
    coco_ids: bool = True,
) -> list[LabelBox] | None: ...


def read_label_file(
    path: Path,
    skipped: SkippedInvalid | None = None,
    *,
    num_classes: int | None = None,
    positive_size: bool = False,
    coco_ids: bool = True,
) -> list[LabelBox] | None:
    """Return the valid boxes of a label file; None if the whole file was skipped.

    With ``skipped`` None every problem raises DataError naming the file (as
    :func:`display_path` shows it) and line; otherwise it is counted there and left out.
    ``num_classes``, ``positive_size`` and ``coco_ids`` are the rules of :func:`check_label_line`.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        rule = f"not UTF-8 text (byte {exc.start})"
        if skipped is None:
            raise DataError(f"{display_path(path)}: {rule}") from None
        skipped.add(path, None, rule, "file")
        return None
    except OSError as exc:
        raise DataError(f"{display_path(path)}: cannot read ({exc.strerror})") from None
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines (a trailing newline, say) are not labels
        try:
            boxes.append(
                check_label_line(
                    line, num_classes=num_classes, positive_size=positive_size, coco_ids=coco_ids
                )
            )
        except ValueError as exc:
            if skipped is None:
                raise DataError(f"{display_path(path)}:{number}: {exc}") from None
            skipped.add(path, number, str(exc), "line")
    return boxes
