"""The YOLO half's data: a synthetic COCO128 stand-in and the tiny person dataset cut from it.

This package also holds what both dataset writers share: the COCO class constants and
:func:`staged_directory`, which builds a folder next to its target and swaps it into place
only when the build succeeded, so a failure never destroys a dataset that already exists.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from src.errors import OutputError
from src.io_utils import ensure_writable_dir

#: COCO has 80 detection classes; YOLO label files number them 0..79.
COCO_NUM_CLASSES = 80
#: COCO's "person" class id, and the only class of the tiny person dataset.
PERSON_CLASS_ID = 0
#: Written at the root of every synthetic COCO128 folder: its params and counts. It marks the
#: folder as safe to regenerate, and the conversion reads it to describe its source.
SYNTHETIC_MARKER = "synthetic_coco128.json"
#: Image suffixes looked for in a COCO128-layout folder (the ones ultralytics reads).
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
)


def _is_replaceable(target: Path, marker: str | None) -> bool:
    """Return True when ``target`` is empty or carries ``marker`` (a file this tool writes)."""
    if not any(target.iterdir()):
        return True
    return marker is not None and (target / marker).is_file()


@contextmanager
def staged_directory(target: Path, *, marker: str | None) -> Iterator[Path]:
    """Yield an empty folder next to ``target``; it replaces ``target`` when the block succeeds.

    ``marker`` names a file that proves an existing ``target`` was written by the same tool
    (``manifest.json``); any other non-empty folder is refused rather than deleted, so a
    mistyped ``--out`` cannot wipe unrelated files. If the block raises, the staging folder
    is removed and ``target`` is left exactly as it was.
    """
    target = Path(target)
    if target.exists():
        if not target.is_dir():
            raise OutputError(f"{target}: exists and is not a directory")
        if not _is_replaceable(target, marker):
            what = f"has no {marker}" if marker else "is not empty"
            raise OutputError(
                f"{target}: exists and {what}, so it was not written by this tool; "
                "remove it or choose another output folder"
            )
    ensure_writable_dir(target.parent)
    # A hidden sibling on the same filesystem, so the final rename is cheap and atomic.
    staging = target.with_name(f".{target.name}.building-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"{staging}: cannot create directory ({exc.strerror})") from exc
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_into_place(staging, target)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``, keeping the old ``target`` until the rename worked."""
    backup: Path | None = None
    try:
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
            os.rename(target, backup)
        os.rename(staging, target)
    except OSError as exc:
        if backup is not None and backup.exists() and not target.exists():
            os.rename(backup, target)
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{target}: cannot replace ({exc.strerror})") from exc
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
