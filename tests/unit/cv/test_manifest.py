"""The tiny person manifest: a stable fingerprint, and readers that fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import TinyPersonDatasetParams
from src.cv.dataset.manifest import (
    MANIFEST_NAME,
    dataset_fingerprint,
    load_manifest,
    verify_dataset,
)
from src.cv.dataset.tiny_person import build_tiny_person_dataset
from src.errors import DataError

SMALL = TinyPersonDatasetParams(train=0.5, val=0.3, test=0.2, max_images=11, seed=0)  # 6 / 3 / 2


def test_fingerprint_is_stable_and_tracks_content(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    build_tiny_person_dataset(source, out, SMALL)
    first = dataset_fingerprint(out)
    build_tiny_person_dataset(source, out, SMALL)
    assert dataset_fingerprint(out) == first and len(first) == 64
    build_tiny_person_dataset(source, out, SMALL.model_copy(update={"seed": 1}))
    assert dataset_fingerprint(out) != first


def test_manifest_readers_fail_clearly(source: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="make cv-data"):
        load_manifest(tmp_path / "missing")
    out = tmp_path / "tiny"
    build_tiny_person_dataset(source, out, SMALL)
    victim = next((out / "labels" / "val").glob("*.txt"))
    victim.write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError, match=f"{victim}: content differs"):
        verify_dataset(out)
    (out / MANIFEST_NAME).write_text("{}")
    with pytest.raises(DataError, match="not a tiny person manifest"):
        dataset_fingerprint(out)
