"""The environment defaults every entry point applies, and .env's relative values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from src.runtime_env import apply_runtime_defaults


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


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, ("root", "admin-password-123")),
        # A user named in .env (or the shell) wins over the admin.
        (
            {"MLFLOW_TRACKING_USERNAME": "ci", "MLFLOW_TRACKING_PASSWORD": "ci-password-1234"},
            ("ci", "ci-password-1234"),
        ),
        # Another server never receives the stack's admin password.
        ({"MLFLOW_TRACKING_URI": "http://mlflow.example.org:5000"}, (None, None)),
        ({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5001"}, (None, None)),
    ],
)
def test_stack_mlflow_clients_log_in_as_the_admin_by_default(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: dict[str, str],
    expected: tuple[str | None, str | None],
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "MLFLOW_TRACKING_URI=http://127.0.0.1:5000\n"
        "MLFLOW_AUTH_ADMIN_USERNAME=root\nMLFLOW_AUTH_ADMIN_PASSWORD=admin-password-123\n"
    )
    environ = {"MLOPS_DOTENV": str(dotenv), **extra}
    monkeypatch.setattr(os, "environ", environ)
    apply_runtime_defaults(tmp_path)
    found = (environ.get("MLFLOW_TRACKING_USERNAME"), environ.get("MLFLOW_TRACKING_PASSWORD"))
    assert found == expected
