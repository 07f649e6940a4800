"""DVC plot data of a YOLO dataset: boxes per split and the size of every box, as CSV.

``dvc plots show`` (``make dvc-plots``) draws them next to the Iris plots, so a look at the
page says how the tiny person dataset was cut: how many boxes each split holds and whether
the splits hold boxes of the same sizes. The tables come from the label files and image
sizes of the built dataset itself (what a training reads), not from the source:

* ``boxes_per_split.csv``: ``split, images, boxes`` (one row per split, empty splits too).
* ``box_sizes.csv``: ``split, image, width_px, height_px, area_pct`` (one row per box; the
  area is the box's share of its image, in percent).

:func:`plot_tables` is pure (labels and image sizes in, rows out); :func:`write_plot_data`
reads a dataset folder and swaps both files into place together.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from src.cv.dataset import IMAGE_SUFFIXES
from src.errors import DataError
from src.io_utils import display_path, staged_directory
from src.workarounds import image_open_errors

#: Where the pipeline's dataset keeps them (dvc.yaml's make_tiny_person plots), from the root.
PLOTS_DIR = Path("reports") / "cv_dataset"
BOXES_PER_SPLIT_NAME = "boxes_per_split.csv"
BOX_SIZES_NAME = "box_sizes.csv"
#: The dataset's splits, in the order the plots list them.
SPLITS: tuple[str, ...] = ("train", "val", "test")
BOXES_PER_SPLIT_FIELDS = ("split", "images", "boxes")
BOX_SIZES_FIELDS = ("split", "image", "width_px", "height_px", "area_pct")


@dataclass(frozen=True)
class LabelledImage:
    """One image of a split: its pixel size and the text of its label file."""

    split: str
    name: str
    width: int
    height: int
    labels: str


Row = dict[str, str | int | float]


def plot_tables(images: Iterable[LabelledImage]) -> tuple[list[Row], list[Row]]:
    """Return the rows of boxes per split and of box sizes for ``images``.

    Box sizes are in pixels of the image as the dataset stores it (rounded to 0.1 px), the
    area in percent of the image (0.01). A label line is ``class x y w h`` with normalised
    coordinates, as the dataset build writes and validates them.
    """
    counts = {split: {"images": 0, "boxes": 0} for split in SPLITS}
    sizes: list[Row] = []
    for image in images:
        count = counts.setdefault(image.split, {"images": 0, "boxes": 0})
        count["images"] += 1
        for line in image.labels.splitlines():
            fields = line.split()
            if not fields:
                continue
            w, h = float(fields[3]), float(fields[4])
            count["boxes"] += 1
            sizes.append(
                {
                    "split": image.split,
                    "image": image.name,
                    "width_px": round(w * image.width, 1),
                    "height_px": round(h * image.height, 1),
                    "area_pct": round(100 * w * h, 2),
                }
            )
    per_split: list[Row] = [{"split": split, **count} for split, count in counts.items()]
    return per_split, sizes


def read_labelled_images(dataset: Path) -> list[LabelledImage]:
    """Return every image of ``dataset``'s splits with its size and labels, sorted by name.

    Raises DataError for an image that does not decode or has no label file.
    """
    from PIL import Image

    images = []
    for split in SPLITS:
        folder = Path(dataset) / "images" / split
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            label = Path(dataset) / "labels" / split / f"{path.stem}.txt"
            if not label.is_file():
                raise DataError(f"{display_path(label)}: label file of {path.name} missing")
            try:
                with Image.open(path) as opened:
                    width, height = opened.size
            except image_open_errors() as exc:
                raise DataError(f"{display_path(path)}: cannot read image ({exc})") from None
            labels = label.read_text()
            images.append(LabelledImage(split, path.name, width, height, labels))
    return images


def _csv(rows: list[Row], fields: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_plot_data(dataset: Path, out_dir: Path) -> tuple[Path, Path]:
    """Return the paths of both CSV files of ``dataset``, written into ``out_dir`` at once.

    ``out_dir`` is replaced as a whole (it must be empty, absent or hold these files), so
    the two tables always describe the same dataset.
    """
    per_split, sizes = plot_tables(read_labelled_images(dataset))
    out_dir = Path(out_dir)
    with staged_directory(out_dir, marker=BOXES_PER_SPLIT_NAME) as staging:
        (staging / BOXES_PER_SPLIT_NAME).write_text(_csv(per_split, BOXES_PER_SPLIT_FIELDS))
        (staging / BOX_SIZES_NAME).write_text(_csv(sizes, BOX_SIZES_FIELDS))
    return out_dir / BOXES_PER_SPLIT_NAME, out_dir / BOX_SIZES_NAME
