"""An offline stand-in for COCO128, generated deterministically from a seed.

The folder has COCO128's layout (``images/train2017/*.jpg`` and ``labels/train2017/*.txt``
in YOLO format, 80 classes, person = 0), so :mod:`src.cv.dataset.tiny_person` converts it exactly
as it converts the real download. Each image is a scene on a varied background (flat,
gradient, horizon, blotches, all with sensor-like noise):

* person-like figures (head, torso, arms, legs in skin/shirt/trouser colours; class 0);
* plain shapes (rectangles, ellipses, triangles, diamonds, rings) of the other classes;

and the scenes cycle through what real COCO has: one person, several persons, a person cut
by the image border, tiny persons, images without persons, empty label files and images
without a label file. About 13 images in 16 contain a person, drawn 35 %-90 % of the image
height (except the tiny ones) in clothes that contrast with the background behind them, so
a from-scratch YOLOv8n can learn them in a few dozen epochs. Boxes are the exact pixel
extent of each drawn figure (clipped to the image).

The same seed gives byte-identical files: each image has its own generator seeded with
``(seed, index)``, and JPEGs are written with fixed settings and no metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from src.config import SyntheticCocoParams
from src.cv.dataset import (
    COCO128_IMAGES,
    COCO128_LABELS,
    COCO_NUM_CLASSES,
    PERSON_CLASS_ID,
    SYNTHETIC_MARKER,
)
from src.io_utils import staged_directory

JPEG_QUALITY = 90

#: Scene of image ``i`` is ``SCENES[i % 16]``: the first 8 already cover every COCO feature,
#: so even the smallest allowed folder (8 images) has all of them.
SCENES: tuple[str, ...] = (
    "crowd",
    "border",
    "no_person",
    "tiny",
    "empty_label",
    "crowd",
    "no_label",
    "single",
    "single",
    "crowd",
    "border",
    "single",
    "tiny",
    "single",
    "single",
    "crowd",
)
PERSON_SCENES = frozenset({"single", "crowd", "border", "tiny"})

#: Image shapes as (width, height) ratios: COCO mixes landscape, portrait and square.
_ASPECTS: tuple[tuple[int, int], ...] = ((4, 3), (1, 1), (3, 4), (16, 9), (3, 2), (4, 3))
_SKIN_TONES: tuple[tuple[int, int, int], ...] = (
    (255, 219, 172),
    (241, 194, 125),
    (224, 172, 105),
    (198, 134, 66),
    (141, 85, 36),
    (92, 56, 30),
)

#: Minimum RGB distance between a figure's clothes and the background behind it: figures
#: that melt into the background teach a from-scratch detector nothing in 40 epochs.
_MIN_CONTRAST = 110.0

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive
Color = tuple[int, int, int]


@dataclass
class _Scene:
    """One image being drawn: the picture and its labelled boxes in drawing order."""

    image: Image.Image
    rng: np.random.Generator
    labels: list[tuple[int, Box]] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def _color(rng: np.random.Generator, low: int = 0, high: int = 256) -> Color:
    r, g, b = (int(v) for v in rng.integers(low, high, size=3))
    return (r, g, b)


def _contrasting(rng: np.random.Generator, ref: Color, low: int, high: int) -> Color:
    """Return a colour in [low, high) that stands out from ``ref`` (the background behind it)."""
    best, best_distance = _color(rng, low, high), -1.0
    for _ in range(12):
        candidate = _color(rng, low, high)
        distance = float(np.linalg.norm(np.subtract(candidate, ref)))
        if distance >= _MIN_CONTRAST:
            return candidate
        if distance > best_distance:
            best, best_distance = candidate, distance
    return best


def _jitter(rng: np.random.Generator, color: Color, amount: int) -> Color:
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in color)
    return (r, g, b)


def _image_size(rng: np.random.Generator, imgsz: int) -> tuple[int, int]:
    """Return (width, height) with the longest side ``imgsz`` and a COCO-like aspect ratio."""
    a, b = _ASPECTS[int(rng.integers(len(_ASPECTS)))]
    if a >= b:
        return imgsz, max(32, round(imgsz * b / a))
    return max(32, round(imgsz * a / b)), imgsz


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Return a varied background: flat, gradient, horizon or blotches, plus noise."""
    kind = int(rng.integers(4))
    c1 = np.array(_color(rng), dtype=np.float64)
    c2 = np.array(_color(rng), dtype=np.float64)
    if kind == 0:
        pixels = np.broadcast_to(c1, (height, width, 3)).copy()
    elif kind == 1:
        t = np.linspace(0.0, 1.0, height)[:, None, None]
        pixels = np.broadcast_to(c1 * (1 - t) + c2 * t, (height, width, 3)).copy()
    elif kind == 2:
        horizon = int(height * rng.uniform(0.3, 0.7))
        pixels = np.empty((height, width, 3))
        sky = np.linspace(0.0, 1.0, horizon)[:, None, None]
        pixels[:horizon] = c1 * (1 - 0.3 * sky)
        pixels[horizon:] = c2
    else:
        cells = int(rng.integers(3, 8))
        coarse = rng.integers(0, 256, size=(cells, cells, 3), dtype=np.uint8)
        blotches = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
        # Blended towards one colour: busy but not so loud that figures disappear in it.
        pixels = 0.5 * np.asarray(blotches, dtype=np.float64) + 0.5 * c1
    pixels += rng.normal(0.0, rng.uniform(2.0, 6.0), size=pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _draw_parts(scene: _Scene, parts: list[tuple[str, Any, Color]]) -> Box | None:
    """Draw shapes on the image and on a mask; return the mask's bounding box (or None)."""
    mask = Image.new("L", scene.size, 0)
    draw = ImageDraw.Draw(scene.image)
    draw_mask = ImageDraw.Draw(mask)
    for kind, coords, color in parts:
        if kind == "polygon":
            draw.polygon(coords, fill=color)
            draw_mask.polygon(coords, fill=255)
        elif kind == "ellipse":
            draw.ellipse(coords, fill=color)
            draw_mask.ellipse(coords, fill=255)
        elif kind == "ring":
            width = max(2, round((coords[2] - coords[0]) / 5))
            draw.ellipse(coords, outline=color, width=width)
            draw_mask.ellipse(coords, outline=255, width=width)
        else:
            draw.rectangle(coords, fill=color)
            draw_mask.rectangle(coords, fill=255)
    # getbbox gives the exact drawn extent, already clipped to the image.
    return mask.getbbox()


def _person_parts(
    rng: np.random.Generator, cx: float, top: float, height: float, behind: Color
) -> list[tuple[str, Any, Color]]:
    """Return the shapes of a standing figure whose box is about ``height`` x 0.4 ``height``."""
    width = height * rng.uniform(0.34, 0.44)
    head = height * rng.uniform(0.17, 0.21)
    arm = width * rng.uniform(0.15, 0.19)
    torso = width - 2 * arm
    shoulder = top + head * 1.02
    hip = top + height * rng.uniform(0.52, 0.58)
    bottom = top + height
    gap = torso * rng.uniform(0.04, 0.12)
    spread = width * rng.uniform(0.0, 0.1)
    leg = (torso - gap) / 2

    skin = _jitter(rng, _SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))], 12)
    shirt = _contrasting(rng, behind, 20, 236)
    trousers = _contrasting(rng, behind, 0, 160)
    left, right = cx - torso / 2, cx + torso / 2
    return [
        ("ellipse", [cx - head / 2, top, cx + head / 2, top + head], skin),
        ("rectangle", [left, shoulder, right, hip + height * 0.04], shirt),
        ("rectangle", [left - arm, shoulder + arm * 0.2, left, hip], shirt),
        ("rectangle", [right, shoulder + arm * 0.2, right + arm, hip], shirt),
        ("ellipse", [left - arm, hip - arm * 0.5, left, hip + arm * 0.5], skin),
        ("ellipse", [right, hip - arm * 0.5, right + arm, hip + arm * 0.5], skin),
        (
            "polygon",
            [
                (left, hip),
                (left + leg, hip),
                (left + leg - spread, bottom),
                (left - spread, bottom),
            ],
            trousers,
        ),
        (
            "polygon",
            [
                (right - leg, hip),
                (right, hip),
                (right + spread, bottom),
                (right - leg + spread, bottom),
            ],
            trousers,
        ),
    ]


