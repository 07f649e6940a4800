"""The training core's pure parts: results.csv read with the project's names, the collector."""

from __future__ import annotations

import gc
import itertools
import weakref
from pathlib import Path

import pytest

from src.cv import training
from src.cv.training import read_results_csv


def test_results_csv_is_read_with_project_names(tmp_path: Path) -> None:
    csv = tmp_path / "results.csv"
    csv.write_text(
        "epoch,time,train/box_loss,metrics/precision(B),metrics/mAP50(B),"
        "metrics/mAP50-95(B),val/cls_loss,lr/pg0\n"
        "1,2.5,3.1,0.1,0.2,0.05,4.0,0.001\n"
        "2,5.0,2.9,nan,0.3,0.07,3.9,0.002\n"
    )
    rows = read_results_csv(csv)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0]["train_box_loss"] == 3.1
    assert rows[1]["val_map50_95"] == 0.07
    assert rows[1]["val_precision"] == 0.0  # non-finite values are kept numeric and comparable
    assert rows[0]["lr_pg0"] == 0.001


class _Node:
    """An object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.itself = self


@pytest.fixture
def first_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: no training has started before."""
    monkeypatch.setattr(training, "_training_number", itertools.count())


def test_quiet_start_up_pauses_then_sets_the_start_up_heap_aside(first_training: None) -> None:
    assert gc.isenabled()
    with training.quiet_start_up() as training_starts:
        assert not gc.isenabled()  # start-up: no collection walks the imports
        older = weakref.ref(_Node())
        training_starts()
        assert gc.isenabled()
        newer = weakref.ref(_Node())
        gc.collect()
        assert newer() is None  # what the training makes is collected as usual
        assert older() is not None  # what the start-up made is set aside
    assert gc.isenabled()
    gc.collect()
    assert older() is None  # and given back afterwards


def test_a_later_training_frees_the_previous_ones_cycles_before_freezing(
    first_training: None,
) -> None:
    with training.quiet_start_up() as training_starts:
        training_starts()
    with training.quiet_start_up() as training_starts:
        left_over = weakref.ref(_Node())  # e.g. the previous training's trainer
        training_starts()
        assert left_over() is None


def test_quiet_start_up_keeps_an_earlier_pause_and_freeze(first_training: None) -> None:
    gc.disable()
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with training.quiet_start_up() as training_starts:
            _Node()
            training_starts()
            assert not gc.isenabled()
            assert gc.get_freeze_count() == before  # nothing more frozen, nothing thawed
        assert not gc.isenabled()
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
        gc.enable()


def test_quiet_start_up_turns_the_collector_back_on_when_the_start_up_fails() -> None:
    with pytest.raises(RuntimeError), training.quiet_start_up():
        raise RuntimeError("dataset check failed")
    assert gc.isenabled() and gc.get_freeze_count() == 0
