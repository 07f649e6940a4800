"""Library workarounds, one place.

Each entry names the library version it targets and the test that proves it is still
needed and still works; a dependency upgrade means reading this file. One section per
library; an entry imports its library only when called, so importing this module is free.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any


# --------------------------------------------------------------------------- mlflow
@contextmanager
def pinned_requirements() -> Iterator[None]:
    """Skip MLflow's dependency-mismatch check for models whose requirements are pinned here.

    ``log_model``/``save_model`` compare every requirement with the installed version
    (``warn_dependency_requirement_mismatches``, twice per call); the first comparison
    maps every module of every installed distribution (seconds in a venv with torch).
    Requirements built from the installed versions (``name==installed``) cannot
    mismatch, so the check is skipped for the duration of the block. Only use it for
    such requirements. If MLflow moves the function the check simply runs again.

    Targets mlflow 3.17.2. Proved by
    tests/unit/test_workarounds.py::test_pinned_requirements_skips_the_check_only_inside_the_block.
    """
    import mlflow.pyfunc
    import mlflow.utils.environment

    def skip(model_requirements: list[str]) -> None:
        return None

    modules = [
        m
        for m in (mlflow.utils.environment, mlflow.pyfunc)
        if hasattr(m, "warn_dependency_requirement_mismatches")
    ]
    saved = [m.warn_dependency_requirement_mismatches for m in modules]
    for module in modules:
        module.warn_dependency_requirement_mismatches = skip
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.warn_dependency_requirement_mismatches = original


def local_dataset_source(path: Path) -> Any:
    """Return MLflow's dataset source for a local file, without its ambiguity warning.

    Targets mlflow 3.17.2: it registers ``LocalArtifactDatasetSource`` for both the empty
    and the ``file`` scheme, so resolving any local path warns that the source "can be
    interpreted in multiple ways", then picks that same class. Proved by
    tests/integration/training/test_train_mlflow.py::
    test_each_run_logs_its_train_and_test_tables_as_datasets (both: needed, and works).
    """
    import warnings

    from mlflow.data.dataset_source_registry import resolve_dataset_source

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The specified dataset source can be")
        return resolve_dataset_source(str(path.resolve()))


# --------------------------------------------------------------------------- skops
class _RefuseTorch(importlib.abc.MetaPathFinder):
    """Meta-path finder that makes ``import torch`` fail (only while skops scans sklearn)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """Raise ModuleNotFoundError for torch and its submodules; defer everything else."""
        if fullname == "torch" or fullname.startswith("torch."):
            raise ModuleNotFoundError(f"{fullname} refused during the skops import", name=fullname)
        return None


def import_skops_io() -> ModuleType:
    """Return ``skops.io``, imported without dragging torch in.

    Importing skops.io lists every scikit-learn estimator (``all_estimators()`` walks
    all of sklearn's packages). The walk also imports the package
    ``sklearn.externals.array_api_compat.torch``, which imports torch (seconds) only for
    the walk to skip ``externals`` afterwards. Refusing torch for the length of the
    import leaves the list of trusted types unchanged (walk_packages ignores an
    ImportError) and saves that time. If torch is already loaded nothing is refused.

    Targets skops 0.16.0 with scikit-learn 1.9.1. Proved by
    tests/unit/test_workarounds.py::
    test_skops_import_leaves_torch_out_and_trusts_the_same_estimators (still works) and
    tests/integration/workarounds/test_still_needed.py::
    test_skops_import_drags_torch_in_without_it (still needed, same trusted types).
    """
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    if "torch" in sys.modules:
        import skops.io

        return skops.io
    finder = _RefuseTorch()
    sys.meta_path.insert(0, finder)
    try:
        import skops.io
    finally:
        sys.meta_path.remove(finder)
        # The walk's failed import of array_api_compat.torch must not stay cached as absent.
        sys.modules.pop("sklearn.externals.array_api_compat.torch", None)
    return skops.io


# --------------------------------------------------------------------------- zenml
#: Installed ZenML integrations whose materializers the YOLO pipelines never need.
YOLO_UNUSED_INTEGRATIONS = ("sklearn",)


def skip_integrations(names: tuple[str, ...] = YOLO_UNUSED_INTEGRATIONS) -> None:
    """Keep ZenML from activating ``names`` when it compiles a pipeline in this process.

    Before every run ZenML activates each installed integration to register its
    materializers. scikit-learn is installed for the Iris half, so the sklearn
    integration would import scikit-learn and SciPy (about a second and a half here) in
    every YOLO pipeline run, whose artifacts are only paths and dicts. A pipeline that
    returned a scikit-learn object would still work (ZenML falls back to its pickle
    materializer, with a warning), so only the YOLO runners call this.

    Targets zenml 0.98.0. Proved by tests/integration/zenml_pipelines/test_yolo_pipelines.py::
    test_yolo_runners_keep_zenml_from_importing_sklearn (both: needed, and works).
    """
    from zenml.integrations.registry import integration_registry

    for name in names:
        integration_registry.integrations.pop(name, None)


