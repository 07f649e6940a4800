"""docker-compose.yml and .env.example: valid for Compose, and the essentials the stack needs.

``docker-compose config`` (Debian's package, installed by ``make test-tools``) or
``docker compose config`` validates the file without an engine. The rest is checked in
Python against the Compose spec's essentials, so it runs wherever the tests run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from src.services.doctor import locked_versions
from src.services.settings import STACK_VARIABLES

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "docker" / "mlflow" / "Dockerfile"
_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")
_TOP_LEVEL = {"services", "volumes", "networks", "configs", "secrets", "name"}
_CONDITIONS = {"service_healthy", "service_completed_successfully"}


def example_values() -> dict[str, str]:
    """Return the assignments of .env.example, commented-out ones included."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = match.group(2).strip()
    return values


def active_example_values() -> dict[str, str]:
    """Return the assignments of .env.example that are not commented out."""
    return {
        k: v
        for k, v in example_values().items()
        if re.search(rf"^{k}=", ENV_EXAMPLE.read_text(), re.MULTILINE)
    }


def interpolate(value: str, env: dict[str, str]) -> str:
    """Return ``value`` with Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$ applied."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise ValueError(f"{name}: {arg}")
        if op in (":-", "-") and (current is None or (op == ":-" and current == "")):
            return arg
        return current or ""

    return _REFERENCE.sub(replace, value).replace("$$", "$")


def _walk(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(item, env) for item in node]
    return interpolate(node, env) if isinstance(node, str) else node


def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def resolved_compose() -> dict[str, Any]:
    return _walk(raw_compose(), active_example_values())


# --------------------------------------------------------------------------- compose CLI
def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    return None


def _clean_env() -> dict[str, str]:
    names = set(STACK_VARIABLES) | set(example_values())
    return {k: v for k, v in os.environ.items() if k not in names}


@pytest.mark.skipif(
    _compose_command() is None,
    reason="neither docker-compose nor `docker "
    "compose`: `make test-tools` installs Debian's docker-compose (needs root)",
)
def test_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    assert command is not None
    env_file = tmp_path / "stack.env"
    shutil.copy(ENV_EXAMPLE, env_file)
    result = subprocess.run(
        [*command, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    # Compose itself sees the MLflow server started as the basic-auth app.
    mlflow_command = rendered["services"]["mlflow"]["command"]
    assert mlflow_command[:2] == ["--app-name", "basic-auth"], mlflow_command
    assert set(rendered["services"]) == {
        "minio",
        "minio-init",
        "postgres",
        "mlflow",
        "zenml-server",
    }
    # A missing credential stops compose with the message written in the file.
    env_file.write_text(
        "\n".join(
            line
            for line in ENV_EXAMPLE.read_text().splitlines()
            if not line.startswith("AWS_SECRET_ACCESS_KEY=")
        )
    )
    missing = subprocess.run(
        [*command, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=60,
    )
    assert missing.returncode != 0
    assert "set AWS_SECRET_ACCESS_KEY in .env" in missing.stderr + missing.stdout


# --------------------------------------------------------------------------- essentials
def test_compose_shape_healthchecks_and_dependencies() -> None:
    compose = resolved_compose()
    assert {key for key in compose if not key.startswith("x-")} <= _TOP_LEVEL
    services = compose["services"]
    assert set(services) == {"minio", "minio-init", "postgres", "mlflow", "zenml-server"}
    one_shot = {name for name, svc in services.items() if svc.get("restart") == "no"}
    assert one_shot == {"minio-init"}
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        if name not in one_shot:
            test = service.get("healthcheck", {}).get("test")
            assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, (name, target)
            assert rule["condition"] in _CONDITIONS, (name, target)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
            else:
                assert target in one_shot, (name, target)
    assert services["mlflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["mlflow"]["depends_on"]["minio"]["condition"] == "service_healthy"


def test_ports_loopback_and_named_volumes_only() -> None:
    compose = resolved_compose()
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            assert source in declared, f"{name}: {volume} is not a named volume"
    assert "ports" not in compose["services"]["postgres"], "Postgres stays on the compose network"
    assert declared == {"minio-data", "postgres-data", "mlflow-auth", "zenml-data"}


def test_every_server_authenticates_with_secrets_from_env() -> None:
    services = resolved_compose()["services"]
    mlflow = services["mlflow"]
    command = [str(part) for part in mlflow["command"]]
    assert command[command.index("--app-name") + 1] == "basic-auth"
    env = mlflow["environment"]
    for name in ("MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"):
        assert env[name] == example_values()[name], name
    assert env["MLFLOW_AUTH_CONFIG_PATH"] == "/home/mlflow/basic_auth.ini"
    ini = (DOCKERFILE.parent / "basic_auth.ini").read_text()
    assert "database_uri = sqlite:////home/mlflow/auth/basic_auth.db" in ini
    assert "admin_password" not in ini  # the password is read from the environment only
    assert "mlflow-auth:/home/mlflow/auth" in mlflow["volumes"]
    dockerfile = DOCKERFILE.read_text()
    assert "mlflow[auth]==${MLFLOW_VERSION}" in dockerfile  # Flask-WTF, for the auth app
    assert "COPY --chown=mlflow:mlflow basic_auth.ini" in dockerfile
    zenml = services["zenml-server"]["environment"]
    assert zenml["ZENML_SECRETS_STORE_TYPE"] == "sql"
    assert (
        zenml["ZENML_SECRETS_STORE_ENCRYPTION_KEY"]
        == example_values()["ZENML_SECRETS_STORE_ENCRYPTION_KEY"]
    )


def test_versions_pinned_and_equal_to_the_lock() -> None:
    lock = locked_versions()
    services = raw_compose()["services"]
    for name, service in services.items():
        image = service.get("image", "")
        tag = image.rsplit(":", 1)[-1] if ":" in image else ""
        assert tag and tag != "latest", f"{name}: image {image!r} is not pinned"
    assert services["zenml-server"]["image"] == f"zenmldocker/zenml-server:{lock['zenml']}"
    assert services["mlflow"]["build"]["args"]["MLFLOW_VERSION"] == lock["mlflow"]
    dockerfile = DOCKERFILE.read_text()
    assert f"ARG MLFLOW_VERSION={lock['mlflow']}" in dockerfile
    assert f"ARG BOTO3_VERSION={lock['boto3']}" in dockerfile
    assert re.search(r"^FROM python:3\.11\.\d+-slim", dockerfile, re.MULTILINE)


def test_credentials_only_from_env_and_documented() -> None:
    text = "\n".join(
        line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    referenced = {match.group("name") for match in _REFERENCE.finditer(text)}
    documented = set(example_values())
    assert referenced <= documented, f"undocumented in .env.example: {referenced - documented}"
    for name, service in raw_compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            # A setting naming a kind of store (ZENML_SECRETS_STORE_TYPE) holds no secret.
            if re.search(r"PASSWORD|SECRET|ACCESS_KEY|ROOT_USER", key) and not key.endswith(
                "_TYPE"
            ):
                assert str(value).startswith("${"), f"{name}: {key} is not read from .env"
    # .env.example holds placeholders only, and .env itself is never committed.
    for key, value in example_values().items():
        if re.search(r"PASSWORD|SECRET|ACCESS_KEY|JWT", key):
            assert value.startswith("change-me"), f".env.example: {key} is not a placeholder"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_interpolation_helper_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}-$$HOME", env) == "x-d-e--$HOME"
    with pytest.raises(ValueError, match="UNSET: needed"):
        interpolate("${UNSET:?needed}", env)
