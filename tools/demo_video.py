"""Record the 3-5 minute demonstration from real runs: ``python -m tools.demo_video``.

    python -m tools.demo_video                          # reports/demo/DEMO_VIDEO.mp4
    python -m tools.demo_video --workspace /tmp/ws      # reuse make screenshots' runs

Scripted, not hand-made: the terminal segments are the real output of ``make help``,
``make demo``, ``dvc dag``, ``make mlflow-experiments``, the grid and ``make doctor`` in a
workspace of the project (tools/screens/workspace.py; built by the screenshots step if it is
not there yet), rendered as 1280x720 frames in DejaVu Sans Mono; the browser segments are
that step's pictures of the MLflow UI, the DVC plots and the ZenML dashboard. Each segment
has a caption. ffmpeg's concat demuxer shows every frame for its duration and libx264
encodes the lot (yuv420p, which every player reads). The captions also go to a ``.srt``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.screens.workspace import Workspace  # noqa: E402

OUT = ROOT / "reports" / "demo" / "DEMO_VIDEO.mp4"
WORKSPACE = ROOT / "reports" / "demo" / "workspace"
SIZE = (1280, 720)
CAPTION_HEIGHT = 76
#: Frames per second of the encoded stills: captions change on half seconds.
FPS = 2
#: The terminal's grid at 17 px DejaVu Sans Mono.
TERMINAL_COLUMNS = 118
TERMINAL_ROWS = 27
BACKGROUND = (24, 26, 33)
FOREGROUND = (220, 223, 228)
ACCENT = (120, 200, 140)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


class VideoError(RuntimeError):
    """ffmpeg failed or the video is out of its bounds."""


@dataclass(frozen=True)
class Segment:
    """One caption on screen for ``seconds``, over its frames shown one after the other."""

    caption: str
    frames: tuple[Path, ...]
    seconds: float


def _font(name: str, size: int) -> Any:
    import matplotlib
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def clean_output(text: str) -> list[str]:
    """Return terminal output as printable lines: colours dropped, progress redraws collapsed."""
    lines = []
    for raw in _ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        line = raw.rsplit("\r", 1)[-1].expandtabs(4).rstrip()  # what a redrawn bar ends as
        lines.append("".join(ch if ch.isprintable() else " " for ch in line))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def pages(
    lines: Sequence[str], *, rows: int = TERMINAL_ROWS, most: int | None = None
) -> list[list[str]]:
    """Return ``lines`` cut into screens of ``rows``; with ``most``, that many spread evenly.

    The first and the last screen are always kept: how a command starts and what it ends with.
    """
    screens = [list(lines[i : i + rows]) for i in range(0, max(len(lines), 1), rows)]
    if most is None or len(screens) <= most:
        return screens
    if most == 1:
        return [screens[-1]]
    step = (len(screens) - 1) / (most - 1)
    return [screens[round(i * step)] for i in range(most)]


def _caption_bar(image: Any, caption: str) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    top = SIZE[1] - CAPTION_HEIGHT
    draw.rectangle((0, top, SIZE[0], SIZE[1]), fill=(12, 13, 17))
    draw.rectangle((0, top, 8, SIZE[1]), fill=ACCENT)
    font = _font("DejaVuSans.ttf", 24)
    words, line, rows = caption.split(), "", []
    for word in words:  # wrap to the bar's width
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) > SIZE[0] - 60 and line:
            rows.append(line)
            line = word
        else:
            line = trial
    rows.append(line)
    y = top + (CAPTION_HEIGHT - 30 * len(rows[:2])) // 2
    for row in rows[:2]:
        draw.text((28, y), row, font=font, fill=(250, 250, 250))
        y += 30


def render_terminal(command: str, lines: Sequence[str], caption: str, out: Path) -> Path:
    """Write one terminal screen: the command at its prompt, its output, the caption."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SIZE[0], 34), fill=(40, 43, 54))
    for i, colour in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
        draw.ellipse((14 + 22 * i, 11, 26 + 22 * i, 23), fill=colour)
    title = _font("DejaVuSans.ttf", 15)
    draw.text((90, 8), "mlops-reference — terminal", font=title, fill=(170, 174, 186))
    mono, bold = _font("DejaVuSansMono.ttf", 17), _font("DejaVuSansMono-Bold.ttf", 17)
    y = 46
    draw.text((20, y), "$ ", font=bold, fill=ACCENT)
    draw.text((44, y), command, font=bold, fill=(250, 250, 250))
    for line in lines[: TERMINAL_ROWS - 1]:
        y += 21
        if len(line) > TERMINAL_COLUMNS:
            line = line[: TERMINAL_COLUMNS - 1] + "…"
        draw.text((20, y), line, font=mono, fill=FOREGROUND)
    _caption_bar(image, caption)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    return out


