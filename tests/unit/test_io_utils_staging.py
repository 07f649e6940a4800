"""Staging and publishing: several outputs swapped in as one unit, and what dead processes left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from src.errors import OutputError
from src.io_utils import (
    new_staging_dir,
    publish_staged,
    remove_dead_staging,
    staged_directory,
    staging_path,
)


def _old_unit(tmp_path: Path) -> tuple[Path, Path]:
    run = tmp_path / "runs" / "one"
    (run / "weights").mkdir(parents=True)
    (run / "args.yaml").write_text("old\n")
    weights = tmp_path / "models" / "best.pt"
    weights.parent.mkdir()
    weights.write_bytes(b"old weights")
    return run, weights


def _new_unit(run: Path, weights: Path) -> list[tuple[Path, Path]]:
    staged_run = new_staging_dir(run, marker="args.yaml")
    (staged_run / "args.yaml").write_text("new\n")
    staged_weights = staging_path(weights)
    staged_weights.write_bytes(b"new weights")
    return [(staged_run, run), (staged_weights, weights)]


def test_publish_swaps_a_folder_and_a_file_together(tmp_path: Path) -> None:
    run, weights = _old_unit(tmp_path)
    publish_staged(_new_unit(run, weights))
    assert (run / "args.yaml").read_text() == "new\n"
    assert weights.read_bytes() == b"new weights"
    assert [p.name for p in run.parent.iterdir()] == ["one"]
    assert [p.name for p in weights.parent.iterdir()] == ["best.pt"]


def test_a_failed_move_puts_every_old_output_back(tmp_path: Path) -> None:
    run, weights = _old_unit(tmp_path)
    moves = _new_unit(run, weights)
    summary = tmp_path / "models" / "summary.json"
    summary.mkdir()  # a directory where a file belongs: the last move fails
    staged_summary = staging_path(summary)
    staged_summary.write_text("{}")
    with pytest.raises(OutputError, match=r"summary\.json: is a directory, expected a file"):
        publish_staged([*moves, (staged_summary, summary)])
    assert (run / "args.yaml").read_text() == "old\n"
    assert weights.read_bytes() == b"old weights"
    assert summary.is_dir()
    # The staged copies are back where the caller can remove them; no backup is left.
    assert all(staged.exists() for staged, _ in moves)
    assert not [p for p in tmp_path.rglob(".*.old-*")]


def test_staged_directory_keeps_the_old_folder_when_the_block_fails(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "manifest.json").write_text("old")
    with pytest.raises(RuntimeError), staged_directory(target, marker="manifest.json") as staging:
        (staging / "manifest.json").write_text("new")
        raise RuntimeError("build failed")
    assert (target / "manifest.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def _dead_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                             capture_output=True, text=True, check=True)  # fmt: skip
    return int(process.stdout)


def test_remove_dead_staging_cleans_only_what_dead_processes_left(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / "run").mkdir()
    left = tmp_path / f".run.building-{dead}-0123abcd"
    (left / "weights").mkdir(parents=True)
    stale_backup = tmp_path / f".run.old-{dead}-89abcdef"
    stale_backup.mkdir()
    lone_file = tmp_path / f".best.pt.building-{dead}-00000000"
    lone_file.write_bytes(b"half")
    # Died between its two renames: the backup is the only copy of "other", so it goes back.
    orphan = tmp_path / f".other.old-{dead}-11111111"
    orphan.mkdir()
    (orphan / "args.yaml").write_text("kept")
    mine = staging_path(tmp_path / "run")
    mine.mkdir()
    cleaned = remove_dead_staging(tmp_path)
    assert sorted(p.name for p in cleaned) == sorted(
        p.name for p in (left, stale_backup, lone_file, orphan)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "other", "run"])
    assert (tmp_path / "other" / "args.yaml").read_text() == "kept"
    assert str(os.getpid()) in mine.name
