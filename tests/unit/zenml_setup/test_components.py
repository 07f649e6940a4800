"""Change lines of a ZenML set-up never show a secret."""

from __future__ import annotations

from src.zenml_setup.components import Registration, masked


def test_change_lines_hide_secrets() -> None:
    line = Registration(
        "dvc remote", "minio", "created", masked({"access_key_id": "AK", "secret_access_key": "SK"})
    ).line
    assert line == "+ dvc remote minio: created (access_key_id=AK, secret_access_key=****)"
    assert Registration("zenml stack", "s", "unchanged").line == "= zenml stack s: unchanged"
