"""Reading an Iris CSV: every kind of bad file is one clear error naming it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from src.errors import DataError
from src.iris.dataset import check_classes, read_iris_csv

CSV_HEADER = "sepal_length,sepal_width,petal_length,petal_width,species\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("sepal_length,sepal_width,species\n1,2,setosa\n", "missing column(s) petal_length"),
        (CSV_HEADER.replace("\n", ",extra\n") + "1,2,3,4,setosa,9\n", "unexpected column(s) extra"),
        (CSV_HEADER + "1,2,abc,4,setosa\n", "column petal_length, row 2: 'abc' is not a number"),
        (CSV_HEADER + "1,2,3,4,setosa\n1,,3,4,setosa\n", "row 3 has an empty value"),
        (CSV_HEADER + "1,2,3,4,daisy\n", "unknown class(es) ['daisy']"),
        (CSV_HEADER, "no rows"),
        ("", "not a readable CSV"),
        ('a,b\n"1,2\n', "not a readable CSV"),
    ],
)
def test_bad_raw_csv_is_a_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "iris.csv"
    path.write_text(content)
    with pytest.raises(DataError) as caught:
        read_iris_csv(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


@pytest.mark.parametrize("value", ["inf", "-inf", "1e308"])
def test_values_scikit_learn_cannot_hold_are_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "iris.csv"
    path.write_text(CSV_HEADER + f"1,2,{value},4,setosa\n")
    with pytest.raises(DataError, match=r"column petal_length, row 2: .* is not a finite number"):
        read_iris_csv(path)


def test_a_class_short_of_rows_is_named_with_its_count() -> None:
    frame = pd.DataFrame({"species": ["setosa"] * 5 + ["versicolor"] * 2}, columns=["species"])
    with pytest.raises(DataError) as caught:
        check_classes(frame, "train.csv", min_rows_per_class=3)
    message = str(caught.value)
    assert message.startswith("train.csv: too few rows per class")
    assert "versicolor: 2" in message and "virginica: 0" in message and "setosa" not in message
    assert "data.min_rows_per_class" in message
