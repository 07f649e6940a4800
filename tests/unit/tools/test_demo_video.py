"""The demo video's terminal frames: output cleaned as a terminal shows it, cut into screens."""

from __future__ import annotations

from pathlib import Path

from tools.demo_video import Segment, caption_times, clean_output, pages, render_terminal
from tools.screens.images import count_colours


def test_clean_output_drops_colours_and_keeps_what_a_redrawn_line_ends_as() -> None:
    text = "\x1b[32mok\x1b[0m\nEpoch 1/3 10%\rEpoch 1/3 100%\n\tindented\n\n"
    assert clean_output(text) == ["ok", "Epoch 1/3 100%", "    indented"]


def test_pages_keeps_the_first_and_last_screens_when_it_must_choose() -> None:
    lines = [f"line {i}" for i in range(105)]  # 11 screens of 10, the last one of 5
    chosen = pages(lines, rows=10, most=3)
    assert [screen[0] for screen in chosen] == ["line 0", "line 50", "line 100"]
    assert chosen[-1][-1] == "line 104"
    assert len(pages(lines, rows=10)) == 11
    assert pages([], rows=10) == [[]]


def test_caption_times_follow_the_segments_one_after_the_other() -> None:
    segments = [Segment("a", (Path("x.png"),), 10), Segment("b", (Path("y.png"),), 5.5)]
    assert caption_times(segments) == [(0.0, 10.0, "a"), (10.0, 15.5, "b")]


def test_a_terminal_frame_is_720p_with_text_drawn(tmp_path: Path) -> None:
    from PIL import Image

    frame = render_terminal("make doctor", ["✓ venv  ok"] * 40, "A caption.", tmp_path / "f.png")
    with Image.open(frame) as image:
        assert image.size == (1280, 720)
    assert count_colours(frame) > 20
