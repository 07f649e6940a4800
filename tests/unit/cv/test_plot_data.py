"""The DVC plot data of a dataset: boxes per split and box sizes, read back from its labels."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from src.config import TinyPersonDatasetParams
from src.cv.dataset.manifest import load_manifest
from src.cv.dataset.plot_data import (
    BOX_SIZES_NAME,
    BOXES_PER_SPLIT_NAME,
    LabelledImage,
    plot_tables,
    read_labelled_images,
    write_plot_data,
)
from src.cv.dataset.tiny_person import build_tiny_person_dataset
from src.errors import DataError, OutputError


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_plot_tables_count_boxes_and_measure_them_in_pixels() -> None:
    images = [
        LabelledImage("train", "a.jpg", 200, 100, "0 0.5 0.5 0.25 0.5\n0 0.1 0.1 0.1 0.2\n"),
        LabelledImage("train", "b.jpg", 100, 100, ""),
        LabelledImage("val", "c.jpg", 64, 32, "0 0.5 0.5 1 1\n\n"),
    ]
    per_split, sizes = plot_tables(images)
    assert per_split == [
        {"split": "train", "images": 2, "boxes": 2},
        {"split": "val", "images": 1, "boxes": 1},
        {"split": "test", "images": 0, "boxes": 0},  # listed, so the bars show it is empty
    ]
    assert sizes == [
        {"split": "train", "image": "a.jpg", "width_px": 50.0, "height_px": 50.0, "area_pct": 12.5},
        {"split": "train", "image": "a.jpg", "width_px": 20.0, "height_px": 20.0, "area_pct": 2.0},
        {"split": "val", "image": "c.jpg", "width_px": 64.0, "height_px": 32.0, "area_pct": 100.0},
    ]


@pytest.mark.parametrize("letterbox", [None, 48])
def test_the_tables_match_the_built_dataset(
    source: Path, tmp_path: Path, letterbox: int | None
) -> None:
    params = TinyPersonDatasetParams(
        train=0.5, val=0.3, test=0.2, max_images=11, seed=0, letterbox=letterbox
    )
    dataset = tmp_path / "tiny"
    manifest = build_tiny_person_dataset(source, dataset, params)
    per_split_csv, sizes_csv = write_plot_data(dataset, tmp_path / "plots")
    per_split = {row["split"]: row for row in _rows(per_split_csv)}
    assert list(per_split) == ["train", "val", "test"]
    for split, counts in manifest["splits"].items():
        assert int(per_split[split]["images"]) == counts["images"]
        assert int(per_split[split]["boxes"]) == counts["boxes"]
    sizes = _rows(sizes_csv)
    assert len(sizes) == sum(c["boxes"] for c in manifest["splits"].values())
    for row in sizes:
        with Image.open(dataset / "images" / row["split"] / row["image"]) as image:
            width, height = image.size
        assert width == height == letterbox or letterbox is None
        w, h = float(row["width_px"]), float(row["height_px"])
        assert 0 < w <= width and 0 < h <= height
        assert float(row["area_pct"]) == pytest.approx(100 * w * h / (width * height), abs=0.6)
    assert load_manifest(dataset) == manifest  # reading the dataset changed nothing


def test_rewriting_replaces_both_files_and_refuses_a_foreign_folder(
    source: Path, tmp_path: Path
) -> None:
    params = TinyPersonDatasetParams(train=0.5, val=0.3, test=0.2, max_images=11, seed=0)
    dataset = tmp_path / "tiny"
    build_tiny_person_dataset(source, dataset, params)
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / BOXES_PER_SPLIT_NAME).write_text("stale\n")
    write_plot_data(dataset, plots)
    assert sorted(p.name for p in plots.iterdir()) == [BOX_SIZES_NAME, BOXES_PER_SPLIT_NAME]
    assert (plots / BOXES_PER_SPLIT_NAME).read_text().startswith("split,images,boxes\n")

    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("mine\n")
    with pytest.raises(OutputError, match="not written by this tool"):
        write_plot_data(dataset, foreign)
    assert [p.name for p in foreign.iterdir()] == ["todo.txt"]


def test_an_image_without_labels_or_unreadable_is_a_data_error(tmp_path: Path) -> None:
    images = tmp_path / "images" / "train"
    images.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(images / "a.jpg")
    with pytest.raises(DataError, match=r"labels/train/a\.txt: label file of a\.jpg missing"):
        read_labelled_images(tmp_path)
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("")
    (images / "b.jpg").write_text("not a jpeg")
    (tmp_path / "labels" / "train" / "b.txt").write_text("")
    with pytest.raises(DataError, match=r"b\.jpg: cannot read image"):
        read_labelled_images(tmp_path)
