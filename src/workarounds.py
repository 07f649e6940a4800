"""Library workarounds, one place.

Each entry names the library version it targets and the test that proves it is still
needed and still works; a dependency upgrade means reading this file. One section per
library; an entry imports its library only when called, so importing this module is free.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

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

    Proved by tests/unit/test_workarounds.py::test_configure_ultralytics_keeps_it_offline.
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


def image_open_errors() -> tuple[type[BaseException], ...]:
    """Return what PIL's ``Image.open`` raises for an unreadable image, ultralytics imported or not.

    Targets ultralytics 8.4.190: importing it (``ultralytics.utils.patches``, which a ZenML run
    loads in the same process as the dataset step) replaces ``PIL.Image.open``; on a file PIL
    cannot identify, the patch tries to install and import the optional ``pi_heif``, so
    offline an ImportError means "not an image" too.

    Proved by
    tests/unit/test_workarounds.py::test_undecodable_image_after_ultralytics_is_a_data_error.
    """
    from PIL import Image, UnidentifiedImageError

    return (OSError, UnidentifiedImageError, Image.DecompressionBombError, ImportError)
