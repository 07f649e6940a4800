"""Checks and size optimisation for the pictures the docs show.

A picture is accepted when its size lies in bounds and it has many colours: a blank or
half-loaded page has a handful, a drawn chart or table hundreds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The README's pictures: at most this wide, all of them together under this many bytes.
MAX_WIDTH = 1280
MAX_TOTAL_BYTES = 3_000_000
MIN_COLOURS = 64


class ImageCheckError(ValueError):
    """A picture is too small, too large or blank."""


@dataclass(frozen=True)
class ImageInfo:
    """What a checked picture measures."""

    path: Path
    width: int
    height: int
    colours: int
    bytes: int

    @property
    def line(self) -> str:
        return (
            f"{self.path.name:32} {self.width:5}x{self.height:<5} {self.colours:7} colours "
            f"{self.bytes / 1000:7.1f} kB"
        )


def count_colours(path: Path) -> int:
    """Return how many distinct RGB colours the picture has."""
    from PIL import Image

    with Image.open(path) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 24) or [])


def optimise_png(source: Path, target: Path, *, max_width: int = MAX_WIDTH) -> Path:
    """Write ``source`` to ``target`` as an optimised PNG, scaled down to ``max_width``."""
    from PIL import Image

    with Image.open(source) as opened:
        image = opened.convert("RGB")
    if image.width > max_width:
        height = round(image.height * max_width / image.width)
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    image.save(partial, format="PNG", optimize=True)
    partial.replace(target)
    return target


def check_image(
    path: Path,
    *,
    min_size: tuple[int, int] = (480, 300),
    max_size: tuple[int, int] = (MAX_WIDTH, 2400),
    min_colours: int = MIN_COLOURS,
) -> ImageInfo:
    """Return the picture's measures; raise ImageCheckError naming what is out of bounds."""
    from PIL import Image

    if not path.is_file():
        raise ImageCheckError(f"{path}: missing")
    with Image.open(path) as image:
        width, height = image.size
    if not (min_size[0] <= width <= max_size[0] and min_size[1] <= height <= max_size[1]):
        raise ImageCheckError(
            f"{path}: {width}x{height} px, expected between {min_size[0]}x{min_size[1]} "
            f"and {max_size[0]}x{max_size[1]}"
        )
    colours = count_colours(path)
    if colours < min_colours:
        raise ImageCheckError(f"{path}: {colours} colours, looks blank (expected {min_colours}+)")
    return ImageInfo(path, width, height, colours, path.stat().st_size)


def check_total(infos: list[ImageInfo], *, max_bytes: int = MAX_TOTAL_BYTES) -> int:
    """Return the pictures' total size; raise ImageCheckError when it is over ``max_bytes``."""
    total = sum(info.bytes for info in infos)
    if total > max_bytes:
        raise ImageCheckError(f"pictures total {total / 1e6:.2f} MB, over {max_bytes / 1e6} MB")
    return total
