"""Fetch the real COCO128 (needs internet; see src/cv/dataset/download.py).

    python tools/download_coco128.py                        # cv.download.url -> data/coco128
    python tools/download_coco128.py --out DIR --url URL --sha256 HEX --timeout 30
    python tools/download_coco128.py --select-in-params     # params.yaml: cut data/coco128

The DVC stage ``download_coco128`` runs the first form for each folder of
``cv.download.into`` (empty by default, so a plain ``dvc repro`` never downloads).
``--select-in-params`` fetches nothing: it sets ``cv.download.into: [data/coco128]`` and
``cv.dataset.source: data/coco128`` in params.yaml, so the next ``dvc repro`` downloads
and cuts data/tiny_person from the real images (``make cv-data-coco128`` does both).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Runnable as `python tools/download_coco128.py` from any directory.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(description="Fetch the official COCO128 zip and unpack it.")
    parser.add_argument("--out", type=Path, help="folder to fill (default: data/coco128)")
    parser.add_argument("--url", help="zip to fetch (default: cv.download.url)")
    parser.add_argument("--sha256", help="expected sha256 of the zip (cv.download.sha256)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a read may stall")
    parser.add_argument(
        "--select-in-params",
        action="store_true",
        help="set cv.download.into and cv.dataset.source to data/coco128 in params.yaml",
    )
    parser.add_argument("--params", type=Path, help="params file (default: params.yaml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Download (or select) COCO128; return the exit code (errors are raised as MlopsError)."""
    args = build_parser().parse_args(argv)
    from src.config import (
        COCO128_DIR,
        PARAMS_FILE,
        flags_given,
        get_config,
        resolve_path,
        set_param,
        with_overrides,
    )

    if args.select_in_params:
        params_file = args.params or PARAMS_FILE
        set_param(params_file, "cv.download.into", [COCO128_DIR])
        set_param(params_file, "cv.dataset.source", COCO128_DIR)
        print(
            f"{params_file.name}: cv.dataset.source and cv.download.into are now {COCO128_DIR}; "
            "`dvc repro make_tiny_person` downloads it and rebuilds data/tiny_person"
        )
        return 0

    from src.cv.dataset.download import fetch_coco128

    config = get_config(args.params)
    overrides = flags_given(args, ("url", "sha256"))
    params = with_overrides(
        config.cv.download, source="command line", prefix="cv.download", **overrides
    )
    out = args.out if args.out is not None else resolve_path(COCO128_DIR)
    fetch_coco128(
        out,
        params.url,
        sha256=params.sha256,
        timeout=args.timeout,
        echo=lambda line: print(line, flush=True),
    )
    images = sum(1 for _ in (out / "images" / "train2017").iterdir())
    print(f"COCO128: {out} ({images} images)")
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
