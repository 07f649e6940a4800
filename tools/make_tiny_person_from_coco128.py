"""Cut a YOLO dataset (person only by default) from a source folder (src/cv/dataset/tiny_person.py).

    python tools/make_tiny_person_from_coco128.py               # cv.dataset of params.yaml
    python tools/make_tiny_person_from_coco128.py --download    # fetch real COCO128 first
    python tools/make_tiny_person_from_coco128.py --source DIR --out /tmp/tp --letterbox 160
    python tools/make_tiny_person_from_coco128.py --source my_data --classes 0,2 \
        --train 0.7 --val 0.2 --test 0.1 --max-images 500

Without ``--source`` the folder is ``cv.dataset.source`` (``data/coco128_synthetic``, the
stand-in from tools/make_synthetic_coco128.py). A source is a COCO128-layout folder
(images/train2017, labels/train2017) or any YOLO dataset with a data.yaml. ``--download``
needs internet: it fetches the COCO128 zip (``--url``, default the official one; checked
against ``--sha256`` when given) into ``--source`` (default ``data/coco128``) unless it is
already there, and cuts from it. The split sizes are fractions of the images with a kept
class, at most ``--max-images`` of them. A bad label line stops the build with
``file:line`` and the rule; ``--skip-invalid`` skips and counts such lines instead.
The plot data of ``make dvc-plots`` (boxes per split, box sizes: src/cv/dataset/plot_data.py)
go to ``--plots`` (default ``reports/cv_dataset`` when the dataset goes to cv.dataset.output;
with ``--out``, only when ``--plots`` is given), written after the dataset, from it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Runnable as `python tools/make_tiny_person_from_coco128.py` from any directory.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


#: ``--max-images`` not given (None means ``all``).
_UNSET: object = object()


def _class_ids(text: str) -> list[int]:
    """Return the ids of ``--classes 0,2``."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected class ids like 0,2") from None


def _max_images(text: str) -> int | None:
    """Return the cap of ``--max-images N`` (None for ``all``)."""
    if text.lower() in ("all", "none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number or 'all'") from None


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        description="Cut a YOLO dataset (train/val/test, person only by default) from a source."
    )
    parser.add_argument(
        "--source",
        type=Path,
        help="COCO128-layout folder or YOLO dataset with a data.yaml (default: cv.dataset.source)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch the COCO128 zip into --source (default data/coco128) first (needs internet)",
    )
    parser.add_argument("--url", help="zip for --download (default: cv.download.url)")
    parser.add_argument("--sha256", help="expected sha256 of that zip (cv.download.sha256)")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds a download read may stall"
    )
    parser.add_argument("--out", type=Path, help="dataset folder (default: cv.dataset.output)")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip invalid label lines and count them in the manifest instead of failing",
    )
    parser.add_argument(
        "--classes",
        type=_class_ids,
        help="source class ids to keep, renumbered 0..k-1 in this order (cv.dataset.classes)",
    )
    parser.add_argument("--train", type=float, help="fraction in train (cv.dataset.train)")
    parser.add_argument("--val", type=float, help="fraction in val (cv.dataset.val)")
    parser.add_argument("--test", type=float, help="fraction in test (cv.dataset.test)")
    parser.add_argument(
        "--max-images",
        type=_max_images,
        default=_UNSET,
        help="use at most this many images, or 'all' (cv.dataset.max_images)",
    )
    parser.add_argument("--seed", type=int, help="seed of the split (cv.dataset.seed)")
    parser.add_argument(
        "--letterbox", type=int, help="letterbox images to this square size (cv.dataset.letterbox)"
    )
    parser.add_argument(
        "--plots",
        type=Path,
        help="folder for the DVC plot data (default: reports/cv_dataset unless --out is given)",
    )
    parser.add_argument("--params", type=Path, help="params file (default: params.yaml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the dataset; return the exit code (errors are raised as MlopsError)."""
    args = build_parser().parse_args(argv)
    from src.config import COCO128_DIR, flags_given, get_config, resolve_path, with_overrides
    from src.cv.dataset.download import fetch_coco128
    from src.cv.dataset.manifest import dataset_fingerprint
    from src.cv.dataset.plot_data import PLOTS_DIR, write_plot_data
    from src.cv.dataset.tiny_person import build_tiny_person_dataset

    config = get_config(args.params)
    overrides = flags_given(args, ("classes", "train", "val", "test", "seed", "letterbox"))
    if args.max_images is not _UNSET:
        overrides["max_images"] = args.max_images
    params = with_overrides(
        config.cv.dataset, source="command line", prefix="cv.dataset", **overrides
    )
    if args.source is not None:
        source = args.source
    else:
        source = resolve_path(COCO128_DIR if args.download else params.source)
    output = args.out if args.out is not None else resolve_path(params.output)
    # A dataset cut elsewhere (--out) leaves the pipeline's plot data alone unless asked.
    plots = args.plots
    if plots is None and args.out is None:
        plots = resolve_path(PLOTS_DIR)
    if args.download:
        download = with_overrides(
            config.cv.download,
            source="command line",
            prefix="cv.download",
            **flags_given(args, ("url", "sha256")),
        )
        fetch_coco128(
            source,
            download.url,
            sha256=download.sha256,
            timeout=args.timeout,
            echo=lambda line: print(line, flush=True),
        )
    manifest = build_tiny_person_dataset(source, output, params, skip_invalid=args.skip_invalid)
    splits = manifest["splits"]
    sizes = " / ".join(f"{name} {splits[name]['images']}" for name in ("train", "val", "test"))
    boxes = " / ".join(str(splits[name]["boxes"]) for name in ("train", "val", "test"))
    skipped = manifest["skipped_invalid"]
    print(
        f"tiny person dataset: {output} ({sizes} images; {boxes} boxes; "
        f"{skipped['lines']} invalid lines skipped) fingerprint {dataset_fingerprint(output)[:12]}"
    )
    if plots is not None:
        tables = write_plot_data(output, plots)
        print(f"plot data: {', '.join(map(str, tables))} (make dvc-plots draws them)")
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
