"""`make stack-status` on machines with a Docker CLI but no compose, or no engine: exit 0."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _fake(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


@pytest.mark.parametrize(
    ("compose_script", "expected"),
    [
        (None, "the Docker CLI here has no compose"),
        ('[ "$1" = version ] && exit 0; echo "cannot connect" >&2; exit 1', "did not answer"),
    ],
)
def test_stack_status_prints_the_no_docker_services_whatever_docker_lacks(
    tmp_path: Path, compose_script: str | None, expected: str
) -> None:
    _fake(tmp_path, "docker", 'echo "docker: unknown command: $1" >&2; exit 1')
    compose = tmp_path / "no-such-compose"
    if compose_script is not None:
        compose = tmp_path / "fake-compose"
        _fake(tmp_path, compose.name, compose_script)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    env["STACK_RUN_DIR"] = str(tmp_path / "run")
    result = subprocess.run(
        ["make", "-s", "stack-status", f"COMPOSE={compose}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["s3", "mlflow", "zenml"]
