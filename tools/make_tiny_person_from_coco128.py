"""Build the tiny person dataset from a COCO128-layout folder (see src/cv/dataset/tiny_person.py).

    python tools/make_tiny_person_from_coco128.py               # cv.dataset of params.yaml
    python tools/make_tiny_person_from_coco128.py --download    # fetch real COCO128 first
    python tools/make_tiny_person_from_coco128.py --source DIR --out /tmp/tp --letterbox 160

Without ``--source`` the folder is ``cv.dataset.source`` (``data/coco128``: the synthetic
stand-in from tools/make_synthetic_coco128.py, or the download). ``--download`` needs
internet: it fetches the official COCO128 zip into that folder unless it is already there;
a folder holding the synthetic stand-in is refused (pass another --source).
A bad label line stops the build with ``file:line`` and the rule; ``--skip-invalid`` skips
and counts such lines in the manifest instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Runnable as `python tools/make_tiny_person_from_coco128.py` from any directory.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        description="Cut a person-only YOLO dataset (train/val/test) from a COCO128 folder."
    )
    parser.add_argument(
        "--source", type=Path, help="COCO128-layout folder (default: cv.dataset.source)"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch the official COCO128 zip into the source folder first (needs internet)",
    )
    parser.add_argument("--out", type=Path, help="dataset folder (default: cv.dataset.output)")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip invalid label lines and count them in the manifest instead of failing",
    )
    parser.add_argument("--train", type=int, help="images in the train split (cv.dataset.train)")
    parser.add_argument("--val", type=int, help="images in the val split (cv.dataset.val)")
    parser.add_argument("--test", type=int, help="images in the test split (cv.dataset.test)")
    parser.add_argument("--seed", type=int, help="seed of the split (cv.dataset.seed)")
    parser.add_argument(
        "--letterbox", type=int, help="letterbox images to this square size (cv.dataset.letterbox)"
    )
    parser.add_argument("--params", type=Path, help="params file (default: params.yaml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the dataset; return the exit code (errors are raised as MlopsError)."""
    args = build_parser().parse_args(argv)
    from src.config import get_config, resolve_path, with_overrides
    from src.cv.dataset.download import COCO128_URL, download_coco128
    from src.cv.dataset.manifest import dataset_fingerprint
    from src.cv.dataset.tiny_person import build_tiny_person_dataset

    config = get_config(args.params)
    overrides = {
        key: getattr(args, key)
        for key in ("train", "val", "test", "seed", "letterbox")
        if getattr(args, key) is not None
    }
    params = with_overrides(
        config.cv.dataset, source="command line", prefix="cv.dataset", **overrides
    )
    source = args.source if args.source is not None else resolve_path(params.source)
    output = args.out if args.out is not None else resolve_path(params.output)
    if args.download:
        present = (source / "images" / "train2017").is_dir()
        if not present:
            print(f"downloading COCO128 from {COCO128_URL} into {source} ...", flush=True)
        download_coco128(source)
        if present:
            print(f"COCO128 already in {source}: not downloaded again")
    manifest = build_tiny_person_dataset(source, output, params, skip_invalid=args.skip_invalid)
    splits = manifest["splits"]
    sizes = " / ".join(f"{name} {splits[name]['images']}" for name in ("train", "val", "test"))
    boxes = " / ".join(str(splits[name]["boxes"]) for name in ("train", "val", "test"))
    skipped = manifest["skipped_invalid"]
    print(
        f"tiny person dataset: {output} ({sizes} images; {boxes} person boxes; "
        f"{skipped['lines']} invalid lines skipped) fingerprint {dataset_fingerprint(output)[:12]}"
    )
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
