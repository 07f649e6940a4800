"""Save and load the Iris model: a pickle verified by sha256, and what its MLflow copy needs.

Unpickling runs code, so a model file is only loaded when its bytes match the
hash recorded in ``metadata.json`` by the training that wrote it. The MLflow copy
of the model is written with skops (safe to load);
:func:`src.workarounds.import_skops_io` makes that import cheap.
"""

from __future__ import annotations

import json
import pickle
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from src.errors import DataError
from src.io_utils import sha256_file

#: Types skops must trust to load a random forest; anything else is refused.
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
#: Declared instead of inferred: MLflow's inference spawns a subprocess (~10 s).
MODEL_REQUIREMENTS = ("scikit-learn", "numpy", "pandas", "skops", "cloudpickle")


def model_requirements() -> list[str]:
    """Return pinned requirements of a logged model (declared: inference is slow)."""
    versions = {}
    for name in MODEL_REQUIREMENTS:
        try:
            versions[name] = package_version(name)
        except Exception:
            continue
    return [f"{name}=={ver}" for name, ver in versions.items()]


def serialize_model(model: Any) -> bytes:
    """Return the pickle bytes of ``model`` (hashed before they are written anywhere)."""
    return pickle.dumps(model, protocol=5)


def load_verified_model(metadata_path: Path) -> Any:
    """Return the model that ``metadata_path`` describes, after checking its sha256."""
    if not metadata_path.is_file():
        raise DataError(
            f"{metadata_path}: not found; train first (`make train` or `make dvc-repro`)"
        )
    try:
        model_info = json.loads(metadata_path.read_text())["model"]
        model_path = metadata_path.parent / model_info["file"]
        expected = model_info["sha256"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{metadata_path}: not a training metadata file ({exc})") from None
    if not model_path.is_file():
        raise DataError(f"{model_path}: model file not found; train first (`make train`)")
    actual = sha256_file(model_path)
    if actual != expected:
        raise DataError(
            f"{model_path}: sha256 {actual[:12]}… does not match {expected[:12]}… "
            f"recorded in {metadata_path}; refusing to unpickle it"
        )
    with open(model_path, "rb") as handle:
        return pickle.load(handle)
