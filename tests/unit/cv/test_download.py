"""Fetching COCO128: unpacked from a zip, never over the synthetic stand-in, one-line errors."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from src.cv.dataset import SYNTHETIC_MARKER
from src.cv.dataset.download import download_coco128
from src.errors import DataError, OutputError, ServiceError


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_download_unpacks_a_coco128_zip(pristine: Path, tmp_path: Path) -> None:
    archive = tmp_path / "coco128.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(pristine.rglob("*")):
            if path.name != SYNTHETIC_MARKER:  # the real archive has no marker
                zf.write(path, f"coco128/{path.relative_to(pristine).as_posix()}")
    dest = tmp_path / "data" / "coco128"
    assert download_coco128(dest, archive.as_uri()) == dest
    expected = {k: v for k, v in _tree(pristine).items() if k != SYNTHETIC_MARKER}
    assert _tree(dest) == expected
    archive.unlink()
    assert download_coco128(dest, archive.as_uri()) == dest, "present: nothing fetched"


def test_download_refuses_the_synthetic_stand_in(pristine: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="synthetic COCO128 stand-in"):
        download_coco128(pristine, (tmp_path / "never-fetched.zip").as_uri())


def test_download_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="download failed"):
        download_coco128(tmp_path / "c", (tmp_path / "absent.zip").as_uri())
    bogus = tmp_path / "bogus.zip"
    bogus.write_text("not a zip")
    with pytest.raises(DataError, match="not a zip archive"):
        download_coco128(tmp_path / "c", bogus.as_uri())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bogus.zip"]
