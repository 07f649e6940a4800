"""A throw-away copy of the project where the pictures' runs happen, with stores of its own.

Everything the pictures show is made here by the project's own commands (``make demo``,
the grid runner, ``predict_cv``): the developer's ``mlflow.db``, ``mlartifacts/``,
``.zenml-state/`` and DVC cache are never read or written.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


class WorkspaceError(RuntimeError):
    """A command of the workspace failed; the message names it and its last lines."""


@dataclass(frozen=True)
class Workspace:
    """Folders of one workspace: the project copy, the stores, the logs and the raw shots."""

    root: Path

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def shots(self) -> Path:
        return self.root / "shots"

    @property
    def mlflow_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def done(self) -> Path:
        """Written last by the screenshots step: the workspace is complete."""
        return self.root / "DONE"

    def env(self) -> dict[str, str]:
        """Return the environment of every command here: own stores, offline, venv first."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ZENML_", "MLFLOW_", "DVC_"))
        }
        env |= {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "MLOPS_DOTENV": os.devnull,
            "MLFLOW_TRACKING_URI": self.mlflow_uri,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "ZENML_CONFIG_PATH": str(self.root / "zenml"),
            "ZENML_REPOSITORY_PATH": str(self.repo),
            "ZENML_ANALYTICS_OPT_IN": "false",
            "ZENML_AUTO_OPEN_DASHBOARD": "false",
            "DVC_NO_ANALYTICS": "1",
            "DVC_GLOBAL_CONFIG_DIR": str(self.root / "dvc-global"),
            "DVC_SYSTEM_CONFIG_DIR": str(self.root / "dvc-system"),
            "DVC_SITE_CACHE_DIR": str(self.root / "dvc-site-cache"),
            "YOLO_OFFLINE": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "COLUMNS": "110",
            "TERM": "dumb",
        }
        return env

    def run(
        self, name: str, command: Sequence[str], *, timeout: float = 1800, check: bool = True
    ) -> str:
        """Run ``command`` in the copy, keep its output in ``logs/<name>.log``; return it."""
        self.logs.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        result = subprocess.run(
            list(command),
            cwd=self.repo,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        (self.logs / f"{name}.log").write_text(result.stdout)
        seconds = time.monotonic() - started
        print(f"  {name}: exit {result.returncode} in {seconds:.0f} s", flush=True)
        if check and result.returncode != 0:
            tail = " | ".join(result.stdout.strip().splitlines()[-4:])
            raise WorkspaceError(f"{' '.join(command)} failed (exit {result.returncode}): {tail}")
        return result.stdout


def create_workspace(root: Path) -> Workspace:
    """Return a fresh workspace at ``root``: the working tree copied and committed to git."""
    if root.exists():
        shutil.rmtree(root)
    workspace = Workspace(root.resolve())
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():
            (workspace.repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, workspace.repo / name)
    font = ROOT / ".ultralytics" / "Ultralytics" / "Arial.ttf"
    if font.is_file():  # ultralytics' font, which it would otherwise fetch
        (workspace.repo / ".ultralytics" / "Ultralytics").mkdir(parents=True, exist_ok=True)
        shutil.copy2(font, workspace.repo / ".ultralytics" / "Ultralytics" / "Arial.ttf")
    # The copy's .venv is this one, so its make targets and `make doctor` find the project's venv.
    (workspace.repo / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    git = ["git", "-c", "user.name=mlops", "-c", "user.email=mlops@localhost"]
    env = workspace.env()
    for command in (["git", "init", "-q"], [*git, "add", "-A"], [*git, "commit", "-qm", "copy"]):
        subprocess.run(command, cwd=workspace.repo, env=env, check=True)
    return workspace


def _wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise WorkspaceError(f"{url}: no answer after {seconds:.0f} s") from None
            time.sleep(0.5)


@contextmanager
def mlflow_ui(workspace: Workspace, port: int) -> Iterator[str]:
    """Yield the URL of ``make mlflow-ui``'s server over the workspace's store; stop it after."""
    log = (workspace.logs / "mlflow-ui.log").open("w")
    env = workspace.env() | {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = [sys.executable, "-m", "src.tracking_cli", "ui", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=workspace.repo,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/health", 120)
        yield url
    finally:
        # The server's workers are its children: stop the whole group it leads.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
