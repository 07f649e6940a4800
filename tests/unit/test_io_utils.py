"""How paths are shown in messages and manifests: project-relative inside, as given outside."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from src.io_utils import atomic_write_text, current_umask, display_path, project_relative
from src.runtime_env import PROJECT_ROOT


def test_display_path_is_project_relative_inside_and_as_given_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert display_path(PROJECT_ROOT / "data" / "tiny_person") == "data/tiny_person"
    monkeypatch.chdir(PROJECT_ROOT / "src")
    assert display_path(Path("../params.yaml")) == "params.yaml"  # any working directory
    assert display_path(tmp_path / "x.txt") == str(tmp_path / "x.txt")
    monkeypatch.chdir(tmp_path)
    assert display_path(Path("x.txt")) == "x.txt"  # outside: exactly what the user typed
    assert project_relative(Path("x.txt")) is None
    assert project_relative(PROJECT_ROOT) == "."


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    saved = os.umask(umask)
    try:
        assert current_umask() == umask
        written = atomic_write_text(tmp_path / "out.txt", "x")
    finally:
        os.umask(saved)
    assert stat.S_IMODE(written.stat().st_mode) == mode
