"""Fetch the real COCO128 for ``--download``: a zip over HTTP(S), checked, then swapped in.

The archive is streamed to a temporary file beside the target (hashed on the way when a
sha256 is expected), unpacked into a staging folder, checked for COCO128's layout
(images/train2017 with at least one image, labels/train2017), and only then renamed onto
the target. Any failure leaves no half-filled folder: the target stays absent, or as it was.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from src.config import COCO128_URL
from src.cv.dataset import COCO128_IMAGES, COCO128_LABELS, IMAGE_SUFFIXES, SYNTHETIC_MARKER
from src.errors import DataError, OutputError, ServiceError
from src.io_utils import ensure_writable_dir, staged_directory
from src.progress import ByteProgress, byte_progress

#: Called with (bytes received, total bytes or None) while the archive streams in.
Progress = ByteProgress

#: Seconds a connection or a read may stall before the download is given up.
DEFAULT_TIMEOUT = 60.0
_CHUNK = 1 << 16

__all__ = [
    "COCO128_URL",
    "DEFAULT_TIMEOUT",
    "Progress",
    "download_coco128",
    "has_coco128",
]


def has_coco128(folder: Path) -> bool:
    """Return True when ``folder`` already holds a COCO128-layout dataset."""
    return (Path(folder) / COCO128_IMAGES).is_dir()


def _find_coco_root(folder: Path) -> Path | None:
    """Return the folder under ``folder`` (itself or one level down) with images/train2017."""
    if (folder / COCO128_IMAGES).is_dir():
        return folder
    return next((p for p in sorted(folder.iterdir()) if (p / COCO128_IMAGES).is_dir()), None)


def _fetch(url: str, target: Path, timeout: float, progress: Progress | None) -> str:
    """Stream ``url`` into ``target``; return the sha256 of what was received."""
    digest = hashlib.sha256()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as fh:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            while chunk := response.read(_CHUNK):
                fh.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, total)
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"{url}: download failed (HTTP {exc.code} {exc.reason})") from None
    except (TimeoutError, http.client.IncompleteRead) as exc:
        if not isinstance(exc, TimeoutError):
            what = f"cut short after {received} bytes"
        elif received:
            what = f"stalled for {timeout:g} s after {received} bytes"
        else:
            what = f"no answer for {timeout:g} s"
        raise ServiceError(f"{url}: download failed ({what})") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, TimeoutError):
            reason = f"no answer for {timeout:g} s"
        raise ServiceError(f"{url}: download failed ({reason})") from None
    if total is not None and received != total:
        raise ServiceError(f"{url}: download cut short ({received} of {total} bytes)")
    return digest.hexdigest()


def _check_layout(root: Path, url: str) -> None:
    """Raise DataError unless ``root`` has COCO128's folders and at least one image."""
    images = root / COCO128_IMAGES
    if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in images.iterdir() if p.is_file()):
        raise DataError(f"{url}: the archive's {COCO128_IMAGES}/ holds no image")
    if not (root / COCO128_LABELS).is_dir():
        raise DataError(f"{url}: the archive has no {COCO128_LABELS}/ folder")


def download_coco128(
    dest: Path,
    url: str = COCO128_URL,
    *,
    sha256: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> Path:
    """Return ``dest`` after fetching and unpacking the COCO128 zip at ``url`` into it.

    Nothing is fetched when ``dest`` already holds a COCO128 folder. A folder holding the
    synthetic stand-in is refused: silently converting it instead of the real images would
    mislead. Network failures (HTTP errors, no answer within ``timeout`` seconds, a
    transfer cut short) are ServiceError; an archive that is not a zip, lacks COCO128's
    folders or does not match ``sha256`` is DataError.
    """
    dest = Path(dest)
    if (dest / SYNTHETIC_MARKER).is_file():
        raise OutputError(
            f"{dest}: holds the synthetic COCO128 stand-in (DVC stage make_synthetic_coco128); "
            "download elsewhere, e.g. data/coco128"
        )
    if has_coco128(dest):
        return dest
    ensure_writable_dir(dest.parent)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".zip.part", dir=dest.parent)
    os.close(fd)
    archive = Path(name)
    try:
        with staged_directory(dest, marker=None) as staging:
            received = _fetch(url, archive, timeout, progress)
            if sha256 is not None and received != sha256.lower():
                raise DataError(f"{url}: sha256 {received} does not match the expected {sha256}")
            unpacked = staging / "unpacked"
            try:
                with zipfile.ZipFile(archive) as zf:
                    zf.extractall(unpacked)  # extractall drops absolute and ../ member paths
            except (zipfile.BadZipFile, EOFError) as exc:
                raise DataError(f"{url}: not a complete zip archive ({exc})") from None
            root = _find_coco_root(unpacked)
            if root is None:
                raise DataError(f"{url}: the archive has no {COCO128_IMAGES}/ folder")
            _check_layout(root, url)
            for entry in root.iterdir():
                entry.rename(staging / entry.name)
            shutil.rmtree(unpacked)
    finally:
        archive.unlink(missing_ok=True)
    return dest


def fetch_coco128(
    dest: Path,
    url: str,
    *,
    sha256: str | None,
    timeout: float,
    echo: Callable[[str], None],
    stream: TextIO | None = None,
) -> Path:
    """Return ``dest`` after :func:`download_coco128`, saying first what it is about to do.

    The command-line tools call this: a line either way, and a byte bar (of the
    Content-Length when the server sends one) when ``stream`` (stderr) is a terminal.
    """
    if has_coco128(dest) and not (Path(dest) / SYNTHETIC_MARKER).is_file():
        echo(f"COCO128 already in {dest}: not downloaded again")
    else:
        echo(f"downloading COCO128 from {url} into {dest} ...")
    with byte_progress(stream, desc="COCO128") as progress:
        return download_coco128(dest, url, sha256=sha256, timeout=timeout, progress=progress)
