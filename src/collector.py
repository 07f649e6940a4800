"""The garbage collector around a command: no walks over the heap of imports.

A command's start-up (importing MLflow and its SQL store, pandas, scikit-learn, torch,
ultralytics) builds hundreds of thousands of objects, none of them garbage. As they pile up,
CPython's growth rule runs full collections that walk them all again and again, and the
interpreter's shutdown walks them once more. Two cuts (figures: ``tools/bench/NOTES.md``, B1,
B4 and B8, and :func:`skip_the_exit_collection`'s own):

* :func:`quiet_start_up` pauses the collector through a start-up: a YOLO training's until its
  epochs begin (a pipeline runner's from the first line of its ``main``, ZenML's start-up
  included), and the whole of an Iris training or export, whose start-up is nearly all of
  their time;
* :func:`skip_the_exit_collection` spares the process the collections of its shutdown.
"""

from __future__ import annotations

import atexit
import functools
import gc
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Numbers this process's pauses: only the first holds the imports; later ones start clean.
_pause_number = itertools.count()


@dataclass
class _Pause:
    """One start-up: what to give back at its end, and how far it got."""

    # The process's first pause holds what was imported (for a pipeline runner, ZenML's
    # start-up too): none of it garbage worth a collection, so it freezes without one.
    first: bool
    was_enabled: bool  # turned back on when the training starts, and at the end
    started: bool = False  # training_starts() was called
    froze: bool = False  # the heap it froze is not given back yet

    def training_starts(self) -> None:
        if self.started:
            return
        self.started = True
        if not self.first:
            gc.collect()
        if gc.get_freeze_count() == 0:  # someone else's freeze is kept, and left to them
            gc.freeze()
            self.froze = True
        if self.was_enabled:
            gc.enable()

    def thaw(self) -> None:
        if self.froze:
            self.froze = False
            gc.unfreeze()


#: The pause in progress: one opened inside it before its training started joins it.
_open: _Pause | None = None


@contextmanager
def quiet_start_up() -> Iterator[Callable[[], None]]:
    """Yield ``training_starts()``; until it is called, the garbage collector is paused.

    ``training_starts()``, called just before ``model.train``, freezes the start-up's
    objects (``gc.freeze``) and turns the collector back on, so the epochs' collections walk
    only what the training allocates; on exit they are unfrozen. In a process that paused
    before (a ZenML grid, an Optuna study) it collects first, so the previous training's
    cycles (its trainer, its model) are freed, not frozen.

    A pause opened inside one whose training has not started joins it: one start-up, ended
    by the first ``training_starts()`` of either; the first joined pause to exit after that
    unfreezes, and one that exits before (a step that failed) leaves the start-up open. So a
    pipeline runner, paused from the first line of its ``main`` (importing ZenML, checking
    the stack, compiling the pipeline, the data step), stays paused into its first training
    step, whose training ends it. Its later pipeline runs (a grid's, a study's) are collected
    as usual until their own training steps pause.

    A caller that never calls it (the Iris training, the export) stays paused to the end.
    The process's first such pause then moves its objects, the imported libraries, to the
    oldest generation in one step (``gc.freeze`` then ``gc.unfreeze``), or the first
    collection after it would walk them all as new. A later one leaves its objects young, so
    the garbage it made (each further training of ``make experiments``) is collected as usual.

    A pause or a freeze already in place (someone else's) is kept. There is one collector
    per process: pauses in two threads at once would end each other's, and one opened in a
    second thread while another is open would join it.
    """
    global _open
    if _open is not None and not _open.started:
        joined = _open
        try:
            yield joined.training_starts
        finally:
            joined.thaw()
        return
    pause = _Pause(first=next(_pause_number) == 0, was_enabled=gc.isenabled())
    gc.disable()
    _open = pause
    try:
        yield pause.training_starts
    finally:
        _open = None  # an enclosing pause, if any, has started: nothing to join
        if pause.started:
            pause.thaw()
        elif pause.first and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if pause.was_enabled:
            gc.enable()


@functools.cache  # once per process, however many commands a test runs in it
def skip_the_exit_collection() -> None:
    """Spare the process the garbage collections CPython runs while it shuts down.

    With MLflow, SQLAlchemy, torch and ultralytics loaded the heap holds over a million
    objects, and the collections of interpreter shutdown walk them all (measured here: 1.9 s
    after importing them and logging one run, 0.3 s with the heap frozen).
    Registered before the command imports any tool, ``gc.freeze`` runs after the tools' own
    exit handlers (atexit is last in, first out), so their flushing and closing still
    happen; only the final walk over what is left is skipped, whose memory the process is
    about to return anyway.
    """
    atexit.register(gc.freeze)
