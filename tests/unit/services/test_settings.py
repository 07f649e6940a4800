"""Stack pieces that need no server: settings, .env anchoring, PID files, S3 persistence,
the doctor's embedded mode, and what the bootstrap refuses."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from src.errors import ConfigError
from src.runtime_env import apply_runtime_defaults
from src.services import processes
from src.services.bootstrap import require_separate_zenml_state
from src.services.doctor import Check, locked_versions, run_checks
from src.services.settings import ServiceSettings
from src.zenml_setup.components import Registration, masked


def test_settings_defaults_select_nothing() -> None:
    settings = ServiceSettings.from_env({})
    assert not settings.selected
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"
    assert settings.mlflow_url == "http://127.0.0.1:5000"
    assert settings.zenml_url == "http://127.0.0.1:8080"


def test_settings_follow_ports_and_urls() -> None:
    settings = ServiceSettings.from_env(
        {
            "S3_PORT": "9100",
            "MLFLOW_PORT": "5100",
            "ZENML_PORT": "8100",
            "MLFLOW_TRACKING_URI": "http://127.0.0.1:5100/",
            "AWS_ACCESS_KEY_ID": "k",
        }
    )
    assert settings.selected
    assert settings.s3_endpoint_url == "http://127.0.0.1:9100"
    assert settings.mlflow_url == "http://127.0.0.1:5100"
    assert settings.zenml_url == "http://127.0.0.1:8100"
    # The embedded store's URI is no server: it neither selects the stack nor is its URL.
    embedded = ServiceSettings.from_env({"MLFLOW_TRACKING_URI": "sqlite:////tmp/x.db"})
    assert not embedded.selected and embedded.mlflow_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"S3_PORT": "nine"}, "S3_PORT='nine': expected a TCP port number"),
        ({"ZENML_PORT": "70000"}, "ZENML_PORT=70000: a TCP port is between 1 and 65535"),
        ({"ZENML_STORE_URL": "localhost:8080"}, "ZENML_STORE_URL='localhost:8080': expected"),
        ({"DVC_REMOTE_URL": "/tmp/remote"}, "DVC_REMOTE_URL='/tmp/remote': expected s3://"),
    ],
)
def test_settings_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        ServiceSettings.from_env(env)


def test_missing_credentials_are_listed() -> None:
    with pytest.raises(ConfigError, match="AWS_SECRET_ACCESS_KEY, ZENML_ADMIN_PASSWORD unset"):
        ServiceSettings.from_env({"AWS_ACCESS_KEY_ID": "k"}).require_credentials()


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


def test_bootstrap_refuses_the_embedded_zenml_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from src.runtime_env import PROJECT_ROOT

    monkeypatch.setenv("ZENML_CONFIG_PATH", str(PROJECT_ROOT / ".zenml-state"))
    with pytest.raises(ConfigError, match=re.escape("ZENML_CONFIG_PATH=./.zenml-server-state")):
        require_separate_zenml_state()


def test_change_lines_hide_secrets() -> None:
    line = Registration(
        "dvc remote", "minio", "created", masked({"access_key_id": "AK", "secret_access_key": "SK"})
    ).line
    assert line == "+ dvc remote minio: created (access_key_id=AK, secret_access_key=****)"
    assert Registration("zenml stack", "s", "unchanged").line == "= zenml stack s: unchanged"


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


def test_s3_objects_survive_save_and_load(tmp_path: Path) -> None:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from src.services.s3_server import _client, load_objects, save_objects

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer("127.0.0.1", port, verbose=False)
    server.start()
    try:
        client = _client("127.0.0.1", port)
        client.create_bucket(Bucket="dvc")
        keys = {"files/md5/ab/cdef": b"\x00\x01binary", "a key/with spaces and é.txt": b"text"}
        for key, body in keys.items():
            client.put_object(Bucket="dvc", Key=key, Body=body)
        assert save_objects(client, tmp_path / "s3-data") == 2
        for key in keys:
            client.delete_object(Bucket="dvc", Key=key)
        client.delete_bucket(Bucket="dvc")
        assert load_objects(client, tmp_path / "s3-data") == 2
        for key, body in keys.items():
            assert client.get_object(Bucket="dvc", Key=key)["Body"].read() == body
    finally:
        server.stop()


def test_doctor_on_the_embedded_default_skips_the_servers(mlflow_store: str) -> None:
    lines: list[str] = []
    results = run_checks(ServiceSettings.from_env({}), echo=lines.append)
    by_name = {result.name: result for result in results}
    assert by_name["versions"].ok and by_name["MLflow store"].ok
    assert by_name["S3 reachable"].ok is None and lines[-1].startswith("– DVC remote")
    assert not [result for result in results if result.ok is False]


def test_check_lines_and_lock_versions() -> None:
    failed = Check("S3 reachable", False, "refused", "make stack-up-local")
    assert failed.line == "✗ S3 reachable       refused — hint: make stack-up-local"
    assert Check("venv", True, "ok", "unused").line == "✓ venv               ok"
    pins = locked_versions()
    assert pins["mlflow"].startswith("3.17.") and pins["zenml"] == "0.98.0"
