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


def _strong_env(tmp_path: Path) -> dict[str, str]:
    return {
        "STACK_RUN_DIR": str(tmp_path / "run"),
        "AWS_ACCESS_KEY_ID": "stack-key",
        "AWS_SECRET_ACCESS_KEY": "s" * 40,
        "ZENML_ADMIN_PASSWORD": "z" * 24,
        "MLFLOW_AUTH_ADMIN_USERNAME": "root",
        "MLFLOW_AUTH_ADMIN_PASSWORD": "m" * 24,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "f" * 64,
        "ZENML_SECRETS_STORE_ENCRYPTION_KEY": "e" * 64,
    }


def test_the_mlflow_server_runs_the_basic_auth_app_from_a_private_config(tmp_path: Path) -> None:
    import configparser
    import stat

    settings = ServiceSettings.from_env(_strong_env(tmp_path))
    config = processes.mlflow_auth_config(settings)
    spec = processes.service_specs(settings)["mlflow"]
    command = list(spec.command)
    assert command[command.index("--app-name") + 1] == "basic-auth"
    assert spec.env["MLFLOW_AUTH_CONFIG_PATH"] == str(config)
    assert spec.env["MLFLOW_AUTH_ADMIN_USERNAME"] == "root"
    assert spec.env["MLFLOW_AUTH_ADMIN_PASSWORD"] == "m" * 24
    assert spec.env["MLFLOW_FLASK_SERVER_SECRET_KEY"] == "f" * 64
    parsed = configparser.ConfigParser()
    parsed.read(config)
    database = parsed["mlflow"]["database_uri"]
    assert database == f"sqlite:///{settings.run_dir / 'mlflow' / 'basic_auth.db'}"
    assert parsed["mlflow"]["admin_username"] == "root"
    assert "admin_password" not in parsed["mlflow"]  # read from the environment only
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_the_zenml_server_encrypts_its_secrets_with_the_env_key(tmp_path: Path) -> None:
    settings = ServiceSettings.from_env(_strong_env(tmp_path))
    env = processes.service_specs(settings)["zenml"].env
    assert env["ZENML_SECRETS_STORE_TYPE"] == "sql"
    assert env["ZENML_SECRETS_STORE_ENCRYPTION_KEY"] == "e" * 64
    # The servers' own environments never carry a client's MLflow login.
    assert not any(key.startswith("MLFLOW_TRACKING_") for key in env)


def test_the_databases_exist_owner_only_before_a_server_opens_them(tmp_path: Path) -> None:
    import os
    import stat

    settings = ServiceSettings.from_env(_strong_env(tmp_path))
    old = os.umask(0o022)
    try:
        processes._precreate_private(settings)
    finally:
        os.umask(old)
    for name in ("mlflow/mlflow.db", "mlflow/basic_auth.db", "zenml/zenml.db"):
        path = settings.run_dir / name
        assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_the_servers_find_this_project_from_their_run_folder(tmp_path: Path) -> None:
    import os

    from src.runtime_env import PROJECT_ROOT

    settings = ServiceSettings.from_env(_strong_env(tmp_path))
    for name, spec in processes.service_specs(settings).items():
        assert spec.env["PYTHONPATH"].split(os.pathsep)[0] == str(PROJECT_ROOT), name
