"""The tiny person dataset's manifest: written with the dataset, read back, verified.

``manifest.json`` lists every file with its sha256, the counts, the source and the params.
It holds no timestamps or absolute paths inside the project, so the same inputs give the
same bytes and :func:`dataset_fingerprint` (its sha256) identifies the dataset's content
for MLflow tags and ZenML caching.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from src.errors import DataError
from src.io_utils import sha256_file

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "tiny-person-dataset/1"


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest`` to ``folder/manifest.json`` as stable JSON (sorted keys, indented)."""
    (Path(folder) / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def load_manifest(dataset_dir: Path) -> dict[str, Any]:
    """Return the parsed ``manifest.json`` of a dataset; DataError if missing or not ours."""
    path = Path(dataset_dir) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(
            f"{path}: dataset manifest not found; build the dataset with `make cv-data`"
        ) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise DataError(f"{path}: not a tiny person manifest (format {MANIFEST_FORMAT!r})")
    return manifest


def dataset_fingerprint(dataset_dir: Path) -> str:
    """Return the sha256 of the dataset's manifest: one hash for all its files and params."""
    load_manifest(dataset_dir)  # same error as load_manifest for a missing or foreign file
    return sha256_file(Path(dataset_dir) / MANIFEST_NAME)


def verify_dataset(dataset_dir: Path) -> dict[str, Any]:
    """Return the manifest after checking every listed file's sha256; DataError on a mismatch."""
    manifest = load_manifest(dataset_dir)
    for rel, expected in manifest["files"].items():
        path = Path(dataset_dir) / rel
        if not path.is_file():
            raise DataError(
                f"{path}: listed in {MANIFEST_NAME} but missing; rebuild with `make cv-data`"
            )
        if sha256_file(path) != expected:
            raise DataError(
                f"{path}: content differs from {MANIFEST_NAME}; rebuild with `make cv-data`"
            )
    return manifest
