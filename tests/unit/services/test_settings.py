"""Service settings from the environment: defaults, ports, URLs, errors naming the variable."""

from __future__ import annotations

import pytest

from src.errors import ConfigError
from src.services.settings import ServiceSettings


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
    expected = (
        "AWS_SECRET_ACCESS_KEY, ZENML_ADMIN_PASSWORD, MLFLOW_AUTH_ADMIN_PASSWORD, "
        "MLFLOW_FLASK_SERVER_SECRET_KEY, ZENML_SECRETS_STORE_ENCRYPTION_KEY unset"
    )
    with pytest.raises(ConfigError, match=expected):
        ServiceSettings.from_env({"AWS_ACCESS_KEY_ID": "k"}).require_credentials()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "mlops.example.org", "::"])
def test_a_host_beyond_loopback_needs_the_opt_in(host: str) -> None:
    with pytest.raises(ConfigError) as refused:
        ServiceSettings.from_env({"STACK_HOST": host})
    message = str(refused.value)
    assert f"STACK_HOST={host!r} is not a loopback address" in message
    assert "STACK_ALLOW_REMOTE=1" in message and "\n" not in message
    opted_in = ServiceSettings.from_env({"STACK_HOST": host, "STACK_ALLOW_REMOTE": "1"})
    assert opted_in.host == host and opted_in.remote_warning
    assert "reachable from other machines" in opted_in.remote_warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_need_no_opt_in(host: str) -> None:
    assert ServiceSettings.from_env({"STACK_HOST": host}).remote_warning is None


def test_mlflow_clients_use_the_admin_unless_a_user_is_named() -> None:
    admin = {"MLFLOW_AUTH_ADMIN_USERNAME": "root", "MLFLOW_AUTH_ADMIN_PASSWORD": "a" * 16}
    assert ServiceSettings.from_env(admin).mlflow_auth() == ("root", "a" * 16)
    named = {**admin, "MLFLOW_TRACKING_USERNAME": "ci", "MLFLOW_TRACKING_PASSWORD": "b" * 16}
    assert ServiceSettings.from_env(named).mlflow_auth() == ("ci", "b" * 16)
    # Secrets are never shown in the settings' repr (logs, tracebacks).
    assert "a" * 16 not in repr(ServiceSettings.from_env(admin))
