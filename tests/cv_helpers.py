"""Tiny person datasets for tests, made by the project's own generator in under a second.

They go through the same code as ``make cv-data`` (synthetic COCO128 stand-in, then the
person-only conversion), only smaller: 64 px images, 8 train / 4 val / 4 test.
"""

from __future__ import annotations

from pathlib import Path

from src.config import SyntheticCocoParams, TinyPersonDatasetParams
from src.cv.dataset.synthetic import make_synthetic_coco128
from src.cv.dataset.tiny_person import build_tiny_person_dataset

TINY_SPLITS = (8, 4, 4)


def make_tiny_person(root: Path, *, imgsz: int = 64, seed: int = 0) -> Path:
    """Return the data.yaml of a tiny person dataset built under ``root / 'tiny_person'``."""
    source = root / "coco128"
    output = root / "tiny_person"
    make_synthetic_coco128(source, SyntheticCocoParams(images=24, imgsz=imgsz, seed=seed))
    train, val, test = TINY_SPLITS
    build_tiny_person_dataset(
        source, output, TinyPersonDatasetParams(train=train, val=val, test=test, seed=seed)
    )
    return output / "data.yaml"
