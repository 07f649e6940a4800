"""The no-Docker services' PID files and probes, without starting a server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from src.services import processes
from src.services.settings import ServiceSettings


def test_stale_pid_file_is_ignored_and_removed(tmp_path: Path) -> None:
    settings = ServiceSettings.from_env({"STACK_RUN_DIR": str(tmp_path)})
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid_file = tmp_path / "s3.pid"
    # A PID of a process that has exited (or was recycled: other creation time).
    pid_file.write_text(json.dumps({"pid": int(finished.stdout), "create_time": 1.0}))
    assert processes.running_pid(settings, "s3") is None
    assert not pid_file.exists()
    assert processes.stop_services(settings, echo=lambda _: None) == []


def test_port_probe_and_health_of_a_closed_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert processes.port_in_use("127.0.0.1", port)
    assert not processes.port_in_use("127.0.0.1", port)
    assert not processes.http_ok(f"http://127.0.0.1:{port}/health", timeout=1)
