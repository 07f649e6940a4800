"""`make yolo-figures` measures real trainings and writes them with the machine they ran on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cv_helpers import make_tiny_person

ROOT = Path(__file__).resolve().parents[3]


def test_figures_name_the_machine_and_replace_only_the_marked_block(tmp_path: Path) -> None:
    data = make_tiny_person(tmp_path / "data")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Title\n\nbefore\n<!-- yolo-figures:start -->\nstale table\n"
        "<!-- yolo-figures:end -->\nafter\n"
    )
    out = tmp_path / "figures.md"
    flags = f"--data {data} --epochs 1 --imgsz 32 --batch 4 --plots false"
    result = subprocess.run(
        [sys.executable, "tools/yolo_figures.py", "--only", "baseline,finetune",
         "--pretrain-epochs", "1", "--train-args", flags, "--out", str(out),
         "--readme", str(readme)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    block = out.read_text()
    cpu = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    )
    assert cpu in block and "torch 2.14.1" in block and "ultralytics 8.4." in block
    assert "Deterministic on this machine" in block
    rows = [line for line in block.splitlines() if line.startswith("| ") and " s |" in line]
    assert len(rows) == 3  # the baseline, then scratch and fine-tuned
    assert "from the 80-class checkpoint" in rows[2]
    text = readme.read_text()
    assert "stale table" not in text and block in text
    assert text.startswith("# Title\n\nbefore\n") and text.endswith("after\n")


def test_a_readme_without_markers_is_one_line(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    result = subprocess.run(
        [sys.executable, "tools/yolo_figures.py", "--only", "", "--out",
         str(tmp_path / "f.md"), "--readme", str(readme)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 3
    assert result.stderr.strip().endswith("markers to write the figures between")
    assert readme.read_text() == "# no markers\n"