def render_picture(picture: Path, caption: str, out: Path, *, part: int = 0) -> Path:
    """Write a screenshot fitted into the frame above the caption (``part``: a lower window)."""
    from PIL import Image

    area = (SIZE[0], SIZE[1] - CAPTION_HEIGHT)
    with Image.open(picture) as opened:
        image = opened.convert("RGB")
    scale = min(area[0] / image.width, 1.0)
    if scale < 1.0:
        image = image.resize((area[0], round(image.height * scale)), Image.Resampling.LANCZOS)
    if area[1] < image.height <= area[1] * 1.5:  # a little too tall: shrink it to fit
        fit = area[1] / image.height
        image = image.resize((round(image.width * fit), area[1]), Image.Resampling.LANCZOS)
    if image.height > area[1]:  # a tall page: show the window ``part`` scrolls to
        top = min(part * area[1], image.height - area[1])
        image = image.crop((0, top, image.width, top + area[1]))
    elif image.width < area[0] * 0.9 and image.height < area[1] * 0.9:
        fit = min(area[0] / image.width, area[1] / image.height)
        image = image.resize(
            (round(image.width * fit), round(image.height * fit)), Image.Resampling.LANCZOS
        )
    frame = Image.new("RGB", SIZE, (236, 238, 242))
    frame.paste(image, ((area[0] - image.width) // 2, (area[1] - image.height) // 2))
    _caption_bar(frame, caption)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.save(out)
    return out


def render_title(heading: str, lines: Sequence[str], caption: str, out: Path) -> Path:
    """Write a title card: a heading and a few lines of text."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((80, 150), heading, font=_font("DejaVuSans-Bold.ttf", 46), fill=(250, 250, 250))
    body = _font("DejaVuSans.ttf", 26)
    for i, line in enumerate(lines):
        draw.text((84, 250 + 44 * i), line, font=body, fill=FOREGROUND)
    _caption_bar(image, caption)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    return out


def caption_times(segments: Sequence[Segment]) -> list[tuple[float, float, str]]:
    """Return each caption's start and end second in the video."""
    times, start = [], 0.0
    for segment in segments:
        times.append((start, start + segment.seconds, segment.caption))
        start += segment.seconds
    return times


def _srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, minutes, secs = millis // 3_600_000, millis // 60_000 % 60, millis // 1000 % 60
    return f"{hours:02}:{minutes:02}:{secs:02},{millis % 1000:03}"


def write_srt(segments: Sequence[Segment], out: Path) -> Path:
    """Write the captions as SubRip subtitles beside the video."""
    blocks = [
        f"{i}\n{_srt_time(start)} --> {_srt_time(end)}\n{caption}\n"
        for i, (start, end, caption) in enumerate(caption_times(segments), 1)
    ]
    out.write_text("\n".join(blocks))
    return out


def assemble(segments: Sequence[Segment], out: Path, *, fps: int = FPS) -> Path:
    """Encode the segments' frames, each for its share of its segment, as H.264 MP4 at ``out``."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise VideoError("no ffmpeg on PATH: `make test-tools` installs Debian's ffmpeg")
    out.parent.mkdir(parents=True, exist_ok=True)
    listing = out.with_name(f".{out.stem}.concat.txt")
    entries = []
    for segment in segments:
        share = segment.seconds / len(segment.frames)
        for frame in segment.frames:
            entries.append(f"file '{frame.resolve()}'\nduration {share:.3f}")
    # The concat demuxer takes the last file's duration only when the file is listed again.
    last = segments[-1].frames[-1].resolve()
    listing.write_text("\n".join([*entries, f"file '{last}'"]) + "\n")
    partial = out.with_name(f".{out.name}.partial.mp4")
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
        "-i", str(listing), "-vf", f"fps={fps},scale={SIZE[0]}:{SIZE[1]},format=yuv420p",
        "-c:v", "libx264", "-preset", "medium", "-tune", "stillimage", "-crf", "22",
        "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(partial),
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise VideoError(f"ffmpeg failed: {result.stderr.strip()[-500:]}")
        partial.replace(out)
    finally:
        listing.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return out


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe says about a video."""

    codec: str
    pix_fmt: str
    width: int
    height: int
    duration: float
    bytes: int


def probe(video: Path) -> VideoInfo:
    """Return the video's codec, pixel format, size, duration (s) and file size (bytes)."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,pix_fmt,width,height:format=duration,size", "-of", "json", str(video)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(result.stdout)
    stream = data["streams"][0]
    return VideoInfo(
        codec=stream["codec_name"],
        pix_fmt=stream["pix_fmt"],
        width=int(stream["width"]),
        height=int(stream["height"]),
        duration=float(data["format"]["duration"]),
        bytes=int(data["format"]["size"]),
    )


def frame_at(video: Path, second: float, out: Path) -> Path:
    """Write the video's frame at ``second`` as a PNG."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-ss", f"{second:.2f}",
         "-i", str(video), "-frames:v", "1", str(out)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out


def terminal_segment(
    command: str, output: str, caption: str, frames: Path, *, seconds: float, most: int
) -> Segment:
    """Return a segment of ``command``'s real output, at most ``most`` screens of it."""
    screens = pages(clean_output(output), most=most)
    slug = re.sub(r"[^a-z0-9]+", "-", command.lower()).strip("-")
    paths = tuple(
        render_terminal(command, screen, caption, frames / f"term-{slug}-{i}.png")
        for i, screen in enumerate(screens)
    )
    return Segment(caption, paths, seconds)


def picture_segment(
    picture: Path, caption: str, frames: Path, *, seconds: float, parts: int = 1
) -> Segment:
    """Return a segment of one screenshot (``parts`` > 1: scrolled down a tall page)."""
    paths = tuple(
        render_picture(picture, caption, frames / f"pic-{picture.stem}-{i}.png", part=i)
        for i in range(parts)
    )
    return Segment(caption, paths, seconds)


#: What each segment says, in the order the video shows them.
CAPTIONS = {
    "title": "mlops-reference: install, run, look at the results. Every frame is from a real run.",
    "help": "Installation: `make install` builds .venv from the hash-pinned lock; "
    "`make help` lists every workflow.",
    "demo": "make demo: dvc repro (Iris data, training, evaluation, export; the YOLO dataset), "
    "six Iris experiments, the YOLO baseline pipeline.",
    "dag": "dvc dag: the stages dvc repro runs, each re-run only when its code, params or "
    "inputs change.",
    "plots": "make dvc-plots: DVC's plots page, drawn offline (Vega bundled from an installed "
    "package).",
    "experiments": "make mlflow-experiments: every experiment and its latest runs with their "
    "key metrics.",
    "runs": "make mlflow-ui: the Iris experiment's runs, one per configuration, side by side.",
    "run": "One Iris run: its parameters, overall and per-class metrics, dataset and model.",
    "confusion": "The run's confusion matrix, logged as an artifact by the evaluation.",
    "grid": "make zenml-grid: one ZenML pipeline run per configuration; the best becomes "
    "champion, the newest challenger.",
    "registry": "The MLflow model registry: the champion and challenger aliases that "
    "make serve uses.",
    "zenml": "make zenml-up: ZenML's dashboard shows the baseline run's DAG, its four steps "
    "and their artifacts.",
    "yolo": "The YOLO run's ultralytics results.png and confusion matrix, logged to MLflow.",
    "predict": "python -m src.predict_cv: the registry's champion detects people in an image.",
    "bus": "Its detections drawn on ultralytics' bus.jpg (a detector trained on the offline "
    "stand-in data).",
    "doctor": "make doctor: one line per part (venv, versions, stores, servers, DVC remote), "
    "non-zero on failure.",
    "end": "Reproduce it: make demo, make test, make screenshots, make demo-video.",
}
TITLE_LINES = (
    "A Makefile-driven MLOps reference, offline by default:",
    "  Iris classifier: DVC pipeline + MLflow tracking and registry",
    "  YOLO-tiny person detector: ultralytics + ZenML + MLflow",
    "Two commands on a fresh clone:  make demo   and   make test",
)
END_LINES = (
    "make demo          the pipelines above, offline",
    "make test          unit and integration tests",
    "make screenshots   the README's pictures, from real runs",
    "make demo-video    this video, from real runs",
)


def script(workspace: Workspace, frames: Path) -> list[Segment]:
    """Return the demonstration: installation, use, results, each from the workspace's runs."""
    make = ["make", "--no-print-directory", f"VENV={Path(sys.executable).parent.parent}"]
    experiments = workspace.run("make-mlflow-experiments", [*make, "mlflow-experiments"])
    dag = workspace.run("dvc-dag", ["dvc", "dag"])
    doctor = workspace.run("make-doctor", [*make, "doctor"], check=False)
    logs, shots, c = workspace.logs, workspace.shots, CAPTIONS

    def term(command: str, output: str, key: str, seconds: float, most: int) -> Segment:
        return terminal_segment(command, output, c[key], frames, seconds=seconds, most=most)

    def pic(name: str, key: str, seconds: float, parts: int = 1) -> Segment:
        return picture_segment(shots / name, c[key], frames, seconds=seconds, parts=parts)

    def title(key: str, heading: str, lines: Sequence[str], seconds: float) -> Segment:
        card = render_title(heading, lines, c[key], frames / f"{key}.png")
        return Segment(c[key], (card,), seconds)

    return [
        title("title", "mlops-reference", TITLE_LINES, 10),
        term("make help", (logs / "make-help.log").read_text(), "help", 16, 2),
        term("make demo", (logs / "make-demo.log").read_text(), "demo", 60, 6),
        term("dvc dag", dag, "dag", 12, 1),
        pic("dvc-plots.png", "plots", 16, parts=2),
        term("make mlflow-experiments", experiments, "experiments", 14, 2),
        pic("mlflow-iris-runs.png", "runs", 12),
        pic("mlflow-iris-run.png", "run", 12),
        pic("mlflow-iris-confusion-matrix.png", "confusion", 10),
        term("make zenml-grid", (logs / "zenml-grid.log").read_text(), "grid", 14, 2),
        pic("mlflow-registry.png", "registry", 12),
        pic("zenml-run-dag.png", "zenml", 14),
        pic("yolo-results.png", "yolo", 12),
        term(
            "python -m src.predict_cv bus.jpg",
            (logs / "predict-bus.log").read_text(),
            "predict",
            8,
            1,
        ),
        pic("yolo-prediction-bus.png", "bus", 10),
        term("make doctor", doctor, "doctor", 12, 1),
        title("end", "Try it", END_LINES, 10),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--workspace", type=Path, default=WORKSPACE,
                        help="runs of make screenshots (built here when missing)")  # fmt: skip
    args = parser.parse_args(argv)
    started = time.monotonic()
    workspace = Workspace(args.workspace.resolve())
    if not workspace.done.is_file():
        from tools.screenshots import make_workspace

        print(f"no complete workspace at {workspace.root}: building it (minutes)", flush=True)
        workspace = make_workspace(workspace.root)
    frames = Path(tempfile.mkdtemp(prefix="demo-frames-"))
    try:
        segments = script(workspace, frames)
        video = assemble(segments, args.out.resolve())
        write_srt(segments, video.with_suffix(".srt"))
    finally:
        shutil.rmtree(frames, ignore_errors=True)
    info = probe(video)
    if not 180 <= info.duration <= 300 or info.bytes > 25_000_000:
        raise VideoError(f"{video}: {info} is outside 180-300 s or over 25 MB")
    print(
        f"{video}: {info.codec} {info.width}x{info.height}, {info.duration:.0f} s, "
        f"{info.bytes / 1e6:.1f} MB, {len(segments)} segments, "
        f"made in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
