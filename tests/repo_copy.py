"""A throw-away copy of the working tree as a fresh clone would see it (for DVC and make tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def copy_repo(target: Path) -> Path:
    """Copy tracked and untracked-but-not-ignored files to ``target``, git-init it; return it."""
    listing = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listing):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "copy"], cwd=target, check=True)
    return target


def tool_env(**extra: str) -> dict[str, str]:
    """Return an environment whose PATH finds the project's venv first (as `make` does)."""
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "t@e.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "t@e.invalid",
    }
    env.update(extra)
    return env


def copy_with_store(root: Path, migrated_mlflow_db: Path) -> tuple[Path, dict[str, str]]:
    """Return a fresh copy under ``root/repo`` and a tool environment whose MLflow store is
    a copy of the session's migrated one (``root/mlflow.db``)."""
    shutil.copyfile(migrated_mlflow_db, root / "mlflow.db")
    env = tool_env(MLFLOW_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}")
    return copy_repo(root / "repo"), env
