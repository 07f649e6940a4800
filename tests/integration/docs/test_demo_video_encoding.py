"""The demo video's assembly: real frames in, an H.264 video of the demo's bounds out.

The frames are rendered from real command output (``make help``, ``dvc dag``) and the
committed README pictures, as ``make demo-video`` renders its own; only the runs behind
them are fewer, so the test takes seconds instead of the full workspace's minutes.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.demo_video import (
    SIZE,
    assemble,
    caption_times,
    frame_at,
    picture_segment,
    probe,
    terminal_segment,
    write_srt,
)
from tools.screens.images import count_colours

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg: `make test-tools`"),
]


def _output(*command: str) -> str:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_video_is_h264_720p_within_bounds_with_a_picture_at_every_caption(
    tmp_path: Path,
) -> None:
    from PIL import Image, ImageChops

    frames = tmp_path / "frames"
    dvc = str(ROOT / ".venv" / "bin" / "dvc")
    picture = ROOT / "docs" / "images" / "dvc-plots.png"
    segments = [
        terminal_segment("make help", _output("make", "help"), "Every workflow is a make target.",
                         frames, seconds=70, most=2),
        terminal_segment("dvc dag", _output(dvc, "dag"), "The DVC stages and their order.",
                         frames, seconds=55, most=1),
        picture_segment(picture, "The DVC plots page, drawn offline.", frames, seconds=60, parts=2),
    ]  # fmt: skip
    video = assemble(segments, tmp_path / "demo.mp4")
    srt = write_srt(segments, tmp_path / "demo.srt")

    info = probe(video)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.width, info.height) == SIZE
    assert 180 <= info.duration <= 300
    assert abs(info.duration - 185) < 1.5  # each frame held for its segment's share
    assert info.bytes <= 25_000_000
    assert "00:02:05,000 --> 00:03:05,000" in srt.read_text()

    bars = []
    for i, (start, end, caption) in enumerate(caption_times(segments)):
        frame = frame_at(video, (start + end) / 2, tmp_path / f"at-{i}.png")
        assert count_colours(frame) > 100, caption  # drawn text or a picture, not blank
        with Image.open(frame) as image:
            bars.append(image.convert("L").crop((0, SIZE[1] - 60, SIZE[0], SIZE[1])))
    # Each caption time shows its own caption: the bars differ from one segment to the next.
    for before, after in itertools.pairwise(bars):
        assert ImageChops.difference(before, after).getbbox() is not None
