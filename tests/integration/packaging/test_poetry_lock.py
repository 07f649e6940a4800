"""`poetry check --lock` with the pinned Poetry of `make poetry` (a prerequisite of `make test`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
POETRY = ROOT / ".tools" / "poetry" / "bin" / "poetry"


def test_poetry_check_lock_agrees_with_pyproject(tmp_path: Path) -> None:
    if not POETRY.exists():
        pytest.fail(f"{POETRY.relative_to(ROOT)} is missing: `make poetry` installs it")
    # The user's Poetry config and cache stay out of it; the check reads only the two files.
    env = {
        **os.environ,
        "POETRY_CONFIG_DIR": str(tmp_path / "config"),
        "POETRY_CACHE_DIR": str(tmp_path / "cache"),
        "POETRY_VIRTUALENVS_CREATE": "false",
    }
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(POETRY), "check", "--lock", "--no-interaction", "--no-ansi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"poetry check --lock failed (run make lock):\n{output}"
    assert "Warning" not in output, output
