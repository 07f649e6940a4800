"""Read the Iris CSVs every stage uses, checked: columns, numbers, empty cells and classes.

:func:`check_classes` adds what a split must hold to be worth training or testing on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from src.config import IRIS_CLASSES, IRIS_FEATURES, IRIS_TARGET
from src.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = (*IRIS_FEATURES, IRIS_TARGET)
#: scikit-learn's trees compute in float32: a larger magnitude becomes infinity there.
MAX_FEATURE_MAGNITUDE = 3.4e38


def read_iris_csv(path: Path) -> pd.DataFrame:
    """Return the Iris table in ``path`` after checking columns, numbers, NaNs and classes."""
    import pandas as pd

    if not path.is_file():
        raise DataError(f"{path}: file not found; run `make prepare` or `make dvc-repro`")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a readable CSV ({first_line})") from None
    return validate_iris_frame(frame, path)


def validate_iris_frame(frame: pd.DataFrame, source: Path | str) -> pd.DataFrame:
    """Return ``frame`` unchanged if it is a valid Iris table; raise DataError otherwise."""
    import pandas as pd

    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
        )
    extra = [c for c in frame.columns if c not in COLUMNS]
    if extra:
        raise DataError(
            f"{source}: unexpected column(s) {', '.join(map(str, extra))}; "
            f"expected {', '.join(COLUMNS)}"
        )
    if frame.empty:
        raise DataError(f"{source}: no rows")
    for column in IRIS_FEATURES:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.idxmax())
            raise DataError(
                f"{source}: column {column}, row {row + 2}: "
                f"{frame[column].iloc[row]!r} is not a number"
            )
        numbers = values.abs()
        huge = numbers.notna() & ~(numbers <= MAX_FEATURE_MAGNITUDE)
        if huge.any():
            row = int(huge.idxmax())
            raise DataError(
                f"{source}: column {column}, row {row + 2}: {frame[column].iloc[row]!r} is not "
                f"a finite number of magnitude at most {MAX_FEATURE_MAGNITUDE:g}"
            )
    nan_rows = frame[list(COLUMNS)].isna().any(axis=1)
    if nan_rows.any():
        raise DataError(
            f"{source}: row {int(nan_rows.idxmax()) + 2} has an empty value; "
            "every feature and the species must be set"
        )
    unknown = sorted(set(frame[IRIS_TARGET]) - set(IRIS_CLASSES))
    if unknown:
        raise DataError(
            f"{source}: column {IRIS_TARGET}: unknown class(es) {unknown}; "
            f"expected one of {', '.join(IRIS_CLASSES)}"
        )
    frame = frame[list(COLUMNS)].copy()
    frame[list(IRIS_FEATURES)] = frame[list(IRIS_FEATURES)].astype(float)
    return frame


def check_classes(frame: pd.DataFrame, source: Path | str, min_rows_per_class: int = 1) -> None:
    """Raise DataError unless every Iris class has at least ``min_rows_per_class`` rows.

    A split without a class trains a model that cannot predict it, or scores one on
    classes it never saw; both would still "succeed" and replace a good model.
    """
    counts = frame[IRIS_TARGET].value_counts()
    short = {name: int(counts.get(name, 0)) for name in IRIS_CLASSES}
    short = {name: n for name, n in short.items() if n < min_rows_per_class}
    if short:
        found = ", ".join(f"{name}: {n}" for name, n in short.items())
        raise DataError(
            f"{source}: too few rows per class ({found}); every class needs at least "
            f"{min_rows_per_class} (data.min_rows_per_class)"
        )
