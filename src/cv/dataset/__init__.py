"""The YOLO half's data: a synthetic COCO128 stand-in and the tiny person dataset cut from it.

:mod:`.synthetic` generates the stand-in and :mod:`.download` fetches the real COCO128;
:mod:`.tiny_person` cuts the person-only dataset (or any classes of any YOLO dataset),
reading label files with :mod:`.labels` and describing the result in a manifest
(:mod:`.manifest`); :mod:`.prepare` builds or verifies it for the ZenML data step. This
package holds the COCO128 layout they share.
"""

from __future__ import annotations

from pathlib import Path

#: COCO has 80 detection classes; YOLO label files number them 0..79.
COCO_NUM_CLASSES = 80
#: COCO's class names by id (ultralytics' coco128.yaml): a COCO128-layout folder has no data.yaml.
COCO_NAMES: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)
#: COCO's "person" class id, and the only class of the tiny person dataset.
PERSON_CLASS_ID = 0
#: Written at the root of every synthetic COCO128 folder: its params and counts. It marks the
#: folder as safe to regenerate, and the conversion reads it to describe its source.
SYNTHETIC_MARKER = "synthetic_coco128.json"
#: Image suffixes looked for in a COCO128-layout folder (the ones ultralytics reads).
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
)
#: Where a COCO128-layout folder keeps its images and their YOLO label files.
COCO128_IMAGES = Path("images") / "train2017"
COCO128_LABELS = Path("labels") / "train2017"
