"""How paths are shown in messages and manifests: project-relative inside, as given outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.io_utils import display_path, project_relative
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
