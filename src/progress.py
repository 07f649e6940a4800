"""Progress of long jobs: drawn on a terminal, silent anywhere else (CI logs, pipes, files).

Bars are tqdm's (already installed with DVC; ultralytics draws its epoch bars the same way).
A bar only appears when its stream is a terminal, so captured output stays one readable line
per event. Two shapes:

* :func:`byte_progress`: a byte bar updated in place while a download streams in.
* :class:`StepProgress`: for jobs whose steps print their own output (a grid of trainings);
  an in-place bar would be overwritten by it, so each finished step prints one full line:
  the bar, steps done of total, elapsed time and the ETA (elapsed per step times steps left).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

#: Called with (bytes received, total bytes or None) while a download streams in.
ByteProgress = Callable[[int, int | None], None]

#: Width of a drawn line: fits an 80-column terminal.
LINE_WIDTH = 78


def is_terminal(stream: TextIO) -> bool:
    """Return True when ``stream`` is an interactive terminal (a bar may be drawn on it)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@contextmanager
def byte_progress(stream: TextIO | None = None, desc: str = "") -> Iterator[ByteProgress | None]:
    """Yield a byte bar's update function for ``stream`` (stderr), or None off a terminal.

    The bar knows its total from the first update (a Content-Length); without one it counts
    bytes. It is closed (its line ended) when the block ends, also on an error, so a
    following message starts on a line of its own.
    """
    stream = sys.stderr if stream is None else stream
    if not is_terminal(stream):
        yield None
        return
    from tqdm import tqdm

    bar: tqdm[None] | None = None

    def update(received: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(
                total=total,
                desc=desc or None,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=stream,
                ncols=LINE_WIDTH,
                mininterval=0.2,
            )
        bar.update(received - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


class StepProgress:
    """One line per finished step on a terminal: bar, done/total, elapsed and ETA."""

    def __init__(
        self, total: int, desc: str, unit: str = "step", stream: TextIO | None = None
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self._started = time.monotonic()

    def line(self, elapsed: float | None = None) -> str:
        """Return the progress line after ``self.done`` steps (``elapsed`` seconds so far)."""
        from tqdm import tqdm

        seconds = time.monotonic() - self._started if elapsed is None else elapsed
        return tqdm.format_meter(
            self.done, self.total, seconds, ncols=LINE_WIDTH, prefix=self.desc, unit=self.unit
        )

    def show(self) -> None:
        """Print the current line on a terminal (nothing elsewhere)."""
        if is_terminal(self.stream):
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more as done, then :meth:`show` the line."""
        self.done = min(self.total, self.done + steps)
        self.show()
