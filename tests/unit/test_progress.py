"""Progress bars: drawn on a terminal, nothing at all on a pipe or a file."""

from __future__ import annotations

import io
import re

from src.progress import StepProgress, byte_progress, is_terminal


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_is_terminal() -> None:
    assert is_terminal(_Terminal()) and not is_terminal(io.StringIO())
    closed = io.StringIO()
    closed.close()  # its isatty() raises ValueError
    assert not is_terminal(closed)
    assert not is_terminal(object())  # type: ignore[arg-type]  # no isatty at all


def test_byte_progress_draws_on_a_terminal_and_ends_its_line() -> None:
    screen = _Terminal()
    with byte_progress(screen, desc="zip") as update:
        assert update is not None
        update(1024, 4096)
        update(4096, 4096)
    drawn = screen.getvalue()
    assert re.search(r"\rzip: 100%\|#+\| 4\.00k/4\.00k \[", drawn) and drawn.endswith("\n")


def test_byte_progress_is_silent_off_a_terminal() -> None:
    pipe = io.StringIO()
    with byte_progress(pipe, desc="zip") as update:
        assert update is None
    assert pipe.getvalue() == ""


def test_byte_progress_ends_its_line_when_the_download_fails() -> None:
    screen = _Terminal()
    try:
        with byte_progress(screen) as update:
            assert update is not None
            update(10, None)
            raise ConnectionError
    except ConnectionError:
        pass
    assert screen.getvalue().endswith("\n") and "10.0B" in screen.getvalue()


def test_step_progress_line_has_done_total_elapsed_and_eta() -> None:
    steps = StepProgress(4, "grid", unit="config", stream=io.StringIO())
    steps.done = 1
    # One configuration took 60 s: three are left, so about 3 minutes.
    line = steps.line(elapsed=60.0)
    assert line.startswith("grid:  25%|") and "| 1/4 [01:00<03:00, 60.00s/config]" in line
    assert len(line) <= 78


def test_step_progress_prints_a_line_per_step_on_a_terminal_only() -> None:
    screen, pipe = _Terminal(), io.StringIO()
    for stream in (screen, pipe):
        steps = StepProgress(2, "grid", unit="config", stream=stream)
        steps.show()
        steps.advance()
        steps.advance()
        steps.advance()  # never past the total
    counts = re.findall(r"\| (\d/\d) \[", screen.getvalue())
    assert counts == ["0/2", "1/2", "2/2", "2/2"] and screen.getvalue().count("\n") == 4
    assert pipe.getvalue() == ""
