"""No placeholder secret is accepted; `make secrets` writes real ones, never touching the user's."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from src.errors import ConfigError
from src.runtime_env import read_dotenv
from src.services.doctor import run_checks
from src.services.secrets import MIN_SECRET_LENGTH, SECRET_LENGTHS, write_secrets
from src.services.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / ".env.example"


def test_the_example_values_are_refused_naming_each_variable() -> None:
    settings = ServiceSettings.from_env(read_dotenv(EXAMPLE))
    with pytest.raises(ConfigError) as caught:
        settings.require_credentials()
    message = str(caught.value)
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "ZENML_ADMIN_PASSWORD",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
        "ZENML_SECRETS_STORE_ENCRYPTION_KEY",
    ):
        assert f"{name} is the example's placeholder" in message
    assert "make secrets" in message and "\n" not in message


def test_a_short_secret_is_refused_with_its_length() -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "ops",
        "AWS_SECRET_ACCESS_KEY": "a" * 20,
        "ZENML_ADMIN_PASSWORD": "short-pw",
        "MLFLOW_AUTH_ADMIN_PASSWORD": "eleven-char",
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "f" * 40,
        "ZENML_SECRETS_STORE_ENCRYPTION_KEY": "e" * 40,
    }
    with pytest.raises(ConfigError) as refused:
        ServiceSettings.from_env(env).require_credentials()
    assert "ZENML_ADMIN_PASSWORD has 8 characters, needs 12+" in str(refused.value)
    # MLflow refuses a shorter admin password on its first start: refused here already.
    assert "MLFLOW_AUTH_ADMIN_PASSWORD has 11 characters, needs 12+" in str(refused.value)


def test_the_doctor_fails_on_placeholders() -> None:
    env = {**read_dotenv(EXAMPLE), "ZENML_STORE_URL": "http://127.0.0.1:9"}
    results = run_checks(ServiceSettings.from_env(env), echo=lambda _: None)
    credentials = next(result for result in results if result.name == "credentials")
    assert credentials.ok is False and "placeholder" in credentials.detail


def test_secrets_fill_placeholders_keep_user_values_and_are_owner_only(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    written = write_secrets(dotenv, EXAMPLE)
    assert set(written) == {"AWS_ACCESS_KEY_ID", *SECRET_LENGTHS}
    values = read_dotenv(dotenv)
    assert all("change-me" not in values[name] for name in written)
    assert all(len(values[name]) >= MIN_SECRET_LENGTH for name in SECRET_LENGTHS)
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    ServiceSettings.from_env(values).require_credentials()  # accepted now
    # The rest of the example is kept line for line.
    assert values["STACK_HOST"] == "127.0.0.1" and values["ZENML_ADMIN_USERNAME"] == "admin"
    assert values["MLFLOW_AUTH_ADMIN_USERNAME"] == "admin"
    # Every secret is its own random value (none reused for another).
    assert len({values[name] for name in written}) == len(written)

    text = dotenv.read_text().replace(
        f"ZENML_ADMIN_PASSWORD={values['ZENML_ADMIN_PASSWORD']}", "ZENML_ADMIN_PASSWORD=mine"
    )
    dotenv.write_text(text)
    assert write_secrets(dotenv, EXAMPLE) == []  # nothing left to fill, "mine" is the user's
    assert read_dotenv(dotenv)["ZENML_ADMIN_PASSWORD"] == "mine"


def test_the_server_commands_refuse_the_example_before_starting_anything(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(EXAMPLE.read_text())
    env = {**os.environ, "MLOPS_DOTENV": str(dotenv), "STACK_RUN_DIR": str(tmp_path / "run")}
    for key in ("AWS_ACCESS_KEY_ID", *SECRET_LENGTHS, "STACK_HOST", "STACK_ALLOW_REMOTE"):
        env.pop(key, None)
    for command in (["up"], ["register"], ["check", "--compose"]):
        result = subprocess.run(
            [sys.executable, "-m", "src.services", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "AWS_SECRET_ACCESS_KEY is the example's placeholder" in lines[0]
        if command == ["check", "--compose"]:
            assert "POSTGRES_PASSWORD is the example's placeholder" in lines[0]
    assert not (tmp_path / "run").exists()


def _services(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "src.services", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_remote_stack_host_is_refused_unless_opted_in(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    write_secrets(dotenv, EXAMPLE)
    dotenv.write_text(dotenv.read_text().replace("STACK_HOST=127.0.0.1", "STACK_HOST=0.0.0.0"))
    env = {**os.environ, "MLOPS_DOTENV": str(dotenv), "STACK_RUN_DIR": str(tmp_path / "run")}
    for key in ("STACK_HOST", "STACK_ALLOW_REMOTE", *SECRET_LENGTHS):
        env.pop(key, None)
    for command in (["up"], ["check", "--compose"]):
        refused = _services(env, *command)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "STACK_HOST='0.0.0.0' is not a loopback address" in lines[0]
        assert "STACK_ALLOW_REMOTE=1" in lines[0]
    assert not (tmp_path / "run").exists()
    accepted = _services({**env, "STACK_ALLOW_REMOTE": "1"}, "check", "--compose")
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stderr.startswith("warning: STACK_HOST=0.0.0.0 (STACK_ALLOW_REMOTE=1)")
