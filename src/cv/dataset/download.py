"""Fetch the real COCO128 for ``--download``: the official zip, unpacked into a source folder."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from src.cv.dataset import COCO128_IMAGES, SYNTHETIC_MARKER
from src.errors import DataError, OutputError, ServiceError
from src.io_utils import staged_directory

#: The official COCO128 archive (first 128 COCO train2017 images, YOLO labels, ~7 MB).
COCO128_URL = "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco128.zip"


def _find_coco_root(folder: Path) -> Path | None:
    """Return the folder under ``folder`` (itself or one level down) with images/train2017."""
    if (folder / COCO128_IMAGES).is_dir():
        return folder
    return next((p for p in sorted(folder.iterdir()) if (p / COCO128_IMAGES).is_dir()), None)


def download_coco128(dest: Path, url: str = COCO128_URL, *, timeout: float = 60.0) -> Path:
    """Return ``dest`` after fetching and unpacking the COCO128 zip into it.

    Nothing is fetched when ``dest`` already holds a COCO128 folder. A folder holding the
    synthetic stand-in is refused: silently converting it instead of the real images would
    mislead, and it is DVC's output (``dvc repro`` would restore it over a download). The
    archive is unpacked in a staging folder, so an interrupted download leaves no half-filled
    ``dest``.
    """
    dest = Path(dest)
    if (dest / SYNTHETIC_MARKER).is_file():
        raise OutputError(
            f"{dest}: holds the synthetic COCO128 stand-in (DVC stage make_synthetic_coco128); "
            "download elsewhere, e.g. --source data/coco128_real"
        )
    if (dest / COCO128_IMAGES).is_dir():
        return dest
    with staged_directory(dest, marker=None) as staging:
        archive = staging / "download.zip"
        try:
            with (
                urllib.request.urlopen(url, timeout=timeout) as response,
                open(archive, "wb") as fh,
            ):
                shutil.copyfileobj(response, fh)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ServiceError(f"{url}: download failed ({reason})") from None
        unpacked = staging / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(unpacked)  # extractall drops absolute and ../ member paths
        except zipfile.BadZipFile as exc:
            raise DataError(f"{url}: not a zip archive ({exc})") from None
        root = _find_coco_root(unpacked)
        if root is None:
            raise DataError(f"{url}: the archive has no {COCO128_IMAGES}/ folder")
        for entry in root.iterdir():
            entry.rename(staging / entry.name)
        archive.unlink()
        shutil.rmtree(unpacked)
    return dest
