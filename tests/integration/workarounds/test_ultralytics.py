"""The ultralytics entries of src/workarounds.py: still needed, and still working.

ultralytics reads its settings folder once, when imported, and patches PIL for the whole
process, so each probe runs in a fresh interpreter with a temporary ``YOLO_CONFIG_DIR``
(seconds each: the integration lane).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from src.config import SyntheticCocoParams
from src.cv.dataset.synthetic import make_synthetic_coco128
from tests.probes import run_probe


def _probe(code: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    """Return the JSON the last line of ``code`` prints, run offline with fresh settings."""
    env = {"YOLO_CONFIG_DIR": str(tmp_path / "yolo"), "YOLO_OFFLINE": "1"}
    data: dict[str, Any] = run_probe(code, *args, env=env)
    return data


# --------------------------------------------------------------------------- ultralytics
SETTINGS_PROBE = """
import json
from matplotlib import font_manager
from ultralytics.utils import SETTINGS, USER_CONFIG_DIR, checks, downloads
from src.workarounds import ULTRALYTICS_SETTINGS, configure_ultralytics

font_manager.fontManager.ttflist = []  # as on a machine without an Arial font
fetched = []
downloads.is_url = lambda url, check=False: fetched.append(url) or False  # never fetch
before = {key: SETTINGS[key] for key in ULTRALYTICS_SETTINGS}
checks.check_font("Arial.ttf")
fetched_before = list(fetched)
configure_ultralytics()
checks.check_font.__wrapped__.cache_clear()  # check_font remembers its first answer
print(json.dumps({
    "before": before,
    "fetched_before": fetched_before,
    "after": {key: SETTINGS[key] for key in ULTRALYTICS_SETTINGS},
    "wanted": ULTRALYTICS_SETTINGS,
    "font": str(checks.check_font("Arial.ttf")),
    "fetched_after": fetched[len(fetched_before):],
    "config_dir": str(USER_CONFIG_DIR),
}))
"""


IMAGE_PROBE = """
import json, sys
from pathlib import Path
from PIL import Image
import ultralytics.utils.patches  # what `from ultralytics import YOLO` imports
from src.config import TinyPersonDatasetParams
from src.cv.dataset.tiny_person import build_tiny_person_dataset
from src.errors import DataError

source, image = Path(sys.argv[1]), Path(sys.argv[2])
try:
    Image.open(image)
    raised = None
except BaseException as exc:
    raised = [type(exc).__name__, isinstance(exc, ImportError)]
params = TinyPersonDatasetParams(train=0.5, val=0.25, test=0.25, max_images=4)  # 2 / 1 / 1
try:
    build_tiny_person_dataset(source, source.parent / "tiny", params)
    message = None
except DataError as exc:
    message = str(exc)
print(json.dumps({"raised": raised, "message": message}))
"""


def test_configure_ultralytics_keeps_it_offline(tmp_path: Path) -> None:
    report = _probe(SETTINGS_PROBE, tmp_path)
    # Needed: by default the integrations are on and the plot font is downloaded.
    assert report["before"]["mlflow"] is True and report["before"] != report["wanted"]
    assert [url.rsplit("/", 1)[-1] for url in report["fetched_before"]] == ["Arial.ttf"]
    # Works: integrations off, settings saved, and the font is found without a download.
    assert report["after"] == report["wanted"]
    saved = json.loads((Path(report["config_dir"]) / "settings.json").read_text())
    assert {key: saved[key] for key in report["wanted"]} == report["wanted"]
    assert report["font"] == str(Path(report["config_dir"]) / "Arial.ttf")
    assert report["fetched_after"] == []


def test_undecodable_image_after_ultralytics_is_a_data_error(tmp_path: Path) -> None:
    source = tmp_path / "coco128"
    make_synthetic_coco128(source, SyntheticCocoParams(images=8, imgsz=64))
    label = next(
        p for p in sorted((source / "labels" / "train2017").glob("*.txt")) if p.stat().st_size
    )
    image = source / "images" / "train2017" / f"{label.stem}.jpg"
    image.write_bytes(b"not an image at all")
    report = _probe(IMAGE_PROBE, tmp_path, str(source), str(image))
    # Needed: ultralytics' Image.open raises ImportError (no pi_heif) where PIL would not.
    assert report["raised"] is not None and report["raised"][1] is True, report["raised"]
    # Works: the dataset build still reports the file as an unreadable image.
    assert report["message"] is not None
    assert report["message"].startswith(f"{image}: cannot read image")
