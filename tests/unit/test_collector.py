"""``src.collector``: the collector paused through a training's start-up, then set aside."""

from __future__ import annotations

import gc
import itertools
import weakref

import pytest

from src import collector


class _Node:
    """An object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.itself = self


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: no pause and no training before this test's."""
    monkeypatch.setattr(collector, "_pause_number", itertools.count())
    monkeypatch.setattr(collector, "_open", None)


def test_quiet_start_up_pauses_then_sets_the_start_up_heap_aside() -> None:
    assert gc.isenabled()
    with collector.quiet_start_up() as training_starts:
        assert not gc.isenabled()  # start-up: no collection walks the imports
        older = weakref.ref(_Node())
        training_starts()
        assert gc.isenabled()
        newer = weakref.ref(_Node())
        gc.collect(1)  # young generations only: a full walk of the test process takes 0.4 s
        assert newer() is None  # what the training makes is collected as usual
        assert older() is not None  # what the start-up made is set aside
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # and given back afterwards


def test_a_later_training_frees_the_previous_ones_cycles_before_freezing() -> None:
    with collector.quiet_start_up() as training_starts:
        training_starts()
    with collector.quiet_start_up() as training_starts:
        left_over = weakref.ref(_Node())  # e.g. the previous training's trainer
        training_starts()
        assert left_over() is None


@pytest.mark.parametrize("trains", [True, False], ids=["training", "no-training"])
@pytest.mark.parametrize("paused_before", [True, False], ids=["paused", "collecting"])
def test_an_earlier_pause_and_freeze_are_kept(trains: bool, paused_before: bool) -> None:
    if paused_before:
        gc.disable()
    frozen_before = weakref.ref(_Node())
    gc.freeze()
    try:
        with collector.quiet_start_up() as training_starts:
            made_in_start_up = weakref.ref(_Node())
            if trains:
                training_starts()
                assert gc.isenabled() is not paused_before  # the earlier pause is kept
        assert gc.isenabled() is not paused_before
        gc.collect(0)
        assert made_in_start_up() is None  # nothing more was frozen
        assert gc.get_freeze_count() > 0  # and nothing thawed
        assert frozen_before() is not None
    finally:
        gc.unfreeze()
        gc.enable()


def test_quiet_start_up_turns_the_collector_back_on_when_the_start_up_fails() -> None:
    with pytest.raises(RuntimeError), collector.quiet_start_up():
        raise RuntimeError("dataset check failed")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_pause_never_ended_early_leaves_its_objects_in_the_oldest_generation() -> None:
    with collector.quiet_start_up():
        kept = _Node()
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    # Moved there in one step: the next young collection does not walk the whole pause.
    assert any(obj is kept for obj in gc.get_objects(generation=2))


def test_a_later_pause_leaves_its_garbage_to_the_young_collections() -> None:
    with collector.quiet_start_up():
        pass  # the first pause: the process's imports
    with collector.quiet_start_up():
        garbage = weakref.ref(_Node())  # e.g. a second training's figure and store objects
    gc.collect(0)
    assert garbage() is None


@collector.quiet_start_up()
def _collector_enabled() -> bool:
    return gc.isenabled()


def test_a_decorated_function_pauses_on_every_call_and_inside_a_pause() -> None:
    assert [_collector_enabled(), _collector_enabled()] == [False, False]
    assert gc.isenabled()
    with collector.quiet_start_up():
        assert _collector_enabled() is False
        assert not gc.isenabled()  # the inner pause kept the outer one
    assert gc.isenabled()


def test_a_pause_inside_an_unstarted_one_joins_it_and_its_training_ends_both() -> None:
    with collector.quiet_start_up():  # a pipeline runner: ZenML's imports, the stack check
        start_up = weakref.ref(_Node())
        with collector.quiet_start_up() as training_starts:  # its training step
            assert not gc.isenabled()
            training_starts()
            assert gc.isenabled()  # the epochs collect, though the runner paused first
            gc.collect(1)
            assert start_up() is not None  # the runner's start-up is set aside too
        assert gc.isenabled() and gc.get_freeze_count() == 0  # given back by the step
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_joined_pause_that_fails_before_training_leaves_the_start_up_open() -> None:
    with collector.quiet_start_up():  # a grid runner
        with pytest.raises(RuntimeError), collector.quiet_start_up():
            raise RuntimeError("the first configuration's step failed")
        assert not gc.isenabled()  # still its start-up
        with collector.quiet_start_up() as training_starts:  # the next configuration's step
            training_starts()
            assert gc.isenabled() and gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0  # this step's exit gave the start-up back
    assert gc.isenabled()


def test_a_pause_after_a_started_one_does_not_join_it() -> None:
    with collector.quiet_start_up() as first_training_starts:  # a grid runner, trained once
        first_training_starts()
        with collector.quiet_start_up() as training_starts:  # its next training
            assert not gc.isenabled()  # its own start-up, collected before it freezes
            left_over = weakref.ref(_Node())
            training_starts()
            assert left_over() is None
        assert gc.isenabled() and gc.get_freeze_count() > 0  # the first start-up: still set aside
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_joined_pause_gives_the_start_up_back_once_even_when_the_training_fails() -> None:
    with collector.quiet_start_up():
        with pytest.raises(RuntimeError), collector.quiet_start_up() as training_starts:
            training_starts()
            raise RuntimeError("the training step failed")
        assert gc.isenabled() and gc.get_freeze_count() == 0
        kept = weakref.ref(_Node())
        gc.freeze()  # someone else's, after the training step
    try:
        assert gc.get_freeze_count() > 0  # the runner's end did not thaw it
        assert kept() is not None
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("trains", [True, False], ids=["training", "no-training"])
def test_a_freeze_taken_during_the_start_up_is_kept(trains: bool) -> None:
    with collector.quiet_start_up() as training_starts:
        gc.freeze()  # e.g. a library's own, while ZenML starts
        if trains:
            training_starts()
    try:
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