def _object_parts(
    rng: np.random.Generator, x0: float, y0: float, w: float, h: float
) -> list[tuple[str, Any, Color]]:
    """Return one plain shape filling the box (x0, y0, w, h): the non-person COCO classes."""
    color = _color(rng)
    kind = int(rng.integers(5))
    box = [x0, y0, x0 + w, y0 + h]
    if kind == 0:
        return [("rectangle", box, color)]
    if kind == 1:
        return [("ellipse", box, color)]
    if kind == 2:
        return [("polygon", [(x0, y0 + h), (x0 + w / 2, y0), (x0 + w, y0 + h)], color)]
    if kind == 3:
        mid_x, mid_y = x0 + w / 2, y0 + h / 2
        return [("polygon", [(mid_x, y0), (x0 + w, mid_y), (mid_x, y0 + h), (x0, mid_y)], color)]
    return [("ring", box, color)]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Return the intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _mean_color(image: Image.Image, box: tuple[float, float, float, float]) -> Color:
    """Return the mean colour of ``image`` inside ``box`` (clipped; grey when outside)."""
    width, height = image.size
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(width, int(box[2]) + 1), min(height, int(box[3]) + 1)
    if x1 <= x0 or y1 <= y0:
        return (128, 128, 128)
    region = np.asarray(image.crop((x0, y0, x1, y1)), dtype=np.float64)
    r, g, b = (int(v) for v in region.reshape(-1, 3).mean(axis=0))
    return (r, g, b)


