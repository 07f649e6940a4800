"""The environment defaults every entry point applies, and .env's relative values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from src.runtime_env import apply_runtime_defaults


def test_dotenv_relative_values_are_anchored_beside_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / "conf" / "stack.env"
    dotenv.parent.mkdir()
    dotenv.write_text("ZENML_CONFIG_PATH=./.zenml-server-state\nSTACK_HOST=127.0.0.1\n")
    environ = {"MLOPS_DOTENV": str(dotenv)}
    monkeypatch.setattr(os, "environ", environ)
    apply_runtime_defaults(tmp_path)
    assert environ["ZENML_CONFIG_PATH"] == str(dotenv.parent / ".zenml-server-state")
    assert environ["STACK_HOST"] == "127.0.0.1"
