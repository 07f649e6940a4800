"""The no-Docker server stack on free loopback ports, shared by the tests of this folder.

One session fixture starts S3 (moto), the MLflow server and the ZenML server with
``python -m src.services up``, runs the bootstrap (``python -m src.services register``) and
stops them at the end, checking that no process of theirs survives. Everything the
stack writes lives in a temporary folder: its run folder (PID files, logs, SQLite
databases), the ZenML client state, DVC's global/site config, a ``dvc init --no-scm``
repository. The configuration is a ``.env`` file there, read through ``MLOPS_DOTENV``
exactly as the project's own ``.env`` is: the tests select the stack by configuration.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from src.runtime_env import read_dotenv
from src.services.settings import STACK_VARIABLES, ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
PY = sys.executable
#: Variables of the developer's shell or .env that must not leak into the test stack.
_LEAKY_PREFIXES = (
    "MLFLOW_TRACKING",
    "MLFLOW_S3",
    "MLFLOW_HTTP",
    "MLFLOW_AUTH",
    "MLFLOW_FLASK",
    "ZENML_STORE",
    "ZENML_ACTIVE",
    "ZENML_STACK",
    "ZENML_ADMIN",
    "ZENML_CONFIG",
    "ZENML_ARTIFACT",
    "AWS_",
    "S3_",
    "DVC_",
    "STACK_",
    "MLOPS_DOTENV",
    "MINIO_",
    "POSTGRES_",
)
STARTED_AT: dict[str, float] = {}
#: The test stack's MLflow admin; clients log in with it (nothing sets MLFLOW_TRACKING_*).
MLFLOW_ADMIN_PASSWORD = "test-mlflow-password"


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports free on 127.0.0.1 right now."""
    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