def _add_person(
    scene: _Scene,
    height: float,
    placed: list[tuple[float, float, float, float]],
    *,
    border: str | None = None,
) -> None:
    """Place a figure of ``height`` pixels, crossing ``border`` if given, avoiding overlaps."""
    rng = scene.rng
    img_w, img_h = scene.size
    width = height * 0.4
    for _ in range(20):
        cx = rng.uniform(width / 2, max(width / 2 + 1, img_w - width / 2))
        top = rng.uniform(0, max(1.0, img_h - height))
        # A border figure is pushed 15 %-40 % out of the frame, as people cut by COCO frames are.
        out = rng.uniform(0.15, 0.4)
        if border == "left":
            cx = width / 2 - out * width
        elif border == "right":
            cx = img_w - width / 2 + out * width
        elif border == "top":
            top = -out * height
        elif border == "bottom":
            top = img_h - height + out * height
        candidate = (cx - width / 2, top, cx + width / 2, top + height)
        if all(_overlap(candidate, other) < 0.25 for other in placed):
            break
    placed.append(candidate)
    behind = _mean_color(scene.image, candidate)
    box = _draw_parts(scene, _person_parts(rng, cx, top, height, behind))
    if box is not None:
        scene.labels.append((PERSON_CLASS_ID, box))


def _add_object(scene: _Scene, *, tiny: bool = False) -> None:
    """Place one shape of a random non-person class."""
    rng = scene.rng
    img_w, img_h = scene.size
    side = min(img_w, img_h)
    scale = rng.uniform(0.03, 0.07) if tiny else rng.uniform(0.1, 0.45)
    w = max(3.0, side * scale * rng.uniform(0.6, 1.6))
    h = max(3.0, side * scale * rng.uniform(0.6, 1.6))
    x0 = rng.uniform(0, img_w - w)
    y0 = rng.uniform(0, img_h - h)
    box = _draw_parts(scene, _object_parts(rng, x0, y0, w, h))
    if box is not None:
        scene.labels.append((int(rng.integers(1, COCO_NUM_CLASSES)), box))


