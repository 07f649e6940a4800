"""The data step's core: build when absent, verify always, find the DVC stage of the output."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import PROJECT_ROOT, SyntheticCocoParams, TinyPersonDatasetParams
from src.cv.dataset.prepare import (
    ABSENT,
    current_fingerprint,
    dvc_stage_for,
    ensure_tiny_person_dataset,
)
from src.errors import DataError


def test_builds_when_absent_then_verifies(tmp_path: Path) -> None:
    dataset = TinyPersonDatasetParams(
        source=str(tmp_path / "coco128"),
        output=str(tmp_path / "tp"),
        train=0.5,
        val=0.25,
        test=0.25,
        max_images=16,  # 8 / 4 / 4 images
    )
    synthetic = SyntheticCocoParams(images=24, imgsz=64)
    assert current_fingerprint(dataset) == ABSENT

    built = ensure_tiny_person_dataset(dataset, synthetic)
    assert built.built and built.data_yaml == tmp_path / "tp" / "data.yaml"
    assert built.dvc_state == "not produced by a DVC stage"
    assert current_fingerprint(dataset) == built.fingerprint

    again = ensure_tiny_person_dataset(dataset, synthetic)
    assert not again.built and again.fingerprint == built.fingerprint

    image = next((tmp_path / "tp" / "images" / "val").iterdir())
    image.write_bytes(image.read_bytes()[:100])  # truncated: the manifest notices
    with pytest.raises(DataError, match="content differs"):
        ensure_tiny_person_dataset(dataset, synthetic)


def test_the_repo_dataset_is_the_make_tiny_person_stage() -> None:
    assert dvc_stage_for(PROJECT_ROOT / "data" / "tiny_person") == "make_tiny_person"
    assert dvc_stage_for(PROJECT_ROOT / "data" / "elsewhere") is None
    assert dvc_stage_for(Path("/tmp/tiny_person")) is None


def test_a_missing_download_folder_is_never_filled_with_the_stand_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import src.cv.dataset.prepare as prepare

    monkeypatch.setattr(prepare, "COCO128_DIR", str(tmp_path / "coco128"))
    dataset = TinyPersonDatasetParams(source=str(tmp_path / "coco128"), output=str(tmp_path / "tp"))
    with pytest.raises(DataError, match="run `make cv-data-coco128`"):
        ensure_tiny_person_dataset(dataset, SyntheticCocoParams(images=8, imgsz=64))
    assert sorted(tmp_path.iterdir()) == []
