"""Make sure the tiny person dataset exists and is the version DVC recorded.

:func:`ensure_tiny_person_dataset` is what the ZenML step ``prepare_tiny_person_dataset``
calls (and what a fresh clone relies on):

* no dataset yet → build it exactly as ``make cv-data`` would (the synthetic COCO128
  stand-in first when ``cv.dataset.source`` is missing, then the cut; a missing
  ``data/coco128`` is a DataError instead: only the user asks for the download);
* a dataset inside the repo that a DVC stage produces → ``dvc status`` of that stage must
  be clean, otherwise the files on disk are not what ``dvc.lock`` recorded (edited data,
  or params/code changed since) and a DataError says to run ``make cv-data``;
* every file is checked against ``manifest.json`` (sha256), and the manifest's hash is
  returned as the dataset's fingerprint (MLflow tag, ZenML cache key).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from src.config import (
    COCO128_DIR,
    PROJECT_ROOT,
    SYNTHETIC_COCO128_DIR,
    SyntheticCocoParams,
    TinyPersonDatasetParams,
    resolve_path,
)
from src.errors import DataError
from src.io_utils import display_path, project_relative

#: Value of :func:`current_fingerprint` when there is no dataset on disk.
ABSENT = "absent"


@dataclass(frozen=True)
class PreparedDataset:
    """The dataset a training may use: its data.yaml, fingerprint, and how it was checked."""

    data_yaml: Path
    fingerprint: str
    built: bool
    dvc_state: str


def current_fingerprint(dataset: TinyPersonDatasetParams) -> str:
    """Return the fingerprint of the dataset on disk, or ``absent`` (cheap: hashes one file)."""
    from src.cv.dataset.manifest import dataset_fingerprint

    output = resolve_path(dataset.output)
    try:
        return dataset_fingerprint(output)
    except DataError:
        return ABSENT


def dvc_stage_for(output: Path, dvc_yaml: Path = PROJECT_ROOT / "dvc.yaml") -> str | None:
    """Return the name of the dvc.yaml stage whose outs include ``output``, if any."""
    rel = project_relative(output)
    # A checkout without .dvc/ (an export, a tarball) has nothing to compare against.
    if rel is None or not dvc_yaml.is_file() or not (dvc_yaml.parent / ".dvc").is_dir():
        return None
    try:
        stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    except yaml.YAMLError:
        return None
    for name, stage in stages.items():
        for out in (stage or {}).get("outs", []):
            out_path = next(iter(out)) if isinstance(out, dict) else out
            if str(out_path).rstrip("/") == rel:
                return str(name)
    return None


def dvc_changes(stage: str) -> list[Any]:
    """Return what ``dvc status <stage>`` reports as changed (empty when in sync)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(PROJECT_ROOT)) as repo:
            status = repo.status(targets=[stage])
    except DvcException as exc:
        raise DataError(f"dvc status {stage}: {exc}") from None
    return list(status.get(stage, [])) if isinstance(status, dict) else []


def _describe_changes(changes: list[Any]) -> str:
    parts: list[str] = []
    for change in changes:
        if isinstance(change, dict):
            for kind, items in change.items():
                names = ", ".join(str(k) for k in (items or {})) if isinstance(items, dict) else ""
                parts.append(f"{kind} {names}".strip())
        else:
            parts.append(str(change))
    return "; ".join(parts) or "changed"


def build_tiny_person(
    dataset: TinyPersonDatasetParams, synthetic: SyntheticCocoParams
) -> dict[str, Any]:
    """Return the manifest of a freshly built dataset (synthetic source made if missing)."""
    from src.cv.dataset.synthetic import make_synthetic_coco128
    from src.cv.dataset.tiny_person import build_tiny_person_dataset

    source = resolve_path(dataset.source)
    if not source.exists() and source == resolve_path(COCO128_DIR):
        # The download's folder never gets the stand-in: the two must not be confused.
        raise DataError(
            f"{display_path(source)}: cv.dataset.source not found; run `make cv-data-coco128` "
            f"(needs internet) to download it, or use {SYNTHETIC_COCO128_DIR} offline"
        )
    if not source.exists():
        print(f"{source} not found: generating the synthetic COCO128 stand-in there", flush=True)
        make_synthetic_coco128(source, synthetic)
    return build_tiny_person_dataset(source, resolve_path(dataset.output), dataset)


def ensure_tiny_person_dataset(
    dataset: TinyPersonDatasetParams,
    synthetic: SyntheticCocoParams,
    *,
    check_dvc: bool = True,
) -> PreparedDataset:
    """Return the verified dataset, building it first when it does not exist.

    Raises DataError when an existing dataset differs from its manifest or from the
    version ``dvc.lock`` recorded.
    """
    from src.cv.dataset.manifest import dataset_fingerprint, verify_dataset
    from src.cv.dataset.tiny_person import DATA_YAML_NAME

    output = resolve_path(dataset.output)
    built = False
    if not (output / "manifest.json").is_file():
        manifest = build_tiny_person(dataset, synthetic)
        splits = manifest["splits"]
        print(
            f"built {output}: "
            + ", ".join(f"{name} {c['images']} images" for name, c in splits.items()),
            flush=True,
        )
        built = True
    verify_dataset(output)

    stage = dvc_stage_for(output) if check_dvc else None
    if stage is None:
        state = "not produced by a DVC stage" if check_dvc else "DVC check skipped"
    else:
        changes = dvc_changes(stage)
        if not changes:
            state = f"in sync with dvc.lock (stage {stage})"
        elif built:
            # Built from the current params and code: dvc.lock is the stale side.
            state = f"built here; `dvc commit {stage}` records it ({_describe_changes(changes)})"
        else:
            raise DataError(
                f"{display_path(output)}: differs from what dvc.lock recorded for stage "
                f"{stage} ({_describe_changes(changes)}); run `make cv-data` to rebuild it or "
                f"`dvc checkout {stage}` to restore the recorded version"
            )
    return PreparedDataset(output / DATA_YAML_NAME, dataset_fingerprint(output), built, state)