@dataclass
class Stack:
    """A running test stack: its environment, settings and folders."""

    root: Path
    env: dict[str, str]
    settings: ServiceSettings
    dvc_repo: Path
    dotenv: Path
    start_seconds: float = 0.0
    pids: dict[str, int] = field(default_factory=dict)

    def run(
        self,
        *args: str,
        timeout: float = 300,
        check: bool = True,
        cwd: Path | None = None,
        **extra_env: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command with the stack's environment; fail the test with its output if asked."""
        result = subprocess.run(
            list(args),
            cwd=cwd or ROOT,
            env={**self.env, **extra_env},
            text=True,
            capture_output=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"{' '.join(args)} exited {result.returncode}\n--- stdout\n"
                f"{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
            )
        return result

    def stack_cli(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run ``python -m src.services ARGS``."""
        return self.run(PY, "-m", "src.services", *args, **kwargs)

    def mlflow_api(self, endpoint: str, **query: str) -> Any:
        """Return the JSON answer of the MLflow REST API at ``/api/2.0/mlflow/<endpoint>``."""
        import urllib.parse
        import urllib.request

        url = f"{self.settings.mlflow_url}/api/2.0/mlflow/{endpoint}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers=self.mlflow_auth_header())
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def mlflow_auth_header(self) -> dict[str, str]:
        """Return the HTTP basic-auth header of the stack's MLflow account (its admin)."""
        import base64

        user, password = self.settings.mlflow_auth()
        return {
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        }

    def bucket_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Return every object key in ``bucket`` under ``prefix`` (listed with boto3)."""
        client = self.settings.s3_client()
        keys: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", [])]
        return keys

    def ensure_up(self) -> None:
        """Start whatever a test stopped (idempotent ``up``)."""
        self.stack_cli("up", timeout=300)


def _clean_environment() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_LEAKY_PREFIXES) and key not in STACK_VARIABLES
    }


def _our_processes(root: Path) -> list[Any]:
    """Return live processes started for this stack (their cwd or command names ``root``)."""
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            cwd = process.info["cwd"] or ""
        except psutil.Error:
            continue
        if process.pid != os.getpid() and (str(root) in cmdline or cwd.startswith(str(root))):
            found.append(process)
    return found


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start the no-Docker stack on free ports, bootstrap it, stop it afterwards."""
    root = tmp_path_factory.mktemp("stack")
    s3_port, mlflow_port, zenml_port = free_ports(3)
    url = "http://127.0.0.1:{}".format
    dotenv = root / ".env"
    # The same variables a user puts in .env (see .env.example); `./` is beside this file.
    dotenv.write_text(
        "\n".join(
            [
                "STACK_HOST=127.0.0.1",
                f"S3_PORT={s3_port}",
                f"MLFLOW_PORT={mlflow_port}",
                f"ZENML_PORT={zenml_port}",
                "AWS_ACCESS_KEY_ID=test-access-key",
                "AWS_SECRET_ACCESS_KEY=test-secret-key-1234",
                "AWS_DEFAULT_REGION=us-east-1",
                "ZENML_ADMIN_USERNAME=admin",
                "ZENML_ADMIN_PASSWORD=test-zenml-password",
                "ZENML_SECRETS_STORE_ENCRYPTION_KEY=test-zenml-secrets-store-key",
                "MLFLOW_AUTH_ADMIN_USERNAME=admin",
                f"MLFLOW_AUTH_ADMIN_PASSWORD={MLFLOW_ADMIN_PASSWORD}",
                "MLFLOW_FLASK_SERVER_SECRET_KEY=test-flask-secret-key-5678",
                "STACK_RUN_DIR=./run",
                f"MLFLOW_TRACKING_URI={url(mlflow_port)}",
                f"S3_ENDPOINT_URL={url(s3_port)}",
                f"ZENML_STORE_URL={url(zenml_port)}",
                "ZENML_STACK_NAME=s3_mlflow_stack",
                "ZENML_CONFIG_PATH=./zenml-client",
                "DVC_REMOTE_URL=s3://dvc/stack-test",
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1",
                "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=1",
                "MLFLOW_HTTP_REQUEST_TIMEOUT=30",
            ]
        )
        + "\n"
    )
    env = {
        **_clean_environment(),
        "MLOPS_DOTENV": str(dotenv),
        # DVC's user- and site-level state, away from $HOME and /var/tmp.
        "DVC_GLOBAL_CONFIG_DIR": str(root / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(root / "dvc-system"),
        "DVC_SITE_CACHE_DIR": str(root / "dvc-site"),
        "DVC_NO_ANALYTICS": "1",
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        "PATH": f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    values = {
        key: str(dotenv.parent / value[2:]) if value.startswith("./") else value
        for key, value in read_dotenv(dotenv).items()
    }
    settings = ServiceSettings.from_env(values)
    dvc_repo = root / "dvc-repo"
    dvc_repo.mkdir()
    handle = Stack(root=root, env=env, settings=settings, dvc_repo=dvc_repo, dotenv=dotenv)

    began = time.monotonic()
    try:
        handle.stack_cli("up", timeout=400)
        handle.start_seconds = time.monotonic() - began
        STARTED_AT["up"] = handle.start_seconds
        handle.pids = {
            name: json.loads((settings.run_dir / f"{name}.pid").read_text())["pid"]
            for name in ("s3", "mlflow", "zenml")
        }
        handle.run(str(Path(PY).parent / "dvc"), "init", "--no-scm", "-q", cwd=dvc_repo)
        bootstrap = time.monotonic()
        handle.stack_cli("register", "--dvc-repo", str(dvc_repo), timeout=300)
        STARTED_AT["register"] = time.monotonic() - bootstrap
        yield handle
    finally:
        subprocess.run(
            [PY, "-m", "src.services", "down"], cwd=ROOT, env=env, capture_output=True, timeout=120
        )
        leftovers = _our_processes(root)
        for process in leftovers:  # only ours: matched by the test's own folder
            process.kill()
        assert not leftovers, f"processes left running: {[p.info for p in leftovers]}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STARTED_AT:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in STARTED_AT.items())
        terminalreporter.write_line(f"no-Docker stack fixture: {parts}")


@dataclass(frozen=True)
class IrisRun:
    """One Iris training through the MLflow server: where its files went."""

    data_dir: Path
    models_dir: Path
    mlflow: dict[str, Any]
    stdout: str


@pytest.fixture(scope="session")
def iris_run(stack: Stack) -> IrisRun:
    """Train Iris once with the unchanged CLI, the environment pointing at the server."""
    from tests.iris_helpers import make_splits

    data_dir = make_splits(stack.root / "iris")
    models_dir = stack.root / "iris-models"
    result = stack.run(
        PY,
        "-m",
        "src.training.train",
        "--data-dir",
        str(data_dir),
        "--models-dir",
        str(models_dir),
        "--run-name",
        "stack-iris",
        timeout=600,
    )
    metadata = json.loads((models_dir / "metadata.json").read_text())
    return IrisRun(data_dir, models_dir, metadata["mlflow"], result.stdout)
