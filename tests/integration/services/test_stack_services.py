"""The no-Docker stack's processes, its bootstrap, and what wrong credentials produce."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from src.services.settings import BUCKETS
from tests.integration.services.conftest import Stack


def test_stack_starts_within_budget_and_answers(stack: Stack) -> None:
    status = stack.stack_cli("status")
    lines = status.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["s3", "mlflow", "zenml"]
    assert all(" up " in line for line in lines), status.stdout
    # Measured on 2 shared cores: ~30 s; the budget leaves room for a loaded machine.
    assert stack.start_seconds < 240
    with urllib.request.urlopen(f"{stack.settings.zenml_url}/api/v1/info", timeout=10) as answer:
        assert json.loads(answer.read())["version"] == _installed("zenml")


def test_buckets_exist_and_up_is_idempotent(stack: Stack) -> None:
    names = {bucket["Name"] for bucket in stack.settings.s3_client().list_buckets()["Buckets"]}
    assert set(BUCKETS) <= names
    before = _pids(stack)
    again = stack.stack_cli("up")
    assert again.stdout.count("already running") == 3
    assert "buckets: mlflow, zenml, dvc already exist" in again.stdout
    assert _pids(stack) == before, "a second `up` must not restart anything"


def _pids(stack: Stack) -> dict[str, int]:
    return {
        name: json.loads((stack.settings.run_dir / f"{name}.pid").read_text())["pid"]
        for name in ("s3", "mlflow", "zenml")
    }


def test_bootstrap_second_run_changes_nothing(stack: Stack) -> None:
    result = stack.stack_cli("register", "--dvc-repo", str(stack.dvc_repo))
    lines = [line for line in result.stdout.splitlines() if line[:2] in ("+ ", "= ")]
    assert lines and all(line.startswith("= ") for line in lines), result.stdout
    assert "Nothing to change" in result.stdout
    local = (stack.dvc_repo / ".dvc" / "config.local").read_text()
    assert "secret_access_key = test-secret-key-1234" in local
    assert "test-secret-key" not in (stack.dvc_repo / ".dvc" / "config").read_text()


def test_s3_rejects_wrong_keys_like_minio(stack: Stack) -> None:
    client = stack.settings.s3_client(secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as raised:
        client.list_objects_v2(Bucket="dvc")
    assert raised.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_wrong_zenml_password_is_one_line_naming_zenml(stack: Stack) -> None:
    result = stack.stack_cli(
        "register",
        "--dvc-repo",
        str(stack.dvc_repo),
        check=False,
        ZENML_ADMIN_PASSWORD="wrong-password",
    )
    assert result.returncode == 6  # ServiceError
    error = result.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ZenML server "), result.stderr
    assert "refused the login" in error[0] and "ZENML_ADMIN_PASSWORD" in error[0]
    # The failed attempt must not have replaced the client's working login.
    assert "Nothing to change" in stack.stack_cli("register", "--skip-dvc").stdout


def test_wrong_s3_keys_are_named_by_doctor(stack: Stack) -> None:
    result = stack.run(
        "make",
        "-s",
        "doctor",
        f"DOCTOR_ARGS=--dvc-repo {stack.dvc_repo}",
        check=False,
        AWS_SECRET_ACCESS_KEY="not-the-secret",
    )
    assert result.returncode != 0 and "doctor] Error 1" in result.stderr
    s3_line = next(line for line in result.stdout.splitlines() if "S3 reachable" in line)
    assert s3_line.startswith("✗") and "rejected AWS_ACCESS_KEY_ID" in s3_line
    assert "SignatureDoesNotMatch" in s3_line


def _installed(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def test_secrets_at_rest_are_readable_by_their_owner_only(stack: Stack) -> None:
    import stat

    secret_files = [
        stack.dotenv,
        stack.dvc_repo / ".dvc" / "config.local",
        stack.root / "zenml-client" / "credentials.yaml",
        stack.settings.run_dir / "mlflow" / "mlflow.db",
        stack.settings.run_dir / "mlflow" / "basic_auth.db",
        stack.settings.run_dir / "mlflow" / "basic_auth.ini",
        stack.settings.run_dir / "zenml" / "zenml.db",
        stack.settings.run_dir / "zenml" / "jwt_secret",
    ]
    for path in secret_files:
        assert path.is_file(), path
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is readable by others"
