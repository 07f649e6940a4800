"""Generate the offline COCO128 stand-in (see src/cv/dataset/synthetic.py).

    python tools/make_synthetic_coco128.py           # cv.synthetic -> data/coco128_synthetic
    python tools/make_synthetic_coco128.py --out /tmp/c128 --images 32 --seed 3

Flags override ``cv.synthetic`` and are validated by the same schema; the default output
is ``data/coco128_synthetic``, the default ``cv.dataset.source`` (a download goes to
``data/coco128`` instead, so the two never share a folder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Runnable as `python tools/make_synthetic_coco128.py` from any directory, without install.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        description="Generate a COCO128-shaped folder of synthetic scenes, deterministically."
    )
    parser.add_argument("--out", type=Path, help="output folder (default: data/coco128_synthetic)")
    parser.add_argument("--images", type=int, help="number of images (cv.synthetic.images)")
    parser.add_argument("--imgsz", type=int, help="longest image side (cv.synthetic.imgsz)")
    parser.add_argument("--seed", type=int, help="generator seed (cv.synthetic.seed)")
    parser.add_argument("--params", type=Path, help="params file (default: params.yaml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Generate the folder; return the exit code (errors are raised as MlopsError)."""
    args = build_parser().parse_args(argv)
    from src.config import (
        SYNTHETIC_COCO128_DIR,
        flags_given,
        get_config,
        resolve_path,
        with_overrides,
    )
    from src.cv.dataset.synthetic import make_synthetic_coco128

    config = get_config(args.params)
    overrides = flags_given(args, ("images", "imgsz", "seed"))
    params = with_overrides(
        config.cv.synthetic, source="command line", prefix="cv.synthetic", **overrides
    )
    output = args.out if args.out is not None else resolve_path(SYNTHETIC_COCO128_DIR)
    summary = make_synthetic_coco128(output, params)
    counts = summary["counts"]
    print(
        f"synthetic COCO128: {output} ({counts['images']} images, "
        f"{counts['images_with_person']} with persons, {counts['person_boxes']} person and "
        f"{counts['other_boxes']} other boxes, {counts['empty_label_files']} empty label files, "
        f"{counts['images_without_label_file']} without a label file; seed {params.seed})"
    )
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
