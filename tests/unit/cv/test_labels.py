"""The one label validator: the dataset build's rules, and the training check's extra ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.cv.dataset.labels import SkippedInvalid, check_label_line, read_label_file
from src.errors import DataError


def test_the_training_check_adds_dataset_classes_and_box_area() -> None:
    line = "3 0.5 0.5 0 0.2"  # a COCO class, and a box without width
    assert check_label_line(line).class_id == 3
    with pytest.raises(ValueError, match=r"class id 3 outside the dataset's 1 class\(es\)"):
        check_label_line(line, num_classes=1, positive_size=True)
    with pytest.raises(ValueError, match="box width and height must be > 0"):
        check_label_line("0 0.5 0.5 0 0.2", num_classes=1, positive_size=True)
    # COCO's range comes first, whatever the dataset declares.
    with pytest.raises(ValueError, match=r"class id 80 outside \[0, 79\]"):
        check_label_line("80 0.5 0.5 0.2 0.2", num_classes=100)


def test_a_label_file_raises_or_counts_what_it_skips(tmp_path: Path) -> None:
    label = tmp_path / "x.txt"
    label.write_text("0 0.5 0.5 0.2 0.2\n\n0 0.5\n")
    with pytest.raises(DataError, match=r"x\.txt:3: expected 5 fields"):
        read_label_file(label)
    skipped = SkippedInvalid(tmp_path)
    boxes = read_label_file(label, skipped)
    assert boxes is not None and [box.text for box in boxes] == [("0.5", "0.5", "0.2", "0.2")]
    rule = "expected 5 fields (class x y w h), got 2"
    assert (skipped.lines, skipped.examples) == (1, [{"file": "x.txt", "line": 3, "rule": rule}])
    label.write_bytes(b"\xff")
    assert read_label_file(label, skipped) is None and skipped.files == 1


def test_a_dataset_with_its_own_classes_is_bounded_by_them_alone() -> None:
    assert check_label_line("120 0.5 0.5 0.2 0.2", coco_ids=False).class_id == 120
    with pytest.raises(ValueError, match=r"class id 3 outside the dataset's 3 class\(es\)"):
        check_label_line("3 0.5 0.5 0.2 0.2", num_classes=3, coco_ids=False)
    with pytest.raises(ValueError, match="class id -1 is negative"):
        check_label_line("-1 0.5 0.5 0.2 0.2", coco_ids=False)
