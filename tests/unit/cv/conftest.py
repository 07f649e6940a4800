"""A synthetic COCO128 source for the dataset tests: one per module, and a copy per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from src.config import SyntheticCocoParams
from src.cv.dataset.synthetic import make_synthetic_coco128


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("coco") / "coco128"
    make_synthetic_coco128(root, SyntheticCocoParams(images=16, imgsz=64, seed=0))
    return root


@pytest.fixture
def source(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic COCO128 that a test may corrupt."""
    return Path(shutil.copytree(pristine, tmp_path / "coco128"))
