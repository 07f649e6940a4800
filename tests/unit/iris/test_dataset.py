"""Reading an Iris CSV: every kind of bad file is one clear error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.errors import DataError
from src.iris.dataset import read_iris_csv

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
