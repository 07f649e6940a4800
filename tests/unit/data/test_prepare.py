"""prepare: bundled data, deterministic splits, and validation of a user-supplied CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from src.cli import run_main
from src.config import IRIS_CLASSES, DataParams
from src.data.prepare import main, prepare_iris_splits
from src.errors import DataError
from tests.iris_helpers import make_splits

CSV_HEADER = "sepal_length,sepal_width,petal_length,petal_width,species\n"


def test_bundled_iris_is_written_and_split_stratified(tmp_path: Path) -> None:
    processed = make_splits(tmp_path)
    raw = pd.read_csv(tmp_path / "raw" / "iris.csv")
    train = pd.read_csv(processed / "train.csv")
    test = pd.read_csv(processed / "test.csv")
    assert len(raw) == 150 and len(train) == 120 and len(test) == 30
    assert sorted(test["species"].value_counts().tolist()) == [10, 10, 10]
    assert set(train["species"]) == set(IRIS_CLASSES)


def test_same_params_give_byte_identical_files(tmp_path: Path) -> None:
    first = make_splits(tmp_path / "a")
    second = make_splits(tmp_path / "b")
    for name in ("train.csv", "test.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert (tmp_path / "a/raw/iris.csv").read_bytes() == (tmp_path / "b/raw/iris.csv").read_bytes()


def test_other_seed_gives_another_split(tmp_path: Path) -> None:
    first = make_splits(tmp_path / "a")
    second = make_splits(tmp_path / "b", DataParams(random_state=7))
    assert (first / "test.csv").read_bytes() != (second / "test.csv").read_bytes()


def test_user_supplied_raw_csv_is_kept_and_used(tmp_path: Path) -> None:
    make_splits(tmp_path)
    raw = tmp_path / "raw" / "iris.csv"
    frame = pd.read_csv(raw).iloc[::2]  # a smaller, user-curated table
    frame.to_csv(raw, index=False)
    summary = prepare_iris_splits(
        DataParams(), raw, tmp_path / "p/train.csv", tmp_path / "p/test.csv"
    )
    assert summary["origin"] == "user-supplied"
    assert summary["rows"] == {"train": 60, "test": 15}


def test_bad_raw_csv_leaves_previous_splits_untouched(tmp_path: Path) -> None:
    processed = make_splits(tmp_path)
    before = (processed / "train.csv").read_bytes()
    (tmp_path / "raw" / "iris.csv").write_text(CSV_HEADER + "1,2,3,4,daisy\n")
    with pytest.raises(DataError):
        make_splits(tmp_path)
    assert (processed / "train.csv").read_bytes() == before


def test_cli_bad_override_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_main(main, ["--test-size", "1.5"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: command line: data.test_size = 1.5: Input should be less than 1"


def test_a_raw_table_short_of_a_class_is_refused_and_keeps_the_splits(tmp_path: Path) -> None:
    processed = make_splits(tmp_path)
    before = {p.name: p.read_bytes() for p in processed.iterdir()}
    raw = tmp_path / "raw" / "iris.csv"
    frame = pd.read_csv(raw)
    frame[frame.species != "virginica"].to_csv(raw, index=False)
    with pytest.raises(DataError, match=r"too few rows per class \(virginica: 0\)"):
        make_splits(tmp_path)
    assert {p.name: p.read_bytes() for p in processed.iterdir()} == before
