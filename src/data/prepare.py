"""Stage ``prepare``: materialise the raw Iris table and split it into train and test CSVs.

The raw table comes from scikit-learn's bundled copy (no network). A user who
drops their own ``data/raw/iris.csv`` keeps it: it is validated and split
instead, and DVC sees its new hash and re-runs everything downstream.

    python -m src.data.prepare [--test-size 0.25] [--random-state 7] [--no-stratify]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from src.config import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    IRIS_TARGET,
    RAW_IRIS_CSV,
    TEST_CSV,
    TRAIN_CSV,
    DataParams,
    flags_given,
    get_config,
    with_overrides,
)
from src.errors import DataError
from src.io_utils import atomic_write, sha256_file
from src.iris.dataset import check_classes, read_iris_csv

if TYPE_CHECKING:
    import pandas as pd


def load_bundled_iris() -> pd.DataFrame:
    """Return Iris from scikit-learn's bundled copy with readable column and class names."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [*IRIS_FEATURES, IRIS_TARGET]
    frame[IRIS_TARGET] = [IRIS_CLASSES[int(i)] for i in frame[IRIS_TARGET]]
    return frame


def split_iris(frame: pd.DataFrame, params: DataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (train, test) frames, stratified by species when ``params.stratify``."""
    from sklearn.model_selection import train_test_split

    try:
        train, test = train_test_split(
            frame,
            test_size=params.test_size,
            random_state=params.random_state,
            stratify=frame[IRIS_TARGET] if params.stratify else None,
        )
    except ValueError as exc:
        raise DataError(
            f"cannot split {len(frame)} rows with test_size={params.test_size}: {exc}"
        ) from None
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # Fixed float format and line endings: same params + same data = same bytes.
    atomic_write(
        path, lambda fh: frame.to_csv(fh, index=False, lineterminator="\n", float_format="%.6g")
    )


def prepare_iris_splits(
    params: DataParams,
    raw_path: Path = RAW_IRIS_CSV,
    train_path: Path = TRAIN_CSV,
    test_path: Path = TEST_CSV,
) -> dict[str, Any]:
    """Write the split CSVs (and the raw table if absent); return a summary of what was written."""
    if raw_path.exists():
        frame = read_iris_csv(raw_path)
        origin = "user-supplied"
    else:
        frame = load_bundled_iris()
        _write_csv(frame, raw_path)
        origin = "scikit-learn bundled copy"
    check_classes(frame, raw_path, params.min_rows_per_class)
    train, test = split_iris(frame, params)
    # Checked before anything is written: a bad split never replaces good ones.
    check_classes(train, f"{train_path} (split of {raw_path})", params.min_rows_per_class)
    check_classes(test, f"{test_path} (split of {raw_path})")
    _write_csv(train, train_path)
    _write_csv(test, test_path)
    return {
        "raw": str(raw_path),
        "origin": origin,
        "rows": {"train": len(train), "test": len(test)},
        "sha256": {
            "raw": sha256_file(raw_path),
            "train": sha256_file(train_path),
            "test": sha256_file(test_path),
        },
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--params", type=Path, default=None, help="params file (default params.yaml)"
    )
    parser.add_argument("--test-size", type=float, help="override data.test_size")
    parser.add_argument("--random-state", type=int, help="override data.random_state")
    parser.add_argument(
        "--no-stratify",
        dest="stratify",
        action="store_false",
        default=None,
        help="override data.stratify to false",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    overrides = flags_given(args, ("test_size", "random_state", "stratify"))
    params = with_overrides(get_config(args.params).data, "command line", "data", **overrides)
    summary = prepare_iris_splits(params)
    print(
        f"prepare: {summary['rows']['train']} train / {summary['rows']['test']} test rows "
        f"from {summary['raw']} ({summary['origin']})"
    )
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
