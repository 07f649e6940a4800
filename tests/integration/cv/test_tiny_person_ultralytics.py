"""ultralytics itself reads the tiny person dataset: data.yaml resolves, every box loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib

from src.config import SyntheticCocoParams, TinyPersonDatasetParams
from src.cv.dataset.synthetic import make_synthetic_coco128
from src.cv.dataset.tiny_person import build_tiny_person_dataset
from tests.probes import run_probe

# Run apart from pytest: ultralytics reads its settings folder once, at import time.
CHECK = """
import json, sys
from ultralytics.data import YOLODataset
from ultralytics.data.utils import check_det_dataset

data = check_det_dataset(sys.argv[1])
counts = {}
for split in ("train", "val", "test"):
    ds = YOLODataset(img_path=data[split], imgsz=64, data=data, augment=False)
    counts[split] = [len(ds.labels), sum(len(label["cls"]) for label in ds.labels)]
print(json.dumps({"names": data["names"], "counts": counts}))
"""


def test_ultralytics_loads_every_split(tmp_path: Path) -> None:
    coco = tmp_path / "coco128"
    make_synthetic_coco128(coco, SyntheticCocoParams(images=16, imgsz=64))
    out = tmp_path / "tiny"
    params = TinyPersonDatasetParams(  # 6 / 3 / 2 images
        train=0.5, val=0.3, test=0.2, max_images=11, letterbox=64
    )
    manifest = build_tiny_person_dataset(coco, out, params)

    config_dir = tmp_path / "yolo"
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    (config_dir / "Ultralytics").mkdir(parents=True)
    shutil.copy(font, config_dir / "Ultralytics" / "Arial.ttf")  # no font download
    env = {"YOLO_CONFIG_DIR": str(config_dir), "YOLO_OFFLINE": "1"}
    report = run_probe(CHECK, "data.yaml", cwd=out, env=env)
    assert report["names"] == {"0": "person"}
    for split, (images, boxes) in report["counts"].items():
        assert [images, boxes] == [
            manifest["splits"][split]["images"],
            manifest["splits"][split]["boxes"],
        ]
