"""Step: make sure the tiny person dataset exists and matches its DVC-tracked version."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import step

from src.config import SyntheticCocoParams, TinyPersonDatasetParams, validate_section


@step
def prepare_tiny_person_dataset(
    dataset: dict[str, Any],
    synthetic: dict[str, Any],
    on_disk_fingerprint: str,
) -> tuple[Annotated[str, "data_yaml"], Annotated[str, "dataset_fingerprint"]]:
    """Return the dataset's data.yaml path and manifest hash (building it when absent).

    ``on_disk_fingerprint`` is the manifest hash the runner saw before the run (or
    ``absent``); ZenML's cache key includes it, since the cache cannot see files on disk.
    So the step is cached exactly while the dataset and its params are unchanged.
    """
    from src.cv.dataset.prepare import ensure_tiny_person_dataset

    prepared = ensure_tiny_person_dataset(
        validate_section(TinyPersonDatasetParams, dataset, "cv.dataset"),
        validate_section(SyntheticCocoParams, synthetic, "cv.synthetic"),
    )
    print(f"dataset {prepared.data_yaml.parent}: {prepared.dvc_state}")
    return str(prepared.data_yaml), prepared.fingerprint