def _compose(scene_kind: str, scene: _Scene) -> None:
    """Draw the objects and figures that ``scene_kind`` calls for."""
    rng = scene.rng
    img_h = scene.size[1]
    if scene_kind in ("empty_label", "no_label"):
        return
    # Distractors first: figures stand in front of clutter, as they mostly do in photos.
    for _ in range(int(rng.integers(1, 4) if scene_kind == "no_person" else rng.integers(0, 3))):
        _add_object(scene)
    if scene_kind == "no_person":
        return
    placed: list[tuple[float, float, float, float]] = []
    if scene_kind == "single":
        _add_person(scene, img_h * rng.uniform(0.45, 0.9), placed)
    elif scene_kind == "crowd":
        for _ in range(int(rng.integers(2, 4))):
            _add_person(scene, img_h * rng.uniform(0.35, 0.65), placed)
    elif scene_kind == "border":
        side = ("left", "right", "top", "bottom")[int(rng.integers(4))]
        _add_person(scene, img_h * rng.uniform(0.5, 0.9), placed, border=side)
        if rng.uniform() < 0.3:
            _add_person(scene, img_h * rng.uniform(0.35, 0.65), placed)
    elif scene_kind == "tiny":
        _add_person(scene, img_h * rng.uniform(0.4, 0.75), placed)
        for _ in range(int(rng.integers(1, 3))):
            _add_person(scene, max(6.0, img_h * rng.uniform(0.05, 0.09)), placed)
        _add_object(scene, tiny=True)


def _yolo_line(class_id: int, box: Box, width: int, height: int) -> str:
    """Return one YOLO label line (class, centre and size normalised to [0, 1])."""
    x0, y0, x1, y1 = box
    return (
        f"{class_id} {(x0 + x1) / 2 / width:.6f} {(y0 + y1) / 2 / height:.6f} "
        f"{(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}"
    )


def make_synthetic_coco128(output: Path, params: SyntheticCocoParams) -> dict[str, Any]:
    """Return a summary of the COCO128-shaped folder generated at ``output`` from ``params``.

    ``output`` is replaced only when generation succeeded; an existing folder that was not
    generated by this function (no ``synthetic_coco128.json``) is refused, never deleted.
    """
    output = Path(output)
    counts = {
        "images": params.images,
        "label_files": 0,
        "empty_label_files": 0,
        "images_without_label_file": 0,
        "images_with_person": 0,
        "person_boxes": 0,
        "other_boxes": 0,
        "tiny_boxes": 0,
        "border_boxes": 0,
    }
    with staged_directory(output, marker=SYNTHETIC_MARKER) as staging:
        images_dir = staging / COCO128_IMAGES
        labels_dir = staging / COCO128_LABELS
        images_dir.mkdir(parents=True)
        labels_dir.mkdir(parents=True)
        for index in range(params.images):
            rng = np.random.default_rng([params.seed, index])
            width, height = _image_size(rng, params.imgsz)
            scene_kind = SCENES[index % len(SCENES)]
            scene = _Scene(_background(rng, width, height), rng)
            _compose(scene_kind, scene)
            stem = f"{index:012d}"  # COCO's zero-padded file names
            scene.image.save(images_dir / f"{stem}.jpg", format="JPEG", quality=JPEG_QUALITY)
            if scene_kind == "no_label":
                counts["images_without_label_file"] += 1
                continue
            lines = [_yolo_line(c, box, width, height) for c, box in scene.labels]
            (labels_dir / f"{stem}.txt").write_text("".join(f"{line}\n" for line in lines))
            counts["label_files"] += 1
            counts["empty_label_files"] += not lines
            persons = sum(c == PERSON_CLASS_ID for c, _ in scene.labels)
            counts["images_with_person"] += persons > 0
            counts["person_boxes"] += persons
            counts["other_boxes"] += len(lines) - persons
            for _, (x0, y0, x1, y1) in scene.labels:
                counts["tiny_boxes"] += (x1 - x0) < 0.1 * width and (y1 - y0) < 0.1 * height
                counts["border_boxes"] += x0 == 0 or y0 == 0 or x1 == width or y1 == height
        summary = {"generator": __name__, "params": params.model_dump(), "counts": counts}
        (staging / SYNTHETIC_MARKER).write_text(
            json.dumps(summary, indent=2, sort_keys=True) + "\n"
        )
    return summary
