"""The README pictures' checks: blank or out-of-bounds pictures are refused, by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.screens.images import ImageCheckError, check_image, check_total, optimise_png


def _drawn(path: Path, size: tuple[int, int]) -> Path:
    from PIL import Image

    image = Image.new("RGB", size)
    image.putdata([((x * 7) % 256, (y * 3) % 256, (x + y) % 256) for y in range(size[1])
                   for x in range(size[0])])  # fmt: skip
    image.save(path)
    return path


def test_optimise_scales_wide_pictures_to_1280_and_the_check_accepts_them(tmp_path: Path) -> None:
    source = _drawn(tmp_path / "wide.png", (2000, 500))
    info = check_image(optimise_png(source, tmp_path / "out" / "wide.png"))
    assert (info.width, info.height) == (1280, 320)
    assert info.colours > 1000
    assert check_total([info]) == info.bytes


def test_a_blank_picture_is_refused_naming_the_file(tmp_path: Path) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (800, 600), "white").save(blank)
    with pytest.raises(ImageCheckError, match=r"blank\.png: 1 colours, looks blank"):
        check_image(blank)


def test_a_too_small_picture_and_a_too_large_total_are_refused(tmp_path: Path) -> None:
    small = _drawn(tmp_path / "small.png", (200, 100))
    with pytest.raises(ImageCheckError, match=r"small\.png: 200x100 px"):
        check_image(small)
    info = check_image(_drawn(tmp_path / "ok.png", (600, 400)))
    with pytest.raises(ImageCheckError, match="over"):
        check_total([info], max_bytes=info.bytes - 1)
