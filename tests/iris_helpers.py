"""Builders shared by the Iris tests."""

from __future__ import annotations

from pathlib import Path

from src.config import DataParams
from src.data.prepare import prepare_iris_splits


def make_splits(root: Path, params: DataParams | None = None) -> Path:
    """Write raw/train/test CSVs under ``root``; return the processed folder."""
    processed = root / "processed"
    prepare_iris_splits(
        params or DataParams(),
        root / "raw" / "iris.csv",
        processed / "train.csv",
        processed / "test.csv",
    )
    return processed
