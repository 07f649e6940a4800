"""Authentication on the no-Docker stack: strangers get 401/403, the stack's account works."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid

import pytest

from tests.integration.services.conftest import MLFLOW_ADMIN_PASSWORD, PY, Stack

pytestmark = pytest.mark.integration


def _status(url: str, method: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_mlflow_refuses_anonymous_writes_and_accepts_the_account(stack: Stack) -> None:
    api = f"{stack.settings.mlflow_url}/api/2.0"
    name = json.dumps({"name": f"auth-{uuid.uuid4().hex}"}).encode()
    artifact = f"{api}/mlflow-artifacts/artifacts/auth-test/{uuid.uuid4().hex}.txt"
    json_type = {"Content-Type": "application/json"}
    assert _status(f"{api}/mlflow/experiments/create", "POST", name, json_type) == 401
    assert _status(artifact, "PUT", b"anonymous") == 401
    wrong = "Basic " + base64.b64encode(b"admin:not-the-password").decode()
    assert _status(artifact, "PUT", b"wrong", {"Authorization": wrong}) == 401
    auth = stack.mlflow_auth_header()
    assert _status(f"{api}/mlflow/experiments/create", "POST", name, {**json_type, **auth}) == 200
    assert _status(artifact, "PUT", b"with the account", auth) == 200
    # /health stays open: the compose and no-Docker health checks read it without a user.
    with urllib.request.urlopen(f"{stack.settings.mlflow_url}/health", timeout=10) as answer:
        assert answer.status == 200


def test_mlflow_client_logs_a_metric_with_the_tracking_credentials(stack: Stack) -> None:
    script = (
        "import mlflow\n"
        "mlflow.set_experiment('auth-client')\n"
        "with mlflow.start_run() as run:\n"
        "    mlflow.log_metric('answer', 42.0)\n"
        "print(run.info.run_id)\n"
    )
    env = {"MLFLOW_TRACKING_URI": stack.settings.mlflow_url}
    refused = stack.run(PY, "-c", script, check=False, timeout=120, **env)
    assert refused.returncode != 0 and "401" in refused.stderr, refused.stderr[-2000:]
    result = stack.run(
        PY,
        "-c",
        script,
        timeout=120,
        MLFLOW_TRACKING_USERNAME="admin",
        MLFLOW_TRACKING_PASSWORD=MLFLOW_ADMIN_PASSWORD,
        **env,
    )
    run_id = result.stdout.strip().splitlines()[-1]
    metrics = stack.mlflow_api("runs/get", run_id=run_id)["run"]["data"]["metrics"]
    assert [(metric["key"], metric["value"]) for metric in metrics] == [("answer", 42.0)]


def test_s3_answers_an_anonymous_request_with_403(stack: Stack) -> None:
    for method, path in (("GET", "/"), ("GET", "/dvc"), ("PUT", "/dvc/anonymous.txt")):
        request = urllib.request.Request(
            f"{stack.settings.s3_endpoint_url}{path}",
            data=b"x" if method == "PUT" else None,
            method=method,
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403, (method, path)
        assert b"<Code>AccessDenied</Code>" in refused.value.read()
    assert "anonymous.txt" not in stack.bucket_keys("dvc")


def test_zenml_stores_its_secrets_encrypted(stack: Stack) -> None:
    # The bootstrap stored the S3 secret and the MLflow password through the server.
    zenml_dir = stack.settings.run_dir / "zenml"
    stored = b"".join(path.read_bytes() for path in zenml_dir.glob("zenml.db*"))
    assert b"s3_stack_credentials" in stored, "the secret's name should be there"
    for value in (stack.settings.secret_access_key, MLFLOW_ADMIN_PASSWORD):
        assert value.encode() not in stored, f"{value!r} is stored in clear"
    # The server still decrypts them for the client (the tracker resolves them at run time).
    script = (
        "from src.runtime_env import apply_runtime_defaults\n"
        "apply_runtime_defaults()\n"
        "from zenml.client import Client\n"
        "secret = Client().get_secret('mlflow_stack_credentials')\n"
        "print(secret.secret_values['username'], secret.secret_values['password'])\n"
    )
    shown = stack.run(PY, "-c", script, timeout=180)
    assert shown.stdout.strip().splitlines()[-1] == f"admin {MLFLOW_ADMIN_PASSWORD}"