def pin_tracking_uri(uri: str) -> None:
    """Point this process's MLflow (and src.tracking) at ``uri`` again.

    ZenML's tracker ends each step with ``mlflow.set_tracking_uri("")``, which also sets
    ``MLFLOW_TRACKING_URI`` to an empty string; without this, code running after a
    pipeline (registry, report) would silently fall back to the default store.

    Targets zenml 0.98.0 with mlflow 3.17.2. Proved by
    tests/integration/workarounds/test_still_needed.py::
    test_zenml_tracker_blanks_the_uri_and_pinning_restores_it.
    """
    os.environ["MLFLOW_TRACKING_URI"] = uri
    import mlflow

    mlflow.set_tracking_uri(uri)


# --------------------------------------------------------------------------- ultralytics

#: Ultralytics integrations that would log elsewhere or phone home; ours is src.tracking.
ULTRALYTICS_SETTINGS: dict[str, Any] = {
    "mlflow": False,
    "sync": False,
    "clearml": False,
    "comet": False,
    "dvc": False,
    "raytune": False,
    "tensorboard": False,
    "wandb": False,
}


def configure_ultralytics() -> None:
    """Turn off ultralytics' integrations and give it a local font, so nothing goes online.

    Targets ultralytics 8.4.190: its default settings switch the MLflow, DVC, ClearML, Comet
    and Ray Tune callbacks and HUB sync on, and ``check_font`` downloads ``Arial.ttf`` for the
    plots whatever ``YOLO_OFFLINE`` says unless that file is in its config folder; any TTF
    works, so matplotlib's DejaVuSans is copied there.

    Settings persist in ``$YOLO_CONFIG_DIR`` (inside the repo, see src.runtime_env); they
    are written only when they differ, so concurrent trainings do not rewrite the file.

    Proved by tests/integration/workarounds/test_ultralytics.py::
    test_configure_ultralytics_keeps_it_offline.
    """
    from ultralytics.utils import SETTINGS, USER_CONFIG_DIR

    changes = {k: v for k, v in ULTRALYTICS_SETTINGS.items() if SETTINGS.get(k) != v}
    if changes:
        SETTINGS.update(changes)
    font = Path(USER_CONFIG_DIR) / "Arial.ttf"
    if not font.is_file():
        import matplotlib

        bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        font.parent.mkdir(parents=True, exist_ok=True)
        tmp = font.with_name(f".{font.name}.{os.getpid()}.tmp")
        shutil.copyfile(bundled, tmp)
        os.replace(tmp, font)


def offline_train_args() -> dict[str, Any]:
    """Return the ``model.train`` arguments that keep ultralytics from downloading weights.

    Targets ultralytics 8.4.190: with ``amp=True`` (its default) the trainer runs
    ``check_amp``, which on a CUDA device loads ``yolo26n.pt`` from its weights folder,
    downloading it when absent (``YOLO_OFFLINE`` does not stop it), only to compare FP32 and
    AMP predictions. ``amp=False`` skips the check, so a GPU trains in FP32 (for YOLOv8n at
    160 px the GPU is idle most of the time anyway); on CPU and MPS nothing changes, as the
    check answers False there without loading anything.

    Proved by tests/integration/workarounds/test_still_needed.py::
    test_amp_check_fetches_weights_on_cuda (still needed) and
    tests/integration/cv/test_finetune.py::test_finetune_makes_no_outside_connection (works).
    """
    return {"amp": False}


def image_open_errors() -> tuple[type[BaseException], ...]:
    """Return what PIL's ``Image.open`` raises for an unreadable image, ultralytics imported or not.

    Targets ultralytics 8.4.190: importing it (``ultralytics.utils.patches``, which a ZenML run
    loads in the same process as the dataset step) replaces ``PIL.Image.open``; on a file PIL
    cannot identify, the patch tries to install and import the optional ``pi_heif``, so
    offline an ImportError means "not an image" too.

    Proved by
    tests/integration/workarounds/test_ultralytics.py::
    test_undecodable_image_after_ultralytics_is_a_data_error.
    """
    from PIL import Image, UnidentifiedImageError

    return (OSError, UnidentifiedImageError, Image.DecompressionBombError, ImportError)


# --------------------------------------------------------------------------- moto
#: S3's own answer to a request without credentials (MinIO and AWS send the same code).
_S3_ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied: this server needs signed requests (AWS Signature V4)</Message>"
    b"</Error>"
)


def refuse_anonymous_s3(app: Any) -> Any:
    """Return ``app`` (moto's WSGI server) answering 403 AccessDenied to unsigned requests.

    With request authentication on, moto reads the ``Authorization`` header without
    checking it is there, so an anonymous request (a browser, curl, a presigned URL,
    which moto cannot verify) ends in a KeyError and HTTP 500 instead of S3's 403.
    Requests carrying the header go to moto untouched and are checked by it.

    Targets moto 5.2.5. Proved by
    tests/unit/services/test_s3_server.py::test_anonymous_requests_get_403_and_signed_ones_work.
    """

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_AUTHORIZATION"):
            return app(environ, start_response)
        start_response(
            "403 Forbidden",
            [("Content-Type", "application/xml"), ("Content-Length", str(len(_S3_ACCESS_DENIED)))],
        )
        return [_S3_ACCESS_DENIED]

    return guarded
